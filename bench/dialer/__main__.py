"""`python -m bench.dialer`: predictive vs progressive vs ratio-feedback dialling.

Runs the seeded simulation (bench/dialer/simulation.py) for 5, 20 and 50 operators at 15 %,
30 % and 60 % live-answer rates and prints, per case and dialer, the abandon rate (abandoned
calls as a share of live answers) and the operators' talk minutes per operator-hour (60 is
talking all the time; wrap-up alone keeps the ceiling near 55 here). The last line sums up the
20-operator, 30 % case:

    dialer: abandon_pct=X talk_min_per_h=Y progressive=P feedback=F

X and Y are the predictive dialer's; P and F are the talk minutes per operator-hour of the
progressive and ratio-feedback dialers in the same case.
"""

from __future__ import annotations

import argparse
import sys
import time

from bench.dialer.simulation import Result, Scenario, simulate
from bench.dialer.strategies import PredictiveStrategy, ProgressiveStrategy, RatioFeedbackStrategy

OPERATORS = (5, 20, 50)
ANSWER_RATES = (0.15, 0.30, 0.60)
HEADLINE = (20, 0.30)


def run_case(scenario: Scenario) -> dict[str, Result]:
    strategies = (PredictiveStrategy(), ProgressiveStrategy(), RatioFeedbackStrategy())
    return {s.name: simulate(scenario, s) for s in strategies}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dialer", description=__doc__)
    parser.add_argument("--hours", type=float, default=2.0, help="measured hours per case")
    parser.add_argument("--seed", type=int, default=20261123)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    print(
        f"dialer simulation: {args.hours:g} h measured after a 15 min warm-up, seed {args.seed}; "
        "abandon % of live answers, talk min per operator-hour"
    )
    header = (
        f"{'ops':>4} {'answer':>6} | {'predictive':>16} | {'progressive':>16} | "
        f"{'feedback':>16} | {'pred/prog':>9}"
    )
    print(header)
    print("-" * len(header))
    headline: dict[str, Result] = {}
    for operators in OPERATORS:
        for rate in ANSWER_RATES:
            scenario = Scenario(
                operators=operators, answer_rate=rate, hours=args.hours, seed=args.seed
            )
            results = run_case(scenario)
            if (operators, rate) == HEADLINE:
                headline = results
            cells = " | ".join(
                f"{r.abandon_pct:5.2f}% {r.talk_min_per_h:6.2f} min"
                for r in (results["predictive"], results["progressive"], results["feedback"])
            )
            ratio = results["predictive"].talk_min_per_h / results["progressive"].talk_min_per_h
            print(f"{operators:>4} {rate:>6.0%} | {cells} | {ratio:>8.2f}x", flush=True)
    print(f"({time.perf_counter() - started:.1f} s)")
    pred, prog, feed = headline["predictive"], headline["progressive"], headline["feedback"]
    print(
        f"dialer: abandon_pct={pred.abandon_pct:.2f} talk_min_per_h={pred.talk_min_per_h:.2f} "
        f"progressive={prog.talk_min_per_h:.2f} feedback={feed.talk_min_per_h:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
