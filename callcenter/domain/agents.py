"""Operators (agents): the states an operator's workstation can be in."""

from __future__ import annotations

from enum import StrEnum


class OperatorState(StrEnum):
    LOGGED_OUT = "logged_out"
    READY = "ready"
    PAUSED = "paused"
    RINGING = "ringing"
    ON_CALL = "on_call"
    # after-call work: the call is over, the operator is still filling in the appeal
    WRAP_UP = "wrap_up"
