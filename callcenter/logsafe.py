"""Logging that hostile input cannot forge or flood.

- `install()` makes every log record escape its string arguments: CR, LF, NUL and other
  control or undecodable characters in a caller ID, an AGI script name, a campaign name or a
  user name come out as `\\r`, `\\n`, `\\x00`, never as a new (forged) log line; an exception
  whose text is empty is shown by its type, so no message ends in "failed: ".
- `LogThrottle` lets one kind of message through a few times a minute and then reports how
  many were held back, so 300 idle connections give a handful of lines, not 300.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_installed = False


def escape(text: str) -> str:
    """`text` with every non-printable character written as a Python escape."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch.isprintable():
            out.append(ch)
        else:
            out.append(ch.encode("unicode_escape", "backslashreplace").decode("ascii"))
    return "".join(out)


def describe(exc: BaseException) -> str:
    """An exception for a log line: its message, or its type when the message is empty."""
    text = str(exc).strip()
    return escape(text) if text else type(exc).__name__


def _safe_arg(arg: object) -> object:
    if isinstance(arg, str):
        return escape(arg)
    if isinstance(arg, bytes):
        return escape(arg.decode("utf-8", "backslashreplace"))
    if isinstance(arg, BaseException):
        return describe(arg)
    return arg


def install() -> None:
    """Escape the arguments of every log record from now on (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    previous: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if isinstance(record.args, tuple):
            record.args = tuple(_safe_arg(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _safe_arg(v) for k, v in record.args.items()}
        return record

    logging.setLogRecordFactory(factory)


@dataclass
class _Bucket:
    window_start: float
    passed: int = 0
    held: int = 0


class LogThrottle:
    """At most `burst` messages of one kind per `interval` seconds; the rest are counted and
    the count is reported with the next message let through."""

    def __init__(
        self,
        logger: logging.Logger,
        *,
        burst: int = 5,
        interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = logger
        self._burst = burst
        self._interval = interval
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def log(self, level: int, kind: str, msg: str, *args: object) -> None:
        now = self._clock()
        bucket = self._buckets.get(kind)
        if bucket is None or now - bucket.window_start >= self._interval:
            held = bucket.held if bucket is not None else 0
            bucket = self._buckets[kind] = _Bucket(window_start=now)
            if held:
                self._log.log(
                    level, "%d more %r message(s) held back in the last minute", held, kind
                )
        if bucket.passed >= self._burst:
            bucket.held += 1
            return
        bucket.passed += 1
        self._log.log(level, msg, *args)

    def warning(self, kind: str, msg: str, *args: object) -> None:
        self.log(logging.WARNING, kind, msg, *args)

    def error(self, kind: str, msg: str, *args: object) -> None:
        self.log(logging.ERROR, kind, msg, *args)
