"""The ACD: operators' states, the queues' live picture, routing and overflow, expected waits,
callbacks in queue, the emergency mode and the service metrics, behind one object.

Wiring (the composition root does it):

    acd = AcdService(session_factory, settings=AcdSettings(...), control=ami_client)
    listener = AcdAmiListener(acd, inner=call_events)   # the AmiListener given to AmiClient
    call_events... ; await acd.start() ; ... ; await acd.stop()

`AcdAmiListener` passes every AMI callback on to `inner` (CallEvents) and gives the ACD only
the frames it needs (queue, agent and originate events: a few percent of the traffic),
parsed once for it. `AcdService.on_connected(snapshot)` corrects drifted operator states from
QueueStatus after every (re)connect; `on_event(event)` takes already-parsed events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from statistics import fmean
from typing import Protocol
from zoneinfo import ZoneInfo

from callcenter.acd.callbacks import (
    CallbackRules,
    CallbackState,
    CallbackStore,
    Originator,
    QueueCallbacks,
    QueuedCallback,
    QueuedCaller,
)
from callcenter.acd.live_view import (
    ChangeFeed,
    QueueInfo,
    QueueTracker,
    count_states,
    longest_wait,
)
from callcenter.acd.operator_states import (
    OperatorStates,
    PbxUnavailable,
    QueueControl,
    StateChange,
)
from callcenter.common.access import Clock, Sessions
from callcenter.domain import acd as rules
from callcenter.domain.acd import (
    CALLBACK_DIGIT,
    EmergencyMode,
    EmergencySource,
    InboundRate,
    OverflowPolicy,
    QueueLoad,
    RouteDecision,
    SurgeRule,
)
from callcenter.domain.agents import AgentRules, AgentStatus, OperatorState
from callcenter.domain.calls import Disposition
from callcenter.domain.recent import DEDUP_WINDOW, RecentCache
from callcenter.domain.service_metrics import (
    SERVICE_LEVEL_TARGET_SECONDS,
    ContactOutcome,
    IntervalMetrics,
    QueueContact,
    ServiceMetrics,
    compute,
    interval_start,
    intervals,
)
from callcenter.domain.telephony import QueueCallerJoined, TelephonyEvent
from callcenter.pbx.events import parse_frame
from callcenter.pbx.frames import AmiFrame
from callcenter.pbx.listener import AmiListener, ResyncSnapshot
from callcenter.pbx.results import QueueStatusReport
from callcenter.ports.call_context import bound_call
from callcenter.ports.queries import CallFilter

log = logging.getLogger(__name__)

EMERGENCY_AUDIT_ACTION = "acd.emergency"
# AMI events the ACD needs; everything else is left to the call records (CallEvents)
ACD_EVENTS = frozenset(
    name.lower()
    for name in (
        "QueueMemberAdded",
        "QueueMemberRemoved",
        "QueueMemberStatus",
        "QueueMemberPause",
        "QueueMemberPenalty",
        "QueueCallerJoin",
        "QueueCallerLeave",
        "QueueCallerAbandon",
        "AgentCalled",
        "AgentConnect",
        "AgentComplete",
        "AgentRingNoAnswer",
        "AgentDump",
        "OriginateResponse",
        "Hangup",
    )
)
_SERVING = frozenset(
    {OperatorState.READY, OperatorState.RINGING, OperatorState.ON_CALL, OperatorState.WRAP_UP}
)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class AcdSettings:
    """The ACD's rules; `callcenter.bootstrap.acd_settings` fills them from the CALLCENTER_ACD_*
    settings (README, Settings)."""

    wrap_up_seconds: float = 300.0
    max_missed_rings: int = 2
    default_aht_seconds: float = 180.0
    overflow: OverflowPolicy = field(default_factory=OverflowPolicy)
    surge: SurgeRule = field(default_factory=SurgeRule)
    auto_emergency: bool = True
    announce_every_seconds: float = 60.0
    callback_enabled: bool = True
    callback_digit: str = CALLBACK_DIGIT  # fixed: the rendered dialplan listens for it
    callback_offer_min_wait_seconds: float = 60.0
    callback: CallbackRules = field(default_factory=CallbackRules)
    timezone: str = "Europe/Moscow"
    service_level_seconds: float = SERVICE_LEVEL_TARGET_SECONDS
    tick_seconds: float = 0.5


# --- what the live view shows ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OperatorView:
    operator_id: int
    extension: str
    full_name: str
    support_line: int
    state: OperatorState
    since: datetime | None
    pause_reason: str | None
    pending_pause: str | None
    call_queue: str | None


@dataclass(frozen=True, slots=True)
class CallerView:
    position: int
    wait_seconds: float
    priority: int


@dataclass(frozen=True, slots=True)
class CallbackView:
    id: uuid.UUID
    state: CallbackState
    waiting_seconds: float
    attempts: int


@dataclass(frozen=True, slots=True)
class QueueView:
    name: str
    support_line: int | None
    is_overflow: bool
    description: str
    waiting: int
    longest_wait_seconds: float
    callers: list[CallerView]
    callbacks: list[CallbackView]
    operators: dict[str, int]
    expected_wait_seconds: float | None  # for a caller joining now; None: nobody serving
    wait_target_seconds: float
    all_busy_seconds: float | None  # every serving operator busy for this long


@dataclass(frozen=True, slots=True)
class LineMetrics:
    line: int | None  # None: every line together
    today: ServiceMetrics
    current_interval: IntervalMetrics


@dataclass(frozen=True, slots=True)
class LineIntervals:
    line: int | None
    intervals: list[IntervalMetrics]


@dataclass(frozen=True, slots=True)
class LiveSnapshot:
    generated_at: datetime
    version: int
    pbx_connected: bool
    emergency: EmergencyMode
    lines: list[int]
    queues: list[QueueView]
    operators: list[OperatorView]
    metrics: list[LineMetrics]
    intervals: list[LineIntervals] | None = None


# --- the service -------------------------------------------------------------------------------


class EmergencyStore(Protocol):
    """Where the emergency switch is kept for every node (`callcenter.cluster.stores`)."""

    async def load(self) -> EmergencyMode | None: ...

    async def save(self, mode: EmergencyMode) -> None: ...


class AcdControl(QueueControl, Originator, Protocol):
    """What the ACD sends to Asterisk (`callcenter.asterisk.ami.AmiClient` has it all)."""


class AcdService:
    def __init__(
        self,
        sessions: Sessions,
        *,
        settings: AcdSettings | None = None,
        control: AcdControl | None = None,
        clock: Clock = utcnow,
        callback_store: CallbackStore | None = None,
        emergency_store: EmergencyStore | None = None,
    ) -> None:
        self.settings = settings or AcdSettings()
        self._sessions = sessions
        self._clock = clock
        self._zone = ZoneInfo(self.settings.timezone)
        self.feed = ChangeFeed()
        self.tracker = QueueTracker(feed=self.feed)
        self.states = OperatorStates(
            sessions,
            clock=clock,
            control=control,
            rules=AgentRules(
                wrap_up_seconds=self.settings.wrap_up_seconds,
                max_missed_rings=self.settings.max_missed_rings,
            ),
            day_start=self.day_start,
        )
        self.states.subscribe(self._on_state_change)
        self.callbacks = QueueCallbacks(
            clock=clock, originator=control, rules=self.settings.callback, store=callback_store
        )
        self.emergency = EmergencyMode()
        self._emergency_store = emergency_store
        self._rate = InboundRate(self.settings.surge)
        # linkedids already counted as arrivals: a caller back from a periodic announcement
        # (a rejoin every minute or so) refreshes the entry, so a window of minutes suffices
        self._arrivals_seen: RecentCache[str, None] = RecentCache(DEDUP_WINDOW, 50_000)
        self._all_busy_since: dict[str, datetime] = {}
        self._day: datetime | None = None
        self._connected = False
        self._runner: asyncio.Task[None] | None = None
        self._metrics_cache: tuple[tuple[object, ...], list[LineMetrics]] | None = None

    def attach(self, control: AcdControl | None) -> None:
        """Give the service its AMI client (when it is built after the service)."""
        self.states.control = control
        self.callbacks.originator = control

    # ------------------------------------------------------------------ lifecycle

    def day_start(self, now: datetime) -> datetime:
        """Local midnight (the contact centre's time zone) of `now`, in UTC."""
        local = now.astimezone(self._zone)
        return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)

    async def start(self) -> None:
        await self.load()
        if self._runner is None:
            self._runner = asyncio.create_task(self._run(), name="acd-timer")

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
        try:
            await self.callbacks.save()
        except Exception:
            log.exception("ACD: callbacks could not be saved on stop")

    async def reload_emergency(self) -> None:
        """Take the emergency switch from the store (at start, and when another node or an
        API node changed it)."""
        if self._emergency_store is None:
            return
        stored = await self._emergency_store.load()
        if stored is not None and stored != self.emergency:
            self.emergency = stored
            self.feed.bump()

    async def save_callbacks(self) -> None:
        await self.callbacks.save()

    async def load(self) -> None:
        """Queues, operators and their states, and today's finished calls for the metrics."""
        now = self._clock()
        self._day = self.day_start(now)
        async with self._sessions() as tx:
            queues = await tx.queues.list_all()
            calls = await tx.calls.search(CallFilter(since=self._day, limit=200_000))
        self.tracker.configure(
            QueueInfo(q.name, q.support_line, q.is_overflow, q.description) for q in queues
        )
        await self.states.load()
        await self.callbacks.load()
        await self.reload_emergency()
        history = []
        for call in calls:
            contact = _contact_from_call(call, self.tracker.line_of)
            if contact is not None:
                history.append(contact)
        self.tracker.load_history(history)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.settings.tick_seconds)
            try:
                await self.tick()
            except Exception:
                log.exception("ACD timer failed")

    # ------------------------------------------------------------------ AmiListener parts

    async def on_connected(self, snapshot: ResyncSnapshot) -> None:
        """After each AMI (re)connect: Asterisk's QueueStatus is the truth."""
        self._connected = True
        await self.resync(snapshot.queues, snapshot.connected_at)

    async def resync(self, report: QueueStatusReport, at: datetime) -> None:
        """Correct operators' states and the waiting callers from a QueueStatus report."""
        await self.states.on_queue_status(report, at)
        self.tracker.on_queue_status(report, at)
        self._update_busy(self._clock())
        self.feed.bump()

    async def on_disconnected(self) -> None:
        self._connected = False
        self.feed.bump()

    async def on_event(self, event: TelephonyEvent) -> None:
        try:
            await self.states.on_event(event)
        except Exception:
            # the queue picture and the callbacks must still follow this event
            log.exception("ACD: operator states could not apply %s", event.name)
        changed = self.tracker.on_event(event)
        if self.callbacks.on_event(event):
            changed = True
        if isinstance(event, QueueCallerJoined):
            self._count_arrival(event)
        if changed:
            self._update_busy(event.at)
            self.feed.bump()

    def _count_arrival(self, event: QueueCallerJoined) -> None:
        info = self.tracker.queues.get(event.queue)
        key = event.linkedid or event.uniqueid or ""
        if info is not None and info.is_overflow:
            return
        seen = key in self._arrivals_seen
        self._arrivals_seen.put(key, None, event.at)
        if seen:
            return
        self._rate.add(event.at)

    def _on_state_change(self, change: StateChange) -> None:
        before = change.transition.before
        after = change.transition.after
        if (
            before.state is OperatorState.WRAP_UP
            and after.state is not OperatorState.WRAP_UP
            and before.call is not None
            and before.since is not None
        ):
            seconds = (change.at - before.since).total_seconds()
            self.tracker.wrap_up_ended(before.call.caller_uniqueid, seconds)
        self._update_busy(change.at)
        self.feed.bump()

    # ------------------------------------------------------------------ time

    async def tick(self) -> None:
        now = self._clock()
        day = self.day_start(now)
        if self._day is not None and day != self._day:
            self.tracker.forget_before(day)
            self.states.forget_spans_before(day)
            self.callbacks.forget_finished_before(day)
        self._day = day
        await self.states.tick()
        self.tracker.tick(now)
        if self.callbacks.check_timeouts():
            self.feed.bump()
        if self.settings.auto_emergency:
            mode = self._rate.check(self.emergency, now)
            if self._swamped():
                if not mode.active:
                    _, _, baseline = self._rate.rates(now)
                    mode = rules.switch_emergency(
                        mode,
                        active=True,
                        now=now,
                        source=EmergencySource.AUTOMATIC,
                        baseline_per_hour=baseline,
                    )
                elif self.emergency.active and mode.active is False:
                    mode = self.emergency  # not calm while line 1 is still swamped
            if mode != self.emergency:
                log.warning("ACD: emergency mode %s automatically", "on" if mode.active else "off")
                self.emergency = mode
                self.feed.bump()
                if self._emergency_store is not None:
                    await self._emergency_store.save(mode)
        self._update_busy(now)
        await self._dispatch_callbacks()
        await self.callbacks.save()

    async def _dispatch_callbacks(self) -> None:
        if self.callbacks.originator is None or not self.callbacks.active():
            return
        for queue in self.tracker.queues:
            if not self.callbacks.waiting(queue):
                continue
            callers = [
                QueuedCaller(c.waiting_since, c.priority) for c in self.tracker.callers(queue)
            ]
            _serving, free = self._staffing(queue)
            for callback in self.callbacks.due(queue, free_operators=free, callers=callers):
                await self.callbacks.place(callback)
                self.feed.bump()

    def _swamped(self) -> bool:
        """Every operator of a line-1 queue busy for `surge.all_busy_seconds`, callers
        waiting: the automatic emergency mode's second trigger."""
        limit = self.settings.surge.all_busy_seconds
        for queue, info in self.tracker.queues.items():
            busy_for = self.all_busy_for(queue)
            if (
                info.line == 1
                and busy_for is not None
                and busy_for >= limit
                and self.tracker.callers(queue)
            ):
                return True
        return False

    def _update_busy(self, now: datetime) -> None:
        for queue in self.tracker.queues:
            serving, free = self._staffing(queue)
            if serving > 0 and free == 0:
                self._all_busy_since.setdefault(queue, now)
            else:
                self._all_busy_since.pop(queue, None)

    # ------------------------------------------------------------------ operators

    async def login(self, operator_id: int) -> AgentStatus:
        return await self.states.login(operator_id)

    async def logout(self, operator_id: int) -> AgentStatus:
        return await self.states.logout(operator_id)

    async def pause(self, operator_id: int, reason: str) -> AgentStatus:
        return await self.states.pause(operator_id, reason)

    async def ready(self, operator_id: int) -> AgentStatus:
        return await self.states.ready(operator_id)

    # ------------------------------------------------------------------ estimates and routing

    def _staffing(self, queue: str) -> tuple[int, int]:
        """(operators serving `queue`: logged in and not paused, of them ready now)."""
        statuses = self.states.statuses()
        states = [statuses[m].state for m in self.states.members_of(queue) if m in statuses]
        serving = sum(1 for s in states if s in _SERVING)
        return serving, sum(1 for s in states if s is OperatorState.READY)

    def queue_load(self, queue: str, *, now: datetime | None = None) -> QueueLoad:
        """The queue as the wait estimate sees it: staffing, the handling time observed over
        the last hour on its line (else the default), arrivals over the last 15 minutes."""
        now = now or self._clock()
        serving, free = self._staffing(queue)
        line = self.tracker.line_of(queue)
        recent = self.tracker.recent_handling(line, now - timedelta(hours=1))
        aht = fmean(recent) if recent else self.settings.default_aht_seconds
        arrivals = self.tracker.arrivals(queue, now - timedelta(minutes=15)) * 4.0
        return QueueLoad(serving=serving, free=free, aht_seconds=aht, arrivals_per_hour=arrivals)

    def _ahead_of_new(self, queue: str, priority: int) -> int:
        real = sum(1 for c in self.tracker.callers(queue) if c.priority >= priority)
        return real + len(self.callbacks.active(queue))

    def expected_wait_new(self, queue: str, priority: int = 0) -> float | None:
        """Expected wait of a caller of `priority` joining `queue` now (None: nobody serves)."""
        return rules.expected_wait_new_call(
            self.queue_load(queue), self._ahead_of_new(queue, priority)
        )

    def expected_wait_of(
        self, queue: str, uniqueid: str, position: int | None = None
    ) -> float | None:
        """Expected remaining wait of a caller in `queue` (at `position`, 1 = next)."""
        callers = self.tracker.callers(queue)
        if position is None or position < 1:
            index = next((i for i, c in enumerate(callers) if c.uniqueid == uniqueid), None)
            position = (index + 1) if index is not None else len(callers) + 1
        # callbacks booked by callers who were waiting before this one keep their place
        since = self.tracker.contact_started(uniqueid, queue) or self._clock()
        held = sum(1 for cb in self.callbacks.active(queue) if cb.waiting_since <= since)
        return rules.expected_wait(self.queue_load(queue), position - 1 + held)

    def waited(self, queue: str, uniqueid: str) -> float:
        """How long the caller has been waiting in `queue` (across periodic announcements)."""
        started = self.tracker.contact_started(uniqueid, queue)
        return (self._clock() - started).total_seconds() if started is not None else 0.0

    def all_busy_for(self, queue: str) -> float | None:
        since = self._all_busy_since.get(queue)
        return (self._clock() - since).total_seconds() if since is not None else None

    def overflow_for(self, queue: str) -> str | None:
        """The queue `queue` overflows to: the branches' one, for lines 1 and 2 only."""
        info = self.tracker.queues.get(queue)
        overflow = self.tracker.overflow_queue()
        if info is None or info.is_overflow or info.line not in (1, 2) or overflow == queue:
            return None
        return overflow

    def route(self, queue: str, *, priority: int = 0, uniqueid: str | None = None) -> RouteDecision:
        """Where a caller joining `queue` should wait: there, or the branches' overflow queue."""
        if uniqueid:
            self.tracker.priorities[uniqueid] = priority
        return self._decide(queue, self.expected_wait_new(queue, priority), priority)

    def reroute(self, queue: str, uniqueid: str, position: int | None = None) -> RouteDecision:
        """The same question for a caller already waiting (at the periodic announcement)."""
        priority = self.tracker.priorities.get(uniqueid, 0)
        return self._decide(queue, self.expected_wait_of(queue, uniqueid, position), priority)

    def _decide(self, queue: str, expected: float | None, priority: int) -> RouteDecision:
        info = self.tracker.queues.get(queue)
        overflow = self.overflow_for(queue)
        return rules.decide_route(
            queue=queue,
            queue_line=info.line if info is not None else None,
            expected=expected,
            all_busy_for=self.all_busy_for(queue),
            overflow_queue=overflow,
            overflow_expected=self.expected_wait_new(overflow, priority) if overflow else None,
            mode=self.emergency,
            policy=self.settings.overflow,
        )

    # ------------------------------------------------------------------ callbacks

    def book_callback(
        self,
        queue: str,
        uniqueid: str,
        caller_number: str | None,
        *,
        customer_id: int | None = None,
    ) -> QueuedCallback:
        started = self.tracker.contact_started(uniqueid, queue) or self._clock()
        callback = self.callbacks.book(
            queue=queue,
            caller_number=caller_number,
            original_uniqueid=uniqueid,
            waiting_since=started,
            priority=self.tracker.priorities.get(uniqueid, 0),
            customer_id=customer_id,
        )
        self.tracker.callback_booked(uniqueid)
        self.feed.bump()
        return callback

    # ------------------------------------------------------------------ emergency mode

    async def set_emergency(
        self,
        active: bool,
        *,
        user_id: int | None,
        announcement: str | None = None,
        remote_addr: str | None = None,
    ) -> EmergencyMode:
        now = self._clock()
        mode = rules.switch_emergency(
            self.emergency,
            active=active,
            now=now,
            source=EmergencySource.SUPERVISOR,
            announcement=announcement,
            baseline_per_hour=self._rate.rates(now)[2],
        )
        async with self._sessions.begin() as tx:
            await tx.audit.append(
                EMERGENCY_AUDIT_ACTION,
                at=now,
                user_id=user_id,
                object_type="acd",
                object_id="emergency",
                details={"active": active, "announcement": mode.announcement},
                remote_addr=remote_addr,
            )
        if self._emergency_store is not None:
            await self._emergency_store.save(mode)
        self.emergency = mode
        state = "on" if active else "off"
        log.warning("ACD: emergency mode switched %s by user %s", state, user_id)
        self.feed.bump()
        return mode

    def greeting_addition(self) -> str | None:
        """What the IVR adds to its greeting now: the outage announcement in an emergency."""
        return self.emergency.announcement if self.emergency.active else None

    @property
    def pbx_connected(self) -> bool:
        return self._connected

    # ------------------------------------------------------------------ live view

    def snapshot(
        self, lines: frozenset[int] | None, *, with_intervals: bool = False
    ) -> LiveSnapshot:
        """The live view as the viewer may see it: `lines` None is everything (supervisors);
        otherwise queues and operators of those support lines only."""
        now = self._clock()
        statuses = self.states.statuses()
        state_of = {op_id: s.state for op_id, s in statuses.items()}
        visible_lines = sorted(lines) if lines is not None else [1, 2, 3]
        queues = []
        for name, info in self.tracker.queues.items():
            if lines is not None and (info.line is None or info.line not in lines):
                continue
            callers = self.tracker.callers(name)
            members = [
                m for m in self.states.members_of(name) if lines is None or (self._line(m) in lines)
            ]
            queues.append(
                QueueView(
                    name=name,
                    support_line=info.line,
                    is_overflow=info.is_overflow,
                    description=info.description,
                    waiting=len(callers),
                    longest_wait_seconds=round(longest_wait(callers, now), 1),
                    callers=[
                        CallerView(i + 1, _seconds(now, c.waiting_since), c.priority)
                        for i, c in enumerate(callers)
                    ],
                    callbacks=[
                        CallbackView(
                            cb.id,
                            cb.state,
                            _seconds(now, cb.waiting_since),
                            cb.attempts,
                        )
                        for cb in self.callbacks.active(name)
                    ],
                    operators=count_states(state_of, members),
                    expected_wait_seconds=_rounded(self.expected_wait_new(name)),
                    wait_target_seconds=self.emergency.wait_target_seconds,
                    all_busy_seconds=_rounded(self.all_busy_for(name)),
                )
            )
        operators = []
        for info_op in self.states.operators():
            if lines is not None and info_op.line not in lines:
                continue
            status = statuses[info_op.id]
            operators.append(
                OperatorView(
                    operator_id=info_op.id,
                    extension=info_op.extension,
                    full_name=info_op.full_name,
                    support_line=info_op.line,
                    state=status.state,
                    since=status.since,
                    pause_reason=status.pause_reason,
                    pending_pause=status.pending_pause,
                    call_queue=status.call.queue if status.call is not None else None,
                )
            )
        operators.sort(key=lambda v: (v.support_line, v.extension))
        # supervisors also get every line together (None)
        metric_lines: list[int | None] = [*visible_lines]
        if lines is None:
            metric_lines.insert(0, None)
        return LiveSnapshot(
            generated_at=now,
            version=self.feed.version,
            pbx_connected=self._connected,
            emergency=self.emergency,
            lines=visible_lines,
            queues=queues,
            operators=operators,
            metrics=self.metrics(now, metric_lines),
            intervals=self.intervals(now, metric_lines) if with_intervals else None,
        )

    def _line(self, operator_id: int) -> int | None:
        info = self.states.operator(operator_id)
        return info.line if info is not None else None

    def metrics(self, now: datetime, lines: list[int | None]) -> list[LineMetrics]:
        """Today's metrics and the current 15-minute interval's, per line (cached briefly)."""
        origin = self.day_start(now)
        spans = self.states.spans()
        key = (self.tracker.contacts_version, len(spans), tuple(lines), int(now.timestamp() // 5))
        if self._metrics_cache is not None and self._metrics_cache[0] == key:
            return self._metrics_cache[1]
        contacts = self.tracker.contacts()
        target = self.settings.service_level_seconds
        start = interval_start(now, origin=origin)
        result = [
            LineMetrics(
                line,
                compute(
                    contacts,
                    spans,
                    start=origin,
                    end=now + timedelta(microseconds=1),
                    line=line,
                    target_seconds=target,
                    now=now,
                ),
                IntervalMetrics(
                    start,
                    start + timedelta(minutes=15),
                    compute(
                        contacts,
                        spans,
                        start=start,
                        end=start + timedelta(minutes=15),
                        line=line,
                        target_seconds=target,
                        now=now,
                    ),
                ),
            )
            for line in lines
        ]
        self._metrics_cache = (key, result)
        return result

    def intervals(self, now: datetime, lines: list[int | None]) -> list[LineIntervals]:
        origin = self.day_start(now)
        contacts = self.tracker.contacts()
        spans = self.states.spans()
        return [
            LineIntervals(
                line,
                intervals(
                    contacts,
                    spans,
                    origin=origin,
                    until=now,
                    line=line,
                    target_seconds=self.settings.service_level_seconds,
                ),
            )
            for line in lines
        ]


def _rounded(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


def _seconds(now: datetime, since: datetime) -> float:
    return round(max(0.0, (now - since).total_seconds()), 1)


def _contact_from_call(call: object, line_of: Callable[[str], int | None]) -> QueueContact | None:
    """A finished call from the database as a queue contact (its first queue)."""
    queue = getattr(call, "queue_name", None)
    disposition = getattr(call, "disposition", None)
    if not queue or disposition is None or disposition is Disposition.IN_PROGRESS:
        return None
    wait = float(getattr(call, "wait_seconds", None) or 0.0)
    started: datetime = call.started_at  # type: ignore[attr-defined]
    answered: datetime | None = getattr(call, "answered_at", None)
    if disposition is Disposition.ANSWERED and answered is not None:
        outcome = ContactOutcome.ANSWERED
        offered = answered - timedelta(seconds=wait)
    else:
        outcome = (
            ContactOutcome.ABANDONED
            if disposition is Disposition.ABANDONED
            else ContactOutcome.LEFT
        )
        offered = started + timedelta(seconds=float(getattr(call, "ivr_seconds", None) or 0.0))
    talk = getattr(call, "talk_seconds", None)
    answered_talk = float(talk) if talk is not None and outcome is ContactOutcome.ANSWERED else None
    return QueueContact(
        queue=queue,
        line=line_of(queue),
        offered_at=offered,
        outcome=outcome,
        wait_seconds=wait,
        talk_seconds=answered_talk,
    )


class AcdAmiListener:
    """The AmiListener for AmiClient: everything goes to `inner` (e.g. CallEvents) first, and
    the queue/agent/originate frames are parsed once more for the ACD (one parse per frame it
    needs; the bulk of the traffic, VarSet and Newexten, is never parsed twice)."""

    def __init__(self, acd: AcdService, inner: AmiListener | None = None) -> None:
        self.acd = acd
        self.inner = inner

    async def on_connected(self, snapshot: ResyncSnapshot) -> None:
        if self.inner is not None:
            await self.inner.on_connected(snapshot)
        await self.acd.on_connected(snapshot)

    async def on_disconnected(self) -> None:
        if self.inner is not None:
            await self.inner.on_disconnected()
        await self.acd.on_disconnected()

    async def on_event(self, frame: AmiFrame, received_at: datetime) -> None:
        if self.inner is not None:
            await self.inner.on_event(frame, received_at)
        name = (frame.event or "").strip().lower()
        if name not in ACD_EVENTS:
            return
        event = parse_frame(frame, received_at)
        if event is not None:
            with bound_call(event.linkedid):
                await self.acd.on_event(event)


__all__ = [
    "AcdAmiListener",
    "AcdControl",
    "AcdService",
    "AcdSettings",
    "LiveSnapshot",
    "PbxUnavailable",
]
