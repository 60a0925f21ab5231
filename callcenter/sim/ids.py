"""Identifiers shaped like Asterisk's: Uniqueids, channel-name suffixes, bridge ids."""

from __future__ import annotations

import random
import uuid

from callcenter.sim.clock import Clock


class IdAllocator:
    """Hands out identifiers; a simulated restart makes a fresh one (counters back to 0).

    Uniqueid is `<epoch seconds>.<counter>` with one counter for every channel, as in
    Asterisk (`1795432716.0`); assigned ids (Originate `ChannelId`) still use up a number.
    Local channels share one `%08x` sequence (`Local/101@agents-00000001;1`), every other
    technology another one.
    """

    def __init__(self, clock: Clock, rng: random.Random) -> None:
        self._clock = clock
        self._rng = rng
        self._uniqueid = 0
        self._local = 0
        self._tech = 0

    def uniqueid(self) -> str:
        value = f"{int(self._clock.epoch())}.{self._uniqueid}"
        self._uniqueid += 1
        return value

    def local_suffix(self) -> str:
        value = f"{self._local:08x}"
        self._local += 1
        return value

    def tech_suffix(self) -> str:
        value = f"{self._tech:08x}"
        self._tech += 1
        return value

    def bridge_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def command_id(self) -> int:
        """AGIExecStart/End CommandId: Asterisk uses ast_random() (non-negative, 31 bits)."""
        return self._rng.randrange(1, 2**31)

    def thread_id(self) -> int:
        """agi_threadid: a pthread id, a large number that differs per session."""
        return 140185060000000 + self._rng.randrange(0, 10_000_000)

    def session_id(self) -> str:
        return f"0x{self._rng.randrange(0x7F0000000000, 0x7FFFFFFFFFFF):x}"
