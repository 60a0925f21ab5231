"""Database adapters for the ACD's durable state (queue callbacks, the emergency switch) and the
NOTIFY channels the roles use."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from callcenter.acd.callbacks import CallbackState, QueuedCallback
from callcenter.common.access import Sessions
from callcenter.domain.acd import EmergencyMode, EmergencySource

# PostgreSQL NOTIFY channels the roles use
EMERGENCY_CHANNEL = "cc_emergency"  # the switch changed: nodes reload it
LIVE_CHANNEL = "cc_live"  # a telephony node published a new snapshot (payload: node name)
REQUEST_CHANNEL = "cc_requests"  # a request for a telephony node (payload: node or "")
REPLY_CHANNEL = "cc_replies"  # a request was done (payload: its id)
RING_CHANNEL = "cc_ring"  # a call rings for an operator: a screen-pop (payload: small JSON)


class SqlCallbackStore:
    """Callbacks of one telephony node (`node`): each node makes its own callers' calls."""

    def __init__(self, sessions: Sessions, *, node: str, clock: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self.node = node
        self._clock = clock

    async def save(self, callbacks: Sequence[QueuedCallback]) -> None:
        now = self._clock()
        rows = [
            {
                "id": c.id,
                "node": self.node,
                "queue": c.queue,
                "number": c.number,
                "original_uniqueid": c.original_uniqueid,
                "waiting_since": c.waiting_since,
                "priority": c.priority,
                "booked_at": c.booked_at,
                "customer_id": c.customer_id,
                "state": c.state.value,
                "attempts": c.attempts,
                "next_attempt_at": c.next_attempt_at,
                "channel_id": c.channel_id,
                "dialled_at": c.dialled_at,
                "last_outcome": (c.last_outcome or "")[:200] or None,
                "history": list(c.history[-50:]),
                "updated_at": now,
            }
            for c in callbacks
        ]
        async with self._sessions.begin() as tx:
            await tx.cluster.save_callbacks(rows)

    async def load_active(self) -> list[QueuedCallback]:
        async with self._sessions() as tx:
            rows = await tx.cluster.active_callbacks(self.node)
        return [
            QueuedCallback(
                id=r.id,
                queue=r.queue,
                number=r.number,
                original_uniqueid=r.original_uniqueid,
                waiting_since=r.waiting_since,
                priority=r.priority,
                booked_at=r.booked_at,
                customer_id=r.customer_id,
                state=CallbackState(r.state),
                attempts=r.attempts,
                next_attempt_at=r.next_attempt_at,
                channel_id=r.channel_id,
                dialled_at=r.dialled_at,
                last_outcome=r.last_outcome,
                history=list(r.history or []),
            )
            for r in rows
        ]


class SqlEmergencyStore:
    """The one emergency switch of the whole centre."""

    def __init__(self, sessions: Sessions, *, clock: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._clock = clock

    async def load(self) -> EmergencyMode | None:
        async with self._sessions() as tx:
            row = await tx.cluster.load_emergency()
        if row is None:
            return None
        return EmergencyMode(
            active=row.active,
            source=EmergencySource(row.source) if row.source else None,
            since=row.since,
            announcement=row.announcement,
            baseline_per_hour=row.baseline_per_hour,
        )

    async def save(self, mode: EmergencyMode) -> None:
        async with self._sessions.begin() as tx:
            await tx.cluster.save_emergency(
                active=mode.active,
                source=mode.source.value if mode.source is not None else None,
                since=mode.since,
                announcement=mode.announcement,
                baseline_per_hour=mode.baseline_per_hour,
                now=self._clock(),
            )
            await tx.cluster.notify(EMERGENCY_CHANNEL)
