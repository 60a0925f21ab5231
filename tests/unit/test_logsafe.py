"""Logging that hostile input cannot forge or flood (issue 16, row 11)."""

from __future__ import annotations

import logging

import pytest

from callcenter import logsafe


def test_control_characters_in_arguments_are_escaped(caplog: pytest.LogCaptureFixture) -> None:
    logsafe.install()
    log = logging.getLogger("callcenter.outbound.campaigns")
    with caplog.at_level(logging.INFO):
        log.info("campaign %s started", "Долг\r\n2026-12-06 INFO forged\x00\udcff")
        log.warning("fail-over failed: %s", TimeoutError())
    first, second = (r.getMessage() for r in caplog.records)
    assert first == "campaign Долг\\r\\n2026-12-06 INFO forged\\x00\\udcff started"
    assert second == "fail-over failed: TimeoutError"


def test_a_flood_of_one_message_is_held_back_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    throttle = logsafe.LogThrottle(
        logging.getLogger("callcenter.test"), burst=3, interval=60, clock=lambda: now[0]
    )
    with caplog.at_level(logging.WARNING):
        for n in range(300):
            throttle.warning("idle", "peer %d idle", n)
        now[0] = 61.0
        throttle.warning("idle", "peer %d idle", 300)
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "peer 0 idle",
        "peer 1 idle",
        "peer 2 idle",
        "297 more 'idle' message(s) held back in the last minute",
        "peer 300 idle",
    ]
