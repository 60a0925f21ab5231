"""One campaign being dialled: pacing (domain.pacing), contacts due in an open calling window,
Originate, the fate of each call, and the attempts stored with their result.

    loop:  pace -> pick due contacts in an open calling window, not on the do-not-call list
           -> store a pending attempt -> Originate(Context=dialer, Exten=amd,
           ChannelId=<uuid>, Variable: CC_CAMPAIGN_ID / CC_ATTEMPT_ID / CC_CONTACT_ID)

Reason 0/3/5/8 of the OriginateResponse closes the attempt as negative with that reason code;
Reason 4 (answered) waits for the AGI session (`callcenter.outbound.dialer_script`). What each
call came to feeds the pacer: live answer or not and after how long, abandoned or put
through, and (from the operator pool) handle times.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import Counter
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from callcenter.domain.calling_windows import CallingWindow, CampaignPeriod, WindowError, parse_zone
from callcenter.domain.campaign_lifecycle import ACTIVE_STATUSES
from callcenter.domain.campaigns import CampaignKind, CampaignStatus, DialMode, MachineAction
from callcenter.domain.dial_outcomes import (
    LIVE_RESULTS,
    REASON_ANSWERED,
    AnsweredCall,
    DialResult,
    RetryPolicy,
    classify_answered,
    outcome_of,
    result_of_reason,
)
from callcenter.domain.message_templates import MessageTemplate, TemplateError
from callcenter.domain.pacing import (
    CallLoad,
    OperatorLoad,
    Pacer,
    PacerConfig,
    PacingDecision,
    PacingReason,
    PredictiveSettings,
)
from callcenter.outbound.dialer_ports import CampaignLocks, DialerChannel, OperatorPool, Originator
from callcenter.outbound.dialer_script import CallScript, SurveyQuestion
from callcenter.outbound.dialer_types import (
    VAR_ATTEMPT,
    VAR_CAMPAIGN,
    VAR_CONTACT,
    CallStage,
    DialerConfig,
    LiveCall,
    LiveStats,
    channel_for,
)
from callcenter.ports.queries import DueContact
from callcenter.ports.records import Campaign
from callcenter.ports.stores import Transactions

log = logging.getLogger("callcenter.outbound.dialer")


class DialerHost(Protocol):
    """What a campaign dialer needs of the service that runs it (`DialerService`)."""

    sessions: Transactions
    originator: Originator
    pool: OperatorPool
    locks: CampaignLocks
    config: DialerConfig

    def now(self) -> datetime: ...

    async def prompt(self, text: str) -> str: ...

    def register(self, channel_id: str, dialer: CampaignDialer) -> None: ...

    def unregister(self, channel_id: str) -> None: ...

    def changed(self) -> None: ...

    def spawn(self, coro: Awaitable[None]) -> None: ...


@dataclass
class _Counters:
    placed: int = 0
    answered: int = 0
    live: int = 0
    abandoned: int = 0
    results: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class _CampaignSpec:
    """The campaign as the dialer works it (read when it starts, re-read every scan)."""

    id: int
    name: str
    kind: CampaignKind
    mode: DialMode
    status: CampaignStatus
    window: CallingWindow
    period: CampaignPeriod
    retry: RetryPolicy
    template: MessageTemplate | None
    survey_id: int | None
    machine_action: MachineAction
    max_abandon_pct: float
    target_abandon_pct: float

    @classmethod
    def of(cls, campaign: Campaign, config: DialerConfig) -> _CampaignSpec:
        template = None
        if campaign.message_template.strip():
            template = MessageTemplate.parse(campaign.message_template)
        return cls(
            id=campaign.id,
            name=campaign.name,
            kind=CampaignKind(campaign.kind),
            mode=DialMode.NONE
            if campaign.kind is not CampaignKind.OPERATOR
            else DialMode(campaign.mode),
            status=CampaignStatus(campaign.status),
            window=CallingWindow.of(campaign.window_start, campaign.window_end, campaign.weekdays),
            period=CampaignPeriod(campaign.starts_at, campaign.ends_at),
            retry=RetryPolicy.of(
                campaign.max_attempts, campaign.retry_delays, config.retry_by_result
            ),
            template=template,
            survey_id=campaign.survey_id,
            machine_action=MachineAction(campaign.amd_machine_action),
            max_abandon_pct=campaign.max_abandon_pct,
            target_abandon_pct=campaign.target_abandon_pct,
        )


class CampaignDialer:
    def __init__(self, service: DialerHost, spec: _CampaignSpec) -> None:
        self.service = service
        self.spec = spec
        cfg = service.config
        ceiling = min(max(spec.max_abandon_pct, 0.1), 3.0)
        settings = PredictiveSettings(
            target_abandon=min(max(spec.target_abandon_pct, 0.05), ceiling) / 100.0,
            ceiling_abandon=ceiling / 100.0,
            grace_seconds=cfg.grace_seconds,
        )
        self.pacer = Pacer(
            PacerConfig(
                mode=spec.mode,
                predictive=settings,
                power_ratio=cfg.power_ratio,
                max_channels=cfg.max_channels,
                window_seconds=cfg.window_seconds,
            )
        )
        if spec.kind is CampaignKind.OPERATOR:
            self.pacer.handle_times = service.pool.handle_times(cfg.operator_queue)
        self.calls: dict[str, LiveCall] = {}
        self.counters = _Counters()
        self.questions: list[SurveyQuestion] = []
        self.last_decision = PacingDecision(0, PacingReason.NO_CAPACITY)
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._preview: dict[int, datetime] = {}  # contact id -> reserved until
        self._hold_until: datetime | None = None  # no new calls before (the AMI link failed)
        self.ticks = 0  # loop rounds so far (tests and the monitor can tell it is alive)

    # --- state --------------------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def _now(self) -> datetime:
        return self.service.now()

    def stats(self) -> LiveStats:
        now = self._now()
        window = self.pacer.outcomes.counts(now.timestamp())
        load = self._operators(now)
        return LiveStats(
            campaign_id=self.spec.id,
            mode=self.spec.mode.value,
            dialling=sum(1 for c in self.calls.values() if c.stage is not CallStage.IN_SESSION),
            in_session=sum(1 for c in self.calls.values() if c.stage is CallStage.IN_SESSION),
            placed=self.counters.placed,
            answered=self.counters.answered,
            live=self.counters.live,
            abandoned=self.counters.abandoned,
            window_live=window.live,
            window_abandoned=window.abandoned,
            abandon_rate=window.abandon_rate,
            answer_rate=self.pacer.outcomes.answer_rate(now.timestamp()),
            results=dict(self.counters.results),
            operators_ready=load.ready,
            operators_busy=len(load.busy_elapsed),
            last_decision=self.last_decision.calls,
            last_reason=self.last_decision.reason.value,
            updated_at=now,
        )

    def _operators(self, now: datetime) -> OperatorLoad:
        if self.spec.kind is not CampaignKind.OPERATOR:
            return OperatorLoad(0)
        return self.service.pool.load(self.service.config.operator_queue, now)

    # --- the loop -----------------------------------------------------------------------

    async def run(self) -> None:
        service = self.service
        await self._load_survey()
        await self._close_stale()
        async with service.sessions.begin() as tx:
            await tx.campaigns.set_status(
                self.spec.id,
                CampaignStatus.RUNNING,
                expected=[CampaignStatus.SCHEDULED],
            )
        log.info(
            "dialer: campaign %s «%s» started (%s)", self.spec.id, self.spec.name, self.spec.mode
        )
        next_scan = self._now()
        while True:
            now = self._now()
            if now >= next_scan:
                next_scan = now + timedelta(seconds=service.config.scan_seconds)
                if not await self._refresh(now):
                    break
            self._expire_silent_calls(now)
            if self._dialling_allowed(now):
                await self._place_calls(now)
            self.ticks += 1
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(service.config.tick_seconds):
                    await self._wake.wait()
        log.info("dialer: campaign %s stopped dialling", self.spec.id)

    def _dialling_allowed(self, now: datetime) -> bool:
        if self._hold_until is not None and now < self._hold_until:
            return False
        return (
            not self._stop.is_set()
            and self.spec.status in ACTIVE_STATUSES
            and self.spec.period.open(now)
        )

    async def _refresh(self, now: datetime) -> bool:
        """Re-read the campaign; False when this dialer is done with it."""
        service = self.service
        if not await service.locks.held(self.spec.id):
            log.warning("dialer: campaign %s lock lost, stopping", self.spec.id)
            self._stop.set()
        async with service.sessions() as tx:
            campaign = await tx.campaigns.get_campaign(self.spec.id)
            if campaign is None:
                self._stop.set()
                return bool(self.calls)
            try:
                self.spec = _CampaignSpec.of(campaign, service.config)
            except (TemplateError, WindowError) as exc:
                log.error("dialer: campaign %s cannot run: %s", self.spec.id, exc)
                self._stop.set()
            progress = await tx.campaigns.contact_progress(campaign)
        if self._stop.is_set() or self.spec.status not in ACTIVE_STATUSES:
            return bool(self.calls)  # let the calls under way finish
        finished = progress.remaining == 0 or self.spec.period.over(now)
        if finished and not self.calls:
            async with service.sessions.begin() as tx:
                await tx.campaigns.set_status(
                    self.spec.id, CampaignStatus.FINISHED, expected=ACTIVE_STATUSES
                )
            log.info("dialer: campaign %s finished", self.spec.id)
            return False
        return True

    async def _load_survey(self) -> None:
        if self.spec.kind is not CampaignKind.SURVEY or self.spec.survey_id is None:
            return
        async with self.service.sessions() as tx:
            survey = await tx.surveys.get(self.spec.survey_id)
            if survey is not None:
                self.questions = [
                    SurveyQuestion(q.id, q.text_ru, dict(q.answers)) for q in survey.questions
                ]

    async def _close_stale(self) -> None:
        """Pending attempts left by a stopped instance: closed, and retried when allowed."""
        now = self._now()
        before = now - timedelta(seconds=self.service.config.stale_attempt_seconds)
        async with self.service.sessions.begin() as tx:
            for attempt in await tx.campaigns.stale_pending(self.spec.id, started_before=before):
                await tx.campaigns.finish_attempt(
                    attempt.id,
                    outcome=outcome_of(DialResult.FAILED),
                    result=DialResult.FAILED.value,
                    ended_at=now,
                    reason_code=attempt.reason_code,
                    next_attempt_at=now
                    if attempt.attempt_no < self.spec.retry.max_attempts
                    else None,
                )

    def _expire_silent_calls(self, now: datetime) -> None:
        cfg = self.service.config
        for call in list(self.calls.values()):
            if call.stage is CallStage.DIALLING:
                limit = call.dialled_at + timedelta(seconds=cfg.ring_timeout + 60)
                if now > limit:  # no OriginateResponse at all: the event was lost
                    self.service.spawn(self._finish(call, DialResult.FAILED, reason=None))
            elif call.stage is CallStage.ANSWERED and call.answered_at is not None:
                limit = call.answered_at + timedelta(seconds=cfg.answer_watchdog_seconds)
                if now > limit:  # answered but the AGI session never came (AGISTATUS=FAILURE)
                    self.service.spawn(
                        self._finish(call, DialResult.FAILED, reason=REASON_ANSWERED)
                    )

    async def _place_calls(self, now: datetime) -> None:
        cfg = self.service.config
        at = now.timestamp()
        operators = self._operators(now)
        ringing = [c for c in self.calls.values() if c.stage is not CallStage.IN_SESSION]
        waiting = sum(1 for c in self.calls.values() if c.waiting_operator)
        decision = self.pacer.decide(
            at,
            operators,
            CallLoad(
                in_flight=len(ringing),
                waiting_live=waiting,
                in_flight_elapsed=tuple(
                    max(0.0, (now - c.dialled_at).total_seconds()) for c in ringing
                ),
            ),
            max_new=cfg.max_channels * 4,
            active_channels=len(self.calls),
        )
        self.last_decision = decision
        if decision.calls <= 0:
            return
        due = await self._due_contacts(now, decision.calls)
        for item in due:
            if not self._dialling_allowed(self._now()):
                break
            await self._dial(item, now)

    async def _due_contacts(self, now: datetime, limit: int) -> list[DueContact]:
        cfg = self.service.config
        async with self.service.sessions() as tx:
            campaign = await tx.campaigns.get_campaign(self.spec.id)
            if campaign is None:
                return []
            zones = await tx.campaigns.due_zones(campaign, now)
            open_zones = [
                z for z in zones if self.spec.window.allows(now, parse_zone(z, cfg.default_zone))
            ]
            if not open_zones:
                return []
            busy = {c.contact_id for c in self.calls.values()}
            busy |= {cid for cid, until in self._preview.items() if until > now}
            return await tx.campaigns.due_contacts(
                campaign, now, limit=limit, zones=open_zones, exclude=busy
            )

    def _text_for(self, variables: Mapping[str, Any], name: str) -> str:
        if self.spec.template is None:
            return ""
        values = {"name": name, **variables}
        return self.spec.template.render(values)

    async def _dial(self, item: DueContact, now: datetime) -> LiveCall | None:
        service = self.service
        cfg = service.config
        contact = item.contact
        try:
            text = self._text_for(contact.variables, contact.name)
        except TemplateError as exc:
            # a contact whose values cannot fill the message: not called, reported once
            log.warning("dialer: contact %s skipped: %s", contact.id, exc)
            async with service.sessions.begin() as tx:
                attempt = await tx.campaigns.create_attempt(
                    campaign_id=self.spec.id,
                    contact_id=contact.id,
                    attempt_no=item.attempts_made + 1,
                    started_at=now,
                )
                await tx.campaigns.finish_attempt(
                    attempt.id,
                    outcome=outcome_of(DialResult.FAILED),
                    result=DialResult.FAILED.value,
                    ended_at=now,
                    reason_code=None,
                )
            return None
        async with service.sessions.begin() as tx:
            attempt = await tx.campaigns.create_attempt(
                campaign_id=self.spec.id,
                contact_id=contact.id,
                attempt_no=item.attempts_made + 1,
                started_at=now,
            )
        call = LiveCall(
            channel_id=str(uuid.uuid4()),
            attempt_id=attempt.id,
            attempt_no=attempt.attempt_no,
            contact_id=contact.id,
            phone=contact.phone,
            text=text,
            dialled_at=now,
        )
        if text:
            # rendered while it rings, so the message is ready when someone answers
            call.prompt = asyncio.create_task(self.service.prompt(text))
        self.calls[call.channel_id] = call
        service.register(call.channel_id, self)
        self.counters.placed += 1
        try:
            await service.originator.originate(
                channel_for(cfg.channel_template, contact.phone),
                context=cfg.context,
                exten=cfg.exten,
                priority=1,
                channel_id=call.channel_id,
                caller_id_name=cfg.caller_id_name,
                caller_id_number=cfg.caller_id_number,
                ring_timeout=cfg.ring_timeout,
                variables={
                    VAR_CAMPAIGN: self.spec.id,
                    VAR_ATTEMPT: attempt.id,
                    VAR_CONTACT: contact.id,
                },
            )
        except Exception as exc:
            # the PBX link failed (not connected, no reply): the call did not happen, so the
            # attempt is taken back rather than counted against the contact
            log.warning("dialer: Originate for attempt %s failed: %s", attempt.id, exc)
            await self._forget(call)
            async with service.sessions.begin() as tx:
                await tx.campaigns.delete_attempt(attempt.id)
            self.counters.placed -= 1
            self._hold_until = self._now() + timedelta(seconds=cfg.originate_backoff_seconds)
            return None
        return call

    async def _forget(self, call: LiveCall) -> None:
        self.calls.pop(call.channel_id, None)
        self.service.unregister(call.channel_id)
        if call.prompt is not None and not call.prompt.done():
            call.prompt.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await call.prompt

    # --- what happened to a call --------------------------------------------------------

    async def originate_response(self, call: LiveCall, success: bool, reason: int) -> None:
        now = self._now()
        if success and reason == REASON_ANSWERED:
            if call.stage is CallStage.DIALLING:
                call.stage = CallStage.ANSWERED
                call.answered_at = now
                self.counters.answered += 1
            async with self.service.sessions.begin() as tx:
                await tx.campaigns.record_answer(call.attempt_id, reason_code=reason)
            return
        result = result_of_reason(reason) or DialResult.FAILED
        self.pacer.dial_finished(
            now.timestamp(), live=False, connect_seconds=(now - call.dialled_at).total_seconds()
        )
        await self._finish(call, result, reason=reason)

    async def _finish(
        self,
        call: LiveCall,
        result: DialResult,
        *,
        reason: int | None,
        amd_status: str | None = None,
        amd_cause: str | None = None,
    ) -> None:
        if self.calls.get(call.channel_id) is not call:
            return  # already closed (watchdog and session racing)
        await self._forget(call)
        now = self._now()
        next_at = self.spec.retry.next_attempt(result, call.attempt_no, now)
        if next_at is not None and self.spec.period.over(next_at):
            next_at = None
        async with self.service.sessions.begin() as tx:
            await tx.campaigns.finish_attempt(
                call.attempt_id,
                outcome=outcome_of(result),
                ended_at=now,
                reason_code=reason,
                amd_status=amd_status,
                amd_cause=amd_cause,
                next_attempt_at=next_at,
                result=result.value,
            )
        self.counters.results[result.value] += 1
        if result in LIVE_RESULTS:
            self.counters.live += 1
        if result is DialResult.ABANDONED:
            self.counters.abandoned += 1
        log.info(
            "dialer: campaign %s attempt %s -> %s (%s, reason %s)",
            self.spec.id,
            call.attempt_id,
            result.value,
            outcome_of(result).value,
            reason,
        )
        self.service.changed()
        self.wake()

    # --- the AGI session ------------------------------------------------------------------

    async def serve(self, channel: DialerChannel, call: LiveCall) -> None:
        now = self._now()
        if call.stage is CallStage.DIALLING:  # the AGI session beat the OriginateResponse
            call.answered_at = now
            self.counters.answered += 1
        call.stage = CallStage.IN_SESSION
        amd_status: str | None = None
        amd_cause: str | None = None
        facts = AnsweredCall(amd_status=None)
        try:
            amd_status = await channel.get_variable("AMDSTATUS")
            amd_cause = await channel.get_variable("AMDCAUSE")
            facts = AnsweredCall(amd_status=amd_status)
            facts = await self._call_script().run(channel, call, facts)
        except Exception:
            # the caller hung up (the AGI channel raises), or a prompt failed: what was
            # learned so far decides the outcome
            if not channel.hung_up:
                log.exception("dialer: AGI session of attempt %s failed", call.attempt_id)
        finally:
            result = classify_answered(self.spec.kind, facts)
            if (amd_status or "").upper() == "HANGUP" and result is DialResult.HUNG_UP:
                live = False  # gone during detection: not a live answer for the pacing
            else:
                live = result in LIVE_RESULTS
            at = self._now().timestamp()
            self.pacer.dial_finished(
                at, live=live, connect_seconds=(now - call.dialled_at).total_seconds()
            )
            if (
                self.spec.kind is CampaignKind.OPERATOR
                and live
                and result
                in (
                    DialResult.CONNECTED,
                    DialResult.ABANDONED,
                )
            ):
                self.pacer.live_answer(at, abandoned=result is DialResult.ABANDONED)
            await self._finish(
                call, result, reason=REASON_ANSWERED, amd_status=amd_status, amd_cause=amd_cause
            )

    def _call_script(self) -> CallScript:
        service = self.service
        return CallScript(
            config=service.config,
            kind=self.spec.kind,
            machine_action=self.spec.machine_action,
            questions=self.questions,
            prompt=service.prompt,
            reserve_operator=service.pool.reserve,
            record_answer=self._record_answer,
        )

    async def _record_answer(self, call: LiveCall, question_id: int, key: str) -> None:
        async with self.service.sessions.begin() as tx:
            await tx.surveys.record_answer(
                survey_id=self.spec.survey_id or 0,
                question_id=question_id,
                answer_key=key,
                at=self._now(),
                contact_id=call.contact_id,
            )

    # --- preview ------------------------------------------------------------------------

    async def preview_next(self, now: datetime, hold: timedelta) -> DueContact | None:
        due = await self._due_contacts(now, 1)
        if not due:
            return None
        self._preview[due[0].contact.id] = now + hold
        return due[0]

    async def preview_dial(self, contact_id: int, now: datetime) -> LiveCall | None:
        self._preview.pop(contact_id, None)
        async with self.service.sessions() as tx:
            campaign = await tx.campaigns.get_campaign(self.spec.id)
            if campaign is None:
                return None
            due = await tx.campaigns.due_contacts(
                campaign,
                now,
                limit=10_000,
                exclude=[c.contact_id for c in self.calls.values()],
            )
        match = next((d for d in due if d.contact.id == contact_id), None)
        if match is None:
            return None
        return await self._dial(match, now)
