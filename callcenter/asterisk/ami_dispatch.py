"""Between the AMI socket reader and the consumer: a bounded buffer and per-call ordering.

Ordering: every frame is keyed by its call (Linkedid, else Uniqueid, else "" for frames that
belong to no call, such as DeviceStateChange or QueueMemberPause). Keys are sharded over N worker
tasks by a stable hash, and each worker hands its frames to the consumer one at a time, so the
frames of one call reach the consumer in wire order while different calls are processed
concurrently. Frames that belong to no call all share one shard and keep their order too.

Bound and overflow policy: at most `capacity` frames are buffered or being processed. When the
buffer is full the reader waits for a free slot, but for at most `overflow_wait` seconds per
overflow episode (backpressure that also slows Asterisk down, within limits). If the buffer is
still full after that, the dispatcher sheds: the incoming frame and every further frame that finds
the buffer full is dropped at once, counted in `dropped` and logged, until a slot frees up. So the
reader is never stuck for long: action replies and Pongs keep flowing, which keeps the link (and
the ping-based liveness check) healthy while a consumer is slow. A consumer that lost frames
learns of it from `AmiClient.stats().dropped_events`; the next resync snapshot restores the state.

Gate: frames carry the number of the connection they arrived on; frames of connection N are held
until `release(N)`, which the client calls once the listener has seen that connection's resync
snapshot, so the consumer never gets a connection's events before its snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from callcenter.pbx.events import frame_call_key
from callcenter.pbx.frames import AmiFrame

log = logging.getLogger(__name__)

EventHandler = Callable[[AmiFrame, datetime], Awaitable[None]]


def call_key(frame: AmiFrame) -> str:
    """The call a frame belongs to (see `ami_events.frame_call_key`): frames of one call share
    a shard, including transfers and failed originates that name the call under other headers."""
    return frame_call_key(frame)


def shard_index(key: str, shards: int) -> int:
    """Stable across runs (unlike hash()), so a call's shard is reproducible in tests and logs."""
    return zlib.crc32(key.encode()) % shards


@dataclass(frozen=True, slots=True)
class DispatchStats:
    buffered: int  # frames waiting or being processed
    delivered: int
    dropped: int
    handler_errors: int


@dataclass(slots=True)
class _Item:
    frame: AmiFrame
    received_at: datetime
    connection: int


class EventDispatcher:
    def __init__(
        self,
        handler: EventHandler,
        *,
        workers: int = 8,
        capacity: int = 10_000,
        overflow_wait: float = 1.0,
    ) -> None:
        if workers < 1 or capacity < 1 or overflow_wait < 0:
            raise ValueError("need workers >= 1, capacity >= 1, overflow_wait >= 0")
        self._handler = handler
        self._capacity = capacity
        self._overflow_wait = overflow_wait
        # The shard queues are unbounded on their own; `_slots` bounds them all together, so one
        # busy call can use the whole buffer instead of a 1/N share of it.
        self._slots = asyncio.Semaphore(capacity)
        self._shards: list[asyncio.Queue[_Item]] = [asyncio.Queue() for _ in range(workers)]
        self._tasks: list[asyncio.Task[None]] = []
        self._released = 0
        self._gate_opened = asyncio.Event()  # replaced by a fresh one at every release
        self._shedding = False
        self._dropped_in_episode = 0
        self._buffered = 0
        self._delivered = 0
        self._dropped = 0
        self._handler_errors = 0

    def start(self) -> None:
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._work(shard), name=f"ami-events-{n}")
                for n, shard in enumerate(self._shards)
            ]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    def stats(self) -> DispatchStats:
        return DispatchStats(self._buffered, self._delivered, self._dropped, self._handler_errors)

    async def submit(self, frame: AmiFrame, received_at: datetime, connection: int) -> bool:
        """Buffer `frame`; False if it was dropped because the buffer stayed full."""
        if self._slots.locked():
            if self._shedding:
                self._drop()
                return False
            try:
                async with asyncio.timeout(self._overflow_wait):
                    await self._slots.acquire()
            except TimeoutError:
                self._shedding = True
                self._drop()
                return False
        else:
            await self._slots.acquire()  # a free slot: returns without suspending
        if self._shedding:
            log.warning(
                "AMI event buffer has room again after dropping %d frames",
                self._dropped_in_episode,
            )
            self._shedding = False
            self._dropped_in_episode = 0
        self._buffered += 1
        shard = self._shards[shard_index(call_key(frame), len(self._shards))]
        shard.put_nowait(_Item(frame, received_at, connection))
        return True

    def _drop(self) -> None:
        self._dropped += 1
        self._dropped_in_episode += 1
        if self._dropped_in_episode == 1:
            log.error(
                "AMI event buffer full (%d frames) for %.3g s: dropping events until the "
                "consumer catches up",
                self._capacity,
                self._overflow_wait,
            )

    def release(self, connection: int) -> None:
        """Let frames of connections up to `connection` through to the consumer."""
        if connection > self._released:
            self._released = connection
            opened, self._gate_opened = self._gate_opened, asyncio.Event()
            opened.set()

    async def drain(self) -> None:
        """Return once every buffered frame has been handed to the consumer and processed."""
        await asyncio.gather(*(shard.join() for shard in self._shards))

    async def _work(self, shard: asyncio.Queue[_Item]) -> None:
        while True:
            item = await shard.get()
            try:
                while item.connection > self._released:
                    await self._gate_opened.wait()
                await self._handler(item.frame, item.received_at)
                self._delivered += 1
            except asyncio.CancelledError:
                raise
            except Exception:
                # a consumer bug must not stop event delivery for every other call
                self._handler_errors += 1
                log.exception("AMI event handler failed on %s", item.frame.event)
            finally:
                self._buffered -= 1
                self._slots.release()
                shard.task_done()
