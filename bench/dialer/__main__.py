"""`python -m bench.dialer`: predictive vs progressive vs ratio-feedback dialling.

Runs the seeded simulation (bench/dialer/simulation.py) of a 20-operator campaign over
`--seeds` seeds (1..20) and four conditions, each strategy meeting the same calls:

- stationary: 30 % live answers all along;
- drift: the live-answer rate drifts from 40 % to 15 % over the run;
- pauses: operators take breaks after calls, about 10 % of their time;
- amd-errors: answering-machine detection is wrong 5 % of the time both ways.

Each run is `--hours` measured hours after a 15-minute warm-up. Per condition it prints the
means over seeds of the operators' talk minutes per operator-hour (60 is talking all the time;
wrap-up alone keeps the ceiling near 55), the abandon rate (abandoned calls as a share of live
answers), the worst rolling hour, and the lowest predictive/progressive ratio of any seed. The
last line sums up:

    dialer: talk_min_per_h=Y worst_hour_pct=W abandon_pct=A progressive=P feedback=F seeds=20

Y, A, P and F are means over seeds and conditions (Y and A the predictive dialer's, P and F
the talk minutes of the progressive and ratio-feedback dialers); W is the predictive dialer's
worst abandon rate over any rolling hour of any run (warm-up included).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from bench.dialer.simulation import Result, Scenario, simulate
from bench.dialer.strategies import PredictiveStrategy, ProgressiveStrategy, RatioFeedbackStrategy

OPERATORS = 20
CONDITIONS: dict[str, dict[str, Any]] = {
    "stationary": {"answer_rate": 0.30},
    "drift": {"answer_rate": 0.40, "answer_rate_end": 0.15},
    "pauses": {"answer_rate": 0.30, "pause_share": 0.10},
    "amd-errors": {"answer_rate": 0.30, "amd_error": 0.05},
}
STRATEGIES = ("predictive", "progressive", "feedback")


@dataclass
class Tally:
    talk: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STRATEGIES})
    abandon: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STRATEGIES})
    worst: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)

    def add(self, figures: dict[str, tuple[float, float, float]]) -> None:
        """`figures`: (talk, abandon %, worst hour %) per strategy."""
        for name, (talk, abandon, _) in figures.items():
            self.talk[name].append(talk)
            self.abandon[name].append(abandon)
        self.worst.append(figures["predictive"][2])
        self.ratios.append(figures["predictive"][0] / figures["progressive"][0])


def run_case(scenario: Scenario) -> dict[str, Result]:
    strategies = (PredictiveStrategy(), ProgressiveStrategy(), RatioFeedbackStrategy())
    return {s.name: simulate(scenario, s) for s in strategies}


def _figures(scenario: Scenario) -> dict[str, tuple[float, float, float]]:
    """(talk, abandon %, worst hour %) per strategy: all a tally needs, cheap to send back."""
    return {
        name: (r.talk_min_per_h, r.abandon_pct, r.worst_hour_pct())
        for name, r in run_case(scenario).items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dialer", description=__doc__)
    parser.add_argument("--hours", type=float, default=2.0, help="measured hours per run")
    parser.add_argument("--seeds", type=int, default=20, help="seeds 1..N per condition")
    parser.add_argument("--verbose", action="store_true", help="a line per seed")
    parser.add_argument(
        "--jobs", type=int, default=1, help="runs at once (the figures do not depend on it)"
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    print(
        f"dialer simulation: {OPERATORS} operators, {args.hours:g} h measured after a 15 min "
        f"warm-up, seeds 1-{args.seeds}; talk min per operator-hour, abandon % of live answers"
    )
    header = (
        f"{'condition':<11} | {'predictive':>12} {'abandon':>7} {'worst h':>7} | "
        f"{'progressive':>11} | {'feedback':>8} {'abandon':>7} | {'pred/prog min':>13}"
    )
    print(header)
    print("-" * len(header))
    tallies: dict[str, Tally] = {}
    pool = ProcessPoolExecutor(args.jobs) if args.jobs > 1 else None
    for condition, options in CONDITIONS.items():
        tally = tallies[condition] = Tally()
        scenarios = [
            Scenario(operators=OPERATORS, hours=args.hours, seed=seed, **options)
            for seed in range(1, args.seeds + 1)
        ]
        runs = pool.map(_figures, scenarios) if pool else map(_figures, scenarios)
        for seed, figures in enumerate(runs, start=1):
            tally.add(figures)
            if args.verbose:
                pred, prog = figures["predictive"], figures["progressive"]
                print(
                    f"  {condition} seed {seed}: {pred[0]:.2f} min {pred[1]:.2f}% "
                    f"worst {pred[2]:.2f}% progressive {prog[0]:.2f}",
                    flush=True,
                )
        mean = statistics.fmean
        print(
            f"{condition:<11} | {mean(tally.talk['predictive']):8.2f} min "
            f"{mean(tally.abandon['predictive']):6.2f}% {max(tally.worst):6.2f}% | "
            f"{mean(tally.talk['progressive']):7.2f} min | "
            f"{mean(tally.talk['feedback']):4.2f} min {mean(tally.abandon['feedback']):6.2f}% | "
            f"{min(tally.ratios):12.2f}x",
            flush=True,
        )
    if pool is not None:
        pool.shutdown()
    print(f"({time.perf_counter() - started:.1f} s)")

    def overall(values: str, strategy: str) -> float:
        return statistics.fmean(v for t in tallies.values() for v in getattr(t, values)[strategy])

    worst = max(w for t in tallies.values() for w in t.worst)
    print(
        f"dialer: talk_min_per_h={overall('talk', 'predictive'):.2f} worst_hour_pct={worst:.2f} "
        f"abandon_pct={overall('abandon', 'predictive'):.2f} "
        f"progressive={overall('talk', 'progressive'):.2f} "
        f"feedback={overall('talk', 'feedback'):.2f} seeds={args.seeds}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
