"""Call transfers: the ways a call is handed from one party to another."""

from __future__ import annotations

from enum import StrEnum


class TransferKind(StrEnum):
    BLIND = "blind"
    ATTENDED = "attended"
    # the channel is sent elsewhere in the dialplan (e.g. back to the IVR)
    REDIRECT = "redirect"
