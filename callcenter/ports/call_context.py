"""The call a piece of work is for, so every log line about a call carries its id.

A context variable: the FastAGI server binds the channel's id for the whole session, the AMI
event processing binds the call's linkedid while it handles an event, and whatever those
call (use cases included) inherits it without passing it around.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

CALL_ID: ContextVar[str | None] = ContextVar("call_id", default=None)


@contextmanager
def bound_call(call_id: str | None) -> Iterator[None]:
    token = CALL_ID.set(call_id)
    try:
        yield
    finally:
        CALL_ID.reset(token)
