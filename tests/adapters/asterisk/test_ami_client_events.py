"""AMI events: bounded buffer between socket and consumer, per-call order, snapshot first."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import UTC, datetime

import pytest

from callcenter.asterisk.ami import AmiTimeoutError
from callcenter.asterisk.ami_dispatch import call_key, shard_index
from callcenter.pbx.events import untracked_varset
from callcenter.pbx.frames import AmiFrame
from callcenter.pbx.listener import ResyncSnapshot
from tests.support.fake_ami import (
    S1,
    S5,
    FakeAmiServer,
    RecordingListener,
    running_client,
    transcript_frames,
)

LOGIN_EVENTS = {"FullyBooted", "SuccessfulAuth"}


def _events(name: str) -> list[AmiFrame]:
    """The call events of a transcript (not replies, not the login's own events)."""
    return [
        f
        for f in transcript_frames(name)
        if f.event is not None and f.action_id is None and f.event not in LOGIN_EVENTS
    ]


def _numbered(count: int, linkedid: str = "1795432716.0") -> list[AmiFrame]:
    return [
        AmiFrame.of(("Event", "UserEvent"), ("Linkedid", linkedid), ("Value", str(n)))
        for n in range(count)
    ]


async def test_transcript_events_reach_the_listener_in_wire_order_per_call() -> None:
    sent = _events(S1) + _events(S5)
    async with FakeAmiServer() as ami:
        listener = RecordingListener()
        async with running_client(ami, listener, event_workers=4) as client:
            await ami.push_events(sent)
            await client.drain()
            skipped = client.stats().skipped_events
        # VarSet of variables nobody tracks is dropped by the reader, unparsed
        unused = [f for f in sent if untracked_varset(list(f.pairs))]
        assert skipped == len(unused) > 0
        sent = [f for f in sent if f not in unused]
        # FullyBooted/SuccessfulAuth of the login come first, then ours
        got = [f for f in listener.events if f.event not in LOGIN_EVENTS]
        assert len(got) == len(sent)
        assert any(f.event == "VarSet" for f in got)  # the tracked ones arrive
        by_call_sent: dict[str, list[AmiFrame]] = defaultdict(list)
        by_call_got: dict[str, list[AmiFrame]] = defaultdict(list)
        for frame in sent:
            by_call_sent[call_key(frame)].append(frame)
        for frame in got:
            by_call_got[call_key(frame)].append(frame)
        assert by_call_got == by_call_sent
        assert len(by_call_sent) > 2
        assert all(t.tzinfo is UTC for t in listener.received_at)


async def test_different_calls_are_processed_concurrently_same_call_sequentially() -> None:
    """Call A's first event waits until call B's event was processed: only possible if B runs
    while A's handler is still busy. A's second event must still come after A's first."""
    b_done = asyncio.Event()
    order: list[str] = []
    in_handler: dict[str, int] = defaultdict(int)
    overlap_same_call = False

    class Listener(RecordingListener):
        async def on_event(self, frame: AmiFrame, received_at: datetime) -> None:
            nonlocal overlap_same_call
            key = call_key(frame)
            in_handler[key] += 1
            overlap_same_call |= in_handler[key] > 1
            try:
                if frame.get("Value") == "a1":
                    await asyncio.wait_for(b_done.wait(), 2)
                order.append(frame["Value"])
                if key == "D":
                    b_done.set()
            finally:
                in_handler[key] -= 1
            await super().on_event(frame, received_at)

    # two calls that land on different workers
    assert shard_index("A", 2) != shard_index("D", 2)
    events = [
        AmiFrame.of(("Event", "Newstate"), ("Linkedid", "A"), ("Value", "a1")),
        AmiFrame.of(("Event", "Newstate"), ("Linkedid", "A"), ("Value", "a2")),
        AmiFrame.of(("Event", "Newstate"), ("Linkedid", "D"), ("Value", "b1")),
    ]
    async with FakeAmiServer() as ami:
        listener = Listener()
        async with running_client(ami, listener, event_workers=2) as client:
            await ami.push_events(events)
            await client.drain()
    assert order == ["b1", "a1", "a2"]
    assert overlap_same_call is False


async def test_full_buffer_sheds_events_but_the_reader_keeps_answering() -> None:
    async with FakeAmiServer() as ami:
        listener = RecordingListener()
        async with running_client(
            ami, listener, event_workers=1, event_buffer_size=4, event_overflow_wait=0.05
        ) as client:
            await client.drain()  # login events out of the way
            before = len(listener.events)
            listener.hold = asyncio.Event()
            await ami.push_events(_numbered(40))
            # the consumer is stuck, yet replies still come through: the reader waited once
            # (0.05 s), then shed the rest at once instead of waiting 36 x 0.05 s
            assert (await client.ping(reply_timeout=1.0)).timestamp > 0
            stats = client.stats()
            assert (stats.buffered_events, stats.dropped_events) == (4, 36)
            listener.hold.set()
            await client.drain()
            delivered = [f["Value"] for f in listener.events[before:]]
            assert delivered == ["0", "1", "2", "3"]
            # once there is room again, events flow normally
            await ami.push_events(_numbered(3, "other"))
            await client.drain()
            assert [f["Value"] for f in listener.events[before + 4 :]] == ["0", "1", "2"]
            assert client.stats().dropped_events == 36


async def test_backpressure_within_the_limit_loses_nothing() -> None:
    async with FakeAmiServer() as ami:
        listener = RecordingListener()
        async with running_client(
            ami, listener, event_workers=1, event_buffer_size=2, event_overflow_wait=5.0
        ) as client:
            await client.drain()
            before = len(listener.events)
            listener.hold = asyncio.Event()
            await ami.push_events(_numbered(10))
            # the reader waits for room (backpressure), so even a Pong is not read yet
            with pytest.raises(AmiTimeoutError):
                await client.ping(reply_timeout=0.1)
            listener.hold.set()
            await client.drain()
            assert [f["Value"] for f in listener.events[before:]] == [str(n) for n in range(10)]
            assert client.stats().dropped_events == 0


async def test_snapshot_reaches_the_listener_before_that_connections_events() -> None:
    seen: list[str] = []

    class Listener(RecordingListener):
        async def on_connected(self, snapshot: ResyncSnapshot) -> None:
            seen.append(f"connected {snapshot.connection}")
            await super().on_connected(snapshot)

        async def on_event(self, frame: AmiFrame, received_at: datetime) -> None:
            seen.append(frame.event or "")
            await super().on_event(frame, received_at)

    async with FakeAmiServer() as ami:
        listener = Listener()
        async with running_client(ami, listener) as client:
            await client.drain()
            ami.drop_all()
            await listener.wait_for(lambda: len(listener.snapshots) == 2)
            await client.drain()
    # FullyBooted and SuccessfulAuth arrive right after the login, before the resync replies
    assert seen == [
        "connected 1",
        "FullyBooted",
        "SuccessfulAuth",
        "connected 2",
        "FullyBooted",
        "SuccessfulAuth",
    ]


async def test_a_failing_listener_does_not_stop_delivery() -> None:
    class Listener(RecordingListener):
        async def on_event(self, frame: AmiFrame, received_at: datetime) -> None:
            if frame.get("Value") == "1":
                raise RuntimeError("consumer bug")
            await super().on_event(frame, received_at)

    async with FakeAmiServer() as ami:
        listener = Listener()
        async with running_client(ami, listener) as client:
            await client.drain()
            before = len(listener.events)
            await ami.push_events(_numbered(3))
            await client.drain()
            assert [f["Value"] for f in listener.events[before:]] == ["0", "2"]
            assert client.stats().listener_errors == 1


async def test_originate_response_is_delivered_as_an_event_with_the_call_key() -> None:
    async with FakeAmiServer() as ami:
        listener = RecordingListener()
        async with running_client(ami, listener) as client:
            queued = await client.originate(
                "Local/script1@callers", context="ivr", exten="88001000000"
            )
            await client.drain()
            [response] = listener.named("OriginateResponse")
            assert call_key(response) == queued.channel_id
            assert response.action_id == queued.action_id
