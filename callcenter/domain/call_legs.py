"""Call legs: the part each channel of a call plays in it."""

from __future__ import annotations

from enum import StrEnum


class LegRole(StrEnum):
    CALLER = "caller"
    OPERATOR = "operator"
    IVR = "ivr"
    TRANSFER_TARGET = "transfer_target"
    OUTBOUND_PARTY = "outbound_party"
    CONFERENCE_PARTY = "conference_party"
    # a supervisor listening in or whispering
    SUPERVISOR = "supervisor"
