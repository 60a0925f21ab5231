"""Simulated callers: what they press and when, what they say, how patient they are.

A caller is a Local channel pair, exactly as in the lab captures: `;2` runs the caller's
script in the `callers` context (NoOp, Answer, Wait, SendDTMF ..., Hangup, so its Newexten
events look like the lab's), `;1` is the call the PBX sees entering the IVR. Timings that
depend on what happens to the call (patience in the queue, talk time with an operator) are
timers that make the script jump to its `hangup` priority.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from callcenter.sim.apps import DTMF_DIGIT_SECONDS
from callcenter.sim.channels import SCRIPT, Channel
from callcenter.sim.clock import Clock, Timer
from callcenter.sim.dialplan import Extension, Step
from callcenter.sim.wav import Samples, conversation, read_wav_8k


class Timed(Protocol):
    """All a caller's script needs from the PBX: its clock."""

    @property
    def clock(self) -> Clock: ...


CALLERS_CONTEXT = "callers"
SECONDS_PER_DIGIT = DTMF_DIGIT_SECONDS


@dataclass(frozen=True)
class KeyPress:
    """Press `digits` `after` seconds after the previous key (the first: after the IVR
    starts talking, since a caller's Answer waits for the first audio)."""

    after: float
    digits: str


@dataclass
class CallerScript:
    number: str = "+79161234567"
    name: str | None = None
    keys: Sequence[KeyPress] = ()
    speech: Sequence[Path | float] = ()  # one item per RECORD FILE: a WAV, or seconds of voice
    hangup_after: float | None = None  # hang up this long after answering (e.g. in the IVR)
    patience: float | None = None  # give up after waiting this long in a queue
    talk_time: float | None = None  # hang up this long after reaching an operator
    pulse: bool = False  # rotary phone: sends no DTMF at all
    max_duration: float = 3600.0
    label: str = "caller"  # the extension in the callers context
    variables: Mapping[str, str] = field(default_factory=dict)
    channel_id: str | None = None

    @classmethod
    def pressing(cls, digits: str, every: float = 2.0, **kwargs: Any) -> CallerScript:
        """A caller pressing each of `digits` `every` seconds."""
        keys = [KeyPress(every, d) for d in digits]
        return cls(keys=keys, **kwargs)

    def describe(self) -> str:
        if self.pulse or not self.keys:
            return "caller without DTMF"
        return "caller presses " + " ".join(k.digits for k in self.keys)

    def extension(self) -> Extension:
        steps = [Step("NoOp", self.describe()), Step("Answer")]
        elapsed = 0.0
        if not self.pulse:
            for key in self.keys:
                steps.append(Step("Wait", _num(key.after)))
                steps.append(Step("SendDTMF", key.digits))
                elapsed += key.after + SECONDS_PER_DIGIT * len(key.digits)
        if self.hangup_after is not None:
            final = max(0.0, self.hangup_after - elapsed)
        else:
            final = self.max_duration
        steps.append(Step("Wait", _num(final)))
        steps.append(Step("Hangup", "", label="hangup"))
        return Extension(self.label, steps)


def _num(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text or "0"


_call_counter = itertools.count(1)


@dataclass(eq=False)
class CallerBehaviour:
    """One call's script at run time, and what happened to the call (for summaries)."""

    script: CallerScript
    serial: int = field(default_factory=lambda: next(_call_counter))
    speech_left: list[Path | float] = field(default_factory=list)
    queue: str | None = None
    joined_at: float | None = None
    connected_at: float | None = None
    left_queue_at: float | None = None
    abandoned: bool = False
    caller_hung_up_first: bool = False
    ivr_channel: Channel | None = None  # `;1`, the call the PBX sees
    caller_channel: Channel | None = None  # `;2`, running the script
    attached: asyncio.Event = field(default_factory=asyncio.Event)
    _timers: list[Timer] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.speech_left = list(self.script.speech)

    def attach(self, one: Channel, two: Channel) -> None:
        self.ivr_channel, self.caller_channel = one, two
        two.on_hangup.append(self._caller_hangs_up)
        self.attached.set()

    def _caller_hangs_up(self) -> None:
        one = self.ivr_channel
        self.caller_hung_up_first = one is not None and not one.soft_hangup

    @property
    def amd(self) -> None:
        return None

    # hooks called by the Queue application on the caller's `;1`
    def queue_joined(self, pbx: Timed, chan: Channel) -> None:
        self.queue = self.queue or chan.variables.get("IVR_TARGET") or "?"
        self.joined_at = pbx.clock.now()
        chan.dtmf.clear()
        if self.script.patience is not None:
            self._after(pbx, chan, self.script.patience, lambda: self.connected_at is None)

    def queue_left(self, pbx: Timed, chan: Channel) -> None:
        self.left_queue_at = pbx.clock.now()
        if chan.soft_hangup and self.connected_at is None:
            self.abandoned = True
        self._cancel()

    def agent_connected(self, pbx: Timed, chan: Channel) -> None:
        self.connected_at = pbx.clock.now()
        self._cancel()
        if self.script.talk_time is not None:
            self._after(pbx, chan, self.script.talk_time, lambda: True)

    def next_speech(self) -> Samples | None:
        if not self.speech_left:
            return None
        item = self.speech_left.pop(0)
        if isinstance(item, Path):
            return read_wav_8k(item)
        return conversation(float(item), seed=self.serial)

    def _after(self, pbx: Timed, chan: Channel, seconds: float, still: Callable[[], bool]) -> None:
        def fire() -> None:
            if not still():
                return
            target = chan.local_peer or chan
            if not target.hungup:
                target.signal(SCRIPT)

        self._timers.append(pbx.clock.call_later(seconds, fire))

    def _cancel(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
