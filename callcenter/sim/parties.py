"""The people the PBX rings: operators (queue members) and called parties (outbound calls).

Both become dialplan extensions, as in the lab: an operator `Local/101@agents` runs
`NoOp / Wait(ring) / Answer / Wait(talk) / Hangup`; a called party on the dialer runs the lab's
`outbound-sim` behaviours (human, machine, busy, noanswer, congestion). For technology
interfaces (PJSIP/101) the same specs become `Phone` behaviours.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from callcenter.sim.dialplan import AmdVerdict, Extension, Step
from callcenter.sim.endpoints import Phone

AGENTS_CONTEXT = "agents"
OUTBOUND_CONTEXT = "outbound-sim"

# As measured in transcript s6 (AMD start -> AMDSTATUS VarSet).
HUMAN_AMD = AmdVerdict("HUMAN", "HUMAN-800-800", 3.136)
MACHINE_AMD = AmdVerdict("MACHINE", "LONGGREETING-1500-1500", 2.22)


@dataclass(frozen=True)
class Duration:
    """A random duration: `mean` seconds, spread `spread` (uniform mean±spread), at least `low`."""

    mean: float
    spread: float = 0.0
    low: float = 0.0

    def sample(self, rng: random.Random) -> float:
        if self.spread <= 0:
            return max(self.low, self.mean)
        return max(self.low, rng.uniform(self.mean - self.spread, self.mean + self.spread))

    @classmethod
    def of(cls, value: float | Duration) -> Duration:
        return value if isinstance(value, Duration) else cls(float(value))


def _num(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") or "0"


@dataclass
class Operator:
    """A simulated operator's phone: `Local/<ext>@agents` (default) or e.g. `PJSIP/<ext>`."""

    extension: str
    name: str | None = None
    answer_after: float | Duration | None = 2.0  # None: never answers
    talk_time: float | Duration = field(default_factory=lambda: Duration(60.0, 30.0, 5.0))
    busy: bool = False
    technology: str = "Local"

    @property
    def member_name(self) -> str:
        return self.name or f"Operator {self.extension}"

    @property
    def state_interface(self) -> str:
        if self.technology.lower() == "local":
            return f"Local/{self.extension}@{AGENTS_CONTEXT}"
        return f"{self.technology}/{self.extension}"

    @property
    def interface(self) -> str:
        """What QueueAdd uses: Local members get `/n` (no optimisation), as in the lab."""
        if self.technology.lower() == "local":
            return f"{self.state_interface}/n"
        return self.state_interface

    def dialplan(self, rng: random.Random) -> Extension:
        steps = [Step("NoOp", f"operator {self.extension} ({self.member_name})")]
        if self.busy:
            steps.append(Step("Busy", "5"))
            return Extension(self.extension, steps)
        if self.answer_after is None:
            steps += [Step("Wait", "3600"), Step("Hangup")]
            return Extension(self.extension, steps)
        ring = Duration.of(self.answer_after).sample(rng)
        if ring > 0:
            steps.append(Step("Wait", _num(ring)))
        talk = Duration.of(self.talk_time).sample(rng)
        steps += [Step("Answer"), Step("Wait", _num(talk)), Step("Hangup")]
        return Extension(self.extension, steps)

    def phone(self, rng: random.Random) -> Phone:
        ring = None if self.answer_after is None else Duration.of(self.answer_after).sample(rng)
        talk = Duration.of(self.talk_time)
        return Phone(answer_after=ring, busy=self.busy, talk_seconds=lambda: talk.sample(rng))


class Outcome(StrEnum):
    HUMAN = "human"
    MACHINE = "machine"
    BUSY = "busy"
    NOANSWER = "noanswer"
    CONGESTION = "congestion"
    INVALID = "invalid"


@dataclass
class CalledParty:
    """Who answers an outbound call, and how (the lab's outbound-sim extensions)."""

    outcome: Outcome = Outcome.HUMAN
    talk_time: float | Duration = 8.0

    def dialplan(self, exten: str, rng: random.Random) -> Extension | None:
        outcome = Outcome(self.outcome)
        if outcome is Outcome.INVALID:
            return None
        if outcome is Outcome.HUMAN:
            talk = Duration.of(self.talk_time).sample(rng)
            steps = [
                Step("Answer"),
                Step("Wait", "0.5"),
                Step("Playback", "hello-world"),
                Step("Wait", _num(talk)),
                Step("Hangup"),
            ]
            return Extension(exten, steps, amd=HUMAN_AMD)
        if outcome is Outcome.MACHINE:
            steps = [
                Step("Answer"),
                Step("Playback", "vm-intro&vm-intro&vm-intro"),
                Step("Wait", "5"),
                Step("Hangup"),
            ]
            return Extension(exten, steps, amd=MACHINE_AMD)
        if outcome is Outcome.BUSY:
            return Extension(exten, [Step("Busy", "5")])
        if outcome is Outcome.CONGESTION:
            return Extension(exten, [Step("Congestion", "5")])
        return Extension(exten, [Step("Ringing"), Step("Wait", "60")])

    def phone(self, rng: random.Random) -> Phone:
        outcome = Outcome(self.outcome)
        talk = Duration.of(self.talk_time)
        amd = MACHINE_AMD if outcome is Outcome.MACHINE else HUMAN_AMD
        return Phone(
            answer_after=None if outcome is Outcome.NOANSWER else 1.0,
            busy=outcome is Outcome.BUSY,
            congestion=outcome in (Outcome.CONGESTION, Outcome.INVALID),
            talk_seconds=lambda: talk.sample(rng),
            amd=amd,
        )


@dataclass
class CalledParties:
    """Called-party behaviour by number, with a default (fixed or a weighted random mix)."""

    by_number: dict[str, CalledParty] = field(default_factory=dict)
    default: CalledParty | Callable[[random.Random], CalledParty] = field(
        default_factory=CalledParty
    )

    def for_number(self, number: str, rng: random.Random) -> CalledParty:
        if number in self.by_number:
            return self.by_number[number]
        try:
            return CalledParty(Outcome(number))  # lab names: human, machine, busy ...
        except ValueError:
            pass
        if number == "nosuchexten":
            return CalledParty(Outcome.INVALID)
        default = self.default
        return default(rng) if callable(default) else default
