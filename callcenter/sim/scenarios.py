"""Traffic scenarios: who calls, how often, what they do, and which operators answer.

A scenario is YAML (validated by pydantic); the package ships `demo` (gentle demo traffic),
`smoke` (a quick mix for tests) and `outage-storm` (an emergency call storm):

    name: demo
    duration: 3600              # simulated seconds (run_scenario's argument overrides it)
    arrivals: {process: poisson, per_minute: 0.5}     # or process: fixed
    numbers: ["+7916", "+7903", "8495"]                # caller-number prefixes
    callers:
      - name: meter reading by keys
        weight: 3
        keys: "2,1"             # digits pressed, `every` seconds apart (or a list of
        every: 3                # {after: 3, digits: "2"} items)
        speech: [2.5]           # per RECORD FILE: seconds of voice or a WAV path
        patience: {mean: 90, spread: 30}
        talk_time: {mean: 60, spread: 30}
      - {name: pulse phone, weight: 1, pulse: true}
      - {name: gives up in IVR, weight: 1, hangup_after: 6}
    operators:
      - {queue: line1, count: 3, first_extension: 101, answer_after: 3,
         talk_time: {mean: 90, spread: 40}, login: true}
    called_parties: {human: 6, machine: 2, busy: 1, noanswer: 1}
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal, Protocol

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from callcenter.sim.callers import CallerScript, KeyPress
from callcenter.sim.clock import Clock
from callcenter.sim.parties import CalledParties, CalledParty, Duration, Operator, Outcome
from callcenter.sim.results import CallResult, Summary


class PlacedCall(Protocol):
    async def wait(self) -> CallResult: ...


class ScenarioTarget(Protocol):
    """The simulator as a scenario drives it: operators, called parties, inbound calls."""

    @property
    def seed(self) -> int: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def called_parties(self) -> CalledParties: ...

    def add_operator(
        self,
        operator: Operator,
        queues: Sequence[str] = (),
        *,
        penalty: int = 0,
        paused: bool = False,
    ) -> None: ...
    async def place_inbound_call(self, script: CallerScript) -> PlacedCall: ...


class ScenarioError(ValueError):
    """A scenario file is missing or invalid; the message says where."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DurationSpec(_Model):
    mean: float = Field(ge=0)
    spread: float = Field(default=0.0, ge=0)
    low: float = Field(default=0.0, ge=0)

    def duration(self) -> Duration:
        return Duration(self.mean, self.spread, self.low)


Seconds = float | DurationSpec


def _duration(value: Seconds | None) -> Duration | None:
    if value is None:
        return None
    return value.duration() if isinstance(value, DurationSpec) else Duration(float(value))


class KeySpec(_Model):
    after: float = Field(ge=0)
    digits: Annotated[str, Field(pattern=r"^[0-9*#A-D]+$")]


class CallerProfile(_Model):
    name: str
    weight: float = Field(default=1.0, gt=0)
    keys: str | list[KeySpec] = ""
    every: float = Field(default=2.0, ge=0)
    speech: list[float | Path] = Field(default_factory=list)
    pulse: bool = False
    hangup_after: Seconds | None = None
    patience: Seconds | None = None
    talk_time: Seconds | None = None

    @field_validator("keys")
    @classmethod
    def _keys(cls, value: str | list[KeySpec]) -> str | list[KeySpec]:
        if isinstance(value, str):
            for part in value.split(","):
                if part.strip() and not all(ch in "0123456789*#ABCD" for ch in part.strip()):
                    raise ValueError(f"not DTMF digits: {part.strip()!r}")
        return value

    def key_presses(self) -> list[KeyPress]:
        if isinstance(self.keys, str):
            parts = [p.strip() for p in self.keys.split(",") if p.strip()]
            return [KeyPress(self.every, part) for part in parts]
        return [KeyPress(k.after, k.digits) for k in self.keys]

    def script(self, number: str, rng: random.Random) -> CallerScript:
        def sample(value: Seconds | None) -> float | None:
            duration = _duration(value)
            return None if duration is None else duration.sample(rng)

        return CallerScript(
            number=number,
            keys=self.key_presses(),
            speech=list(self.speech),
            pulse=self.pulse,
            hangup_after=sample(self.hangup_after),
            patience=sample(self.patience),
            talk_time=sample(self.talk_time),
        )


class OperatorGroup(_Model):
    queue: str
    count: int = Field(default=1, ge=0)
    first_extension: int = Field(default=101, ge=1)
    answer_after: Seconds | None = 3.0
    talk_time: Seconds = 60.0
    technology: str = "Local"
    login: bool = True  # the simulator adds them to the queue; false: the platform does

    def operators(self) -> list[Operator]:
        answer = _duration(self.answer_after)
        talk = _duration(self.talk_time) or Duration(60.0)
        return [
            Operator(
                str(self.first_extension + i),
                answer_after=answer,
                talk_time=talk,
                technology=self.technology,
            )
            for i in range(self.count)
        ]


class Arrivals(_Model):
    process: Literal["poisson", "fixed"] = "poisson"
    per_minute: float = Field(default=1.0, gt=0)

    def gaps(self, rng: random.Random) -> float:
        mean = 60.0 / self.per_minute
        return rng.expovariate(1.0 / mean) if self.process == "poisson" else mean


class Scenario(_Model):
    name: str
    duration: float = Field(default=600.0, gt=0)
    seed: int | None = None
    arrivals: Arrivals = Field(default_factory=Arrivals)
    numbers: list[str] = Field(default_factory=lambda: ["+7916", "+7903", "+7495", "8495"])
    callers: list[CallerProfile] = Field(min_length=1)
    operators: list[OperatorGroup] = Field(default_factory=list)
    called_parties: dict[Outcome, float] = Field(default_factory=dict)

    def pick_caller(self, rng: random.Random) -> CallerProfile:
        return rng.choices(self.callers, weights=[c.weight for c in self.callers])[0]

    def pick_number(self, rng: random.Random) -> str:
        prefix = rng.choice(self.numbers)
        digits = 12 - len(prefix) if prefix.startswith("+") else 11 - len(prefix)
        return prefix + "".join(str(rng.randrange(10)) for _ in range(max(0, digits)))

    def called_party(self, rng: random.Random) -> CalledParty:
        if not self.called_parties:
            return CalledParty()
        outcomes = list(self.called_parties)
        weights = [self.called_parties[o] for o in outcomes]
        return CalledParty(rng.choices(outcomes, weights=weights)[0])


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: expected a mapping at the top level")
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ScenarioError(f"{source}: {problems}") from None


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A bundled scenario by name (`demo`, `smoke`, `outage-storm`) or a YAML file."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        try:
            return parse_scenario(path.read_text(encoding="utf-8"), str(path))
        except OSError as exc:
            raise ScenarioError(f"{path}: {exc.strerror}") from None
    resource = resources.files("callcenter.sim").joinpath("scenarios", f"{name_or_path}.yaml")
    if not resource.is_file():
        raise ScenarioError(f"no bundled scenario {name_or_path!r} (try: {', '.join(bundled())})")
    return parse_scenario(resource.read_text(encoding="utf-8"), f"scenarios/{name_or_path}.yaml")


def bundled() -> list[str]:
    folder = resources.files("callcenter.sim").joinpath("scenarios")
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


class ScenarioRunner:
    def __init__(self, sim: ScenarioTarget, scenario: Scenario) -> None:
        self.sim = sim
        self.scenario = scenario
        seed = scenario.seed if scenario.seed is not None else sim.seed
        self.rng = random.Random(seed)

    def setup(self) -> None:
        sim, scenario = self.sim, self.scenario
        for group in scenario.operators:
            for operator in group.operators():
                if group.login:
                    sim.add_operator(operator, queues=[group.queue])
                else:
                    sim.add_operator(operator)
        if scenario.called_parties:
            rng = self.rng
            sim.called_parties.default = lambda _rng: scenario.called_party(rng)

    async def run(self, duration: float | None = None) -> Summary:
        self.setup()
        clock = self.sim.clock
        end = clock.now() + (duration if duration is not None else self.scenario.duration)
        handles: list[PlacedCall] = []
        while True:
            gap = self.scenario.arrivals.gaps(self.rng)
            if clock.now() + gap >= end:
                break
            await clock.sleep(gap)
            profile = self.scenario.pick_caller(self.rng)
            script = profile.script(self.scenario.pick_number(self.rng), self.rng)
            handles.append(await self.sim.place_inbound_call(script))
        results = await asyncio.gather(*(handle.wait() for handle in handles))
        return Summary.of(list(results))
