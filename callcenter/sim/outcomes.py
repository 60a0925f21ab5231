"""What a dialplan application tells the channel's dialplan loop when it returns."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class _Outcome:
    name: str


CONTINUE = _Outcome("continue")  # next priority
STOP = _Outcome("stop")  # the dialplan ends, the channel hangs up


@dataclass(frozen=True)
class Goto:
    target: tuple[str, str, int]


Outcome = _Outcome | Goto
