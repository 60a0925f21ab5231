"""Campaign use cases: create and edit, start / pause / resume / cancel, progress and reports,
and the do-not-call list. Sending a campaign's message by SMS or e-mail is a job of its own
(`outbound/notify_jobs.py`).

Dialling itself is the dialer's (`outbound/dialer.py`); this module tells it when something
changed and adds its live figures (calls in flight, abandon rate) to the stored progress.
Supervisors change campaigns; the refusals are audited (`common/access.py`).
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, time
from typing import Any

from callcenter.common.access import (
    AccessDenied,
    Actor,
    Clock,
    Conflict,
    InvalidInput,
    NotFound,
    Sessions,
    UseCases,
)
from callcenter.domain.calling_windows import CallingWindow, CampaignPeriod, WindowError
from callcenter.domain.campaign_lifecycle import (
    EDITABLE_STATUSES,
    CampaignAction,
    TransitionError,
    next_status,
    status_ru,
)
from callcenter.domain.campaigns import CampaignKind, CampaignStatus, DialMode, MachineAction
from callcenter.domain.dial_outcomes import (
    REASON_ANSWERED,
    REASON_BUSY,
    REASON_CONGESTION,
    REASON_NO_ANSWER,
)
from callcenter.domain.message_templates import MessageTemplate, TemplateError
from callcenter.domain.phones import InvalidPhoneNumber, normalise
from callcenter.outbound.dialer import DialerService, LiveStats
from callcenter.ports.queries import AttemptTotals, ContactProgress
from callcenter.ports.records import CallAttempt, Campaign, Contact, ContactList, DoNotCall

log = logging.getLogger(__name__)

MAX_NAME = 128
MAX_ATTEMPTS = 10
MIN_RETRY_SECONDS = 60
MAX_RETRY_SECONDS = 7 * 24 * 3600
ABANDON_CEILING_PCT = 3.0  # the standard's limit: a campaign may only be stricter
OPERATOR_MODES = frozenset(
    {DialMode.PREDICTIVE, DialMode.PROGRESSIVE, DialMode.PREVIEW, DialMode.POWER}
)


@dataclass(frozen=True)
class CampaignDraft:
    name: str
    kind: CampaignKind
    contact_list_id: int
    starts_at: datetime
    ends_at: datetime | None = None
    mode: DialMode | None = None  # operator campaigns: predictive by default
    window_start: time | None = None
    window_end: time | None = None
    weekdays: Sequence[int] | None = None
    max_attempts: int = 3
    retry_delays: Sequence[int] | None = None
    message_template: str = ""
    survey_id: int | None = None
    amd_machine_action: MachineAction = MachineAction.HANGUP
    max_abandon_pct: float = ABANDON_CEILING_PCT


@dataclass(frozen=True)
class CampaignChanges:
    """Fields to change (None: leave as it is); `clear_ends_at` removes the end time."""

    name: str | None = None
    contact_list_id: int | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    clear_ends_at: bool = False
    mode: DialMode | None = None
    window_start: time | None = None
    window_end: time | None = None
    weekdays: Sequence[int] | None = None
    max_attempts: int | None = None
    retry_delays: Sequence[int] | None = None
    message_template: str | None = None
    survey_id: int | None = None
    amd_machine_action: MachineAction | None = None
    max_abandon_pct: float | None = None


@dataclass(frozen=True)
class CampaignProgress:
    campaign: Campaign
    contacts: ContactProgress
    attempts: AttemptTotals
    live: LiveStats | None  # present while this instance dials it

    @property
    def percent_done(self) -> float:
        total = self.contacts.total
        return 100.0 * self.contacts.done / total if total else 100.0


@dataclass(frozen=True)
class CampaignReport:
    progress: CampaignProgress
    # negative attempts by why: no_answer, busy, congestion, failed, machine, hung_up
    negative: dict[str, int]
    positive: int
    answer_rate: float  # answered attempts / attempts, 0..1


class CampaignsService(UseCases):
    def __init__(
        self,
        sessions: Sessions,
        *,
        clock: Clock,
        dialer: DialerService | None = None,
    ) -> None:
        super().__init__(sessions, clock=clock)
        self._dialer = dialer

    # --- reading ------------------------------------------------------------------------

    async def get(self, campaign_id: int) -> Campaign:
        async with self._sessions() as tx:
            campaign = await tx.campaigns.get_campaign(campaign_id)
        if campaign is None:
            raise NotFound(f"Кампания {campaign_id} не найдена")
        return campaign

    async def list_campaigns(
        self, statuses: Sequence[CampaignStatus] | None = None
    ) -> Sequence[Campaign]:
        async with self._sessions() as tx:
            return await tx.campaigns.list_campaigns(statuses=statuses)

    async def progress(self, campaign_id: int) -> CampaignProgress:
        async with self._sessions() as tx:
            campaign = await tx.campaigns.get_campaign(campaign_id)
            if campaign is None:
                raise NotFound(f"Кампания {campaign_id} не найдена")
            return await self._progress(tx, campaign)

    async def _progress(self, tx: Any, campaign: Campaign) -> CampaignProgress:
        contacts = await tx.campaigns.contact_progress(campaign)
        attempts = await tx.campaigns.attempt_totals(campaign.id)
        live = self._dialer.live(campaign.id) if self._dialer is not None else None
        return CampaignProgress(campaign, contacts, attempts, live)

    async def progress_all(
        self, statuses: Sequence[CampaignStatus] | None = None
    ) -> list[CampaignProgress]:
        async with self._sessions() as tx:
            campaigns = await tx.campaigns.list_campaigns(statuses=statuses)
            return [await self._progress(tx, c) for c in campaigns]

    async def report(self, campaign_id: int) -> CampaignReport:
        progress = await self.progress(campaign_id)
        totals = progress.attempts
        reasons = totals.by_reason
        unanswered = {
            "no_answer": reasons.get(REASON_NO_ANSWER, 0),
            "busy": reasons.get(REASON_BUSY, 0),
            "congestion": reasons.get(REASON_CONGESTION, 0),
        }
        negative = {
            **unanswered,
            # Reason 0 and anything else not answered, and attempts the PBX never reported on
            "failed": totals.negative - sum(unanswered.values()) - totals.negative_answered,
            "machine": totals.negative_machine,
            # a person answered but did not get the message (hung up early, abandoned)
            "hung_up": totals.negative_answered - totals.negative_machine,
        }
        finished = totals.total - totals.pending
        answer_rate = reasons.get(REASON_ANSWERED, 0) / finished if finished else 0.0
        return CampaignReport(progress, negative, totals.positive, answer_rate)

    async def attempts(
        self, campaign_id: int, *, limit: int = 100, offset: int = 0
    ) -> Sequence[tuple[CallAttempt, Contact]]:
        await self.get(campaign_id)
        async with self._sessions() as tx:
            return await tx.campaigns.list_attempts(campaign_id, limit=limit, offset=offset)

    async def attempts_csv(self, campaign_id: int) -> str:
        """Every attempt, one row each, for a spreadsheet (UTF-8, `;` as Excel in Russia)."""
        campaign = await self.get(campaign_id)
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["телефон", "абонент", "попытка", "начало", "конец", "итог", "код", "AMD"])
        offset = 0
        async with self._sessions() as tx:
            while True:
                rows = await tx.campaigns.list_attempts(campaign.id, limit=1000, offset=offset)
                for attempt, contact in rows:
                    writer.writerow(
                        [
                            contact.phone,
                            contact.name,
                            attempt.attempt_no,
                            attempt.started_at.isoformat() if attempt.started_at else "",
                            attempt.ended_at.isoformat() if attempt.ended_at else "",
                            attempt.outcome.value,
                            "" if attempt.reason_code is None else attempt.reason_code,
                            attempt.amd_status or "",
                        ]
                    )
                if len(rows) < 1000:
                    break
                offset += 1000
        return out.getvalue()

    async def preview_text(self, campaign_id: int, contact_id: int) -> str:
        """The campaign's message as this contact would hear / read it."""
        campaign = await self.get(campaign_id)
        async with self._sessions() as tx:
            contact = await tx.campaigns.get_contact(contact_id)
        if contact is None or contact.list_id != campaign.contact_list_id:
            raise NotFound(f"Контакт {contact_id} не найден в списке кампании")
        try:
            return MessageTemplate.parse(campaign.message_template).render(
                {"name": contact.name, **contact.variables}
            )
        except TemplateError as exc:
            raise InvalidInput(str(exc)) from None

    # --- contact lists and do-not-call ------------------------------------------------

    async def lists(self) -> Sequence[tuple[ContactList, int]]:
        async with self._sessions() as tx:
            return await tx.campaigns.lists_with_counts()

    async def contacts(
        self, list_id: int, *, limit: int = 100, offset: int = 0
    ) -> Sequence[Contact]:
        async with self._sessions() as tx:
            if await tx.campaigns.get_list(list_id) is None:
                raise NotFound(f"Список контактов {list_id} не найден")
            return await tx.campaigns.list_contacts(list_id, limit=limit, offset=offset)

    async def do_not_call(self, *, limit: int = 100, offset: int = 0) -> Sequence[DoNotCall]:
        async with self._sessions() as tx:
            return await tx.campaigns.list_do_not_call(limit=limit, offset=offset)

    async def add_do_not_call(self, actor: Actor, phone: str, reason: str = "") -> str:
        self._require_supervisor(actor, "do_not_call_add", phone)
        try:
            e164 = normalise(phone)
        except InvalidPhoneNumber as exc:
            raise InvalidInput(str(exc)) from None
        async with self.transaction(actor) as tx:
            added = await tx.campaigns.add_do_not_call(e164, reason.strip()[:255], self.now())
            if added:
                await self.audit(
                    tx, actor, "do_not_call_added", object_type="phone", object_id=e164
                )
        return e164

    async def remove_do_not_call(self, actor: Actor, phone: str) -> None:
        self._require_supervisor(actor, "do_not_call_remove", phone)
        try:
            e164 = normalise(phone)
        except InvalidPhoneNumber as exc:
            raise InvalidInput(str(exc)) from None
        async with self.transaction(actor) as tx:
            if not await tx.campaigns.remove_do_not_call(e164):
                raise NotFound(f"Номера {e164} нет в списке «не звонить»")
            await self.audit(tx, actor, "do_not_call_removed", object_type="phone", object_id=e164)

    # --- changing campaigns -----------------------------------------------------------

    async def create(self, actor: Actor, draft: CampaignDraft) -> Campaign:
        self._require_supervisor(actor, "campaign_create", draft.name)
        values = _values_of(draft)
        async with self.transaction(actor) as tx:
            await self._check(tx, values, campaign_id=None)
            campaign = await tx.campaigns.create_campaign(status=CampaignStatus.DRAFT, **values)
            await self.audit(
                tx,
                actor,
                "campaign_created",
                object_type="campaign",
                object_id=campaign.id,
                details={"name": campaign.name, "kind": campaign.kind.value},
            )
        return campaign

    async def update(self, actor: Actor, campaign_id: int, changes: CampaignChanges) -> Campaign:
        self._require_supervisor(actor, "campaign_update", str(campaign_id))
        async with self.transaction(actor) as tx:
            campaign = await tx.campaigns.get_campaign_for_update(campaign_id)
            if campaign is None:
                raise NotFound(f"Кампания {campaign_id} не найдена")
            if campaign.status not in EDITABLE_STATUSES:
                raise Conflict(
                    f"Кампания {status_ru(campaign.status)}: менять её можно в черновике "
                    "или на паузе"
                )
            values = _current_values(campaign)
            for item in fields(changes):
                value = getattr(changes, item.name)
                if item.name == "clear_ends_at":
                    if value:
                        values["ends_at"] = None
                elif value is not None:
                    values[item.name] = (
                        list(value) if item.name in {"weekdays", "retry_delays"} else value
                    )
            values = _normalised(values)
            await self._check(tx, values, campaign_id=campaign.id)
            for key, value in values.items():
                setattr(campaign, key, value)
            await tx.flush()
            await self.audit(
                tx, actor, "campaign_updated", object_type="campaign", object_id=campaign.id
            )
        return campaign

    async def act(self, actor: Actor, campaign_id: int, action: CampaignAction) -> Campaign:
        """start / pause / resume / cancel (the dialer does run and finish)."""
        self._require_supervisor(actor, f"campaign_{action.value}", str(campaign_id))
        if action in (CampaignAction.RUN, CampaignAction.FINISH):
            raise InvalidInput("Это действие выполняет сам обзвон")
        async with self.transaction(actor) as tx:
            campaign = await tx.campaigns.get_campaign_for_update(campaign_id)
            if campaign is None:
                raise NotFound(f"Кампания {campaign_id} не найдена")
            try:
                status = next_status(campaign.status, action)
            except TransitionError as exc:
                raise Conflict(str(exc)) from None
            if action in (CampaignAction.START, CampaignAction.RESUME):
                await self._check_ready(tx, campaign)
            campaign.status = status
            await tx.flush()
            await self.audit(
                tx,
                actor,
                f"campaign_{action.value}",
                object_type="campaign",
                object_id=campaign.id,
                details={"status": status.value},
            )
        if self._dialer is not None:
            self._dialer.wake(campaign_id)
        return campaign

    async def _check(self, tx: Any, values: Mapping[str, Any], *, campaign_id: int | None) -> None:
        name = str(values["name"]).strip()
        if not name or len(name) > MAX_NAME:
            raise InvalidInput(f"Название кампании: от 1 до {MAX_NAME} символов")
        same = await tx.campaigns.get_campaign_by_name(name)
        if same is not None and same.id != campaign_id:
            raise Conflict(f"Кампания «{name}» уже есть")
        kind = CampaignKind(values["kind"])
        mode = DialMode(values["mode"])
        if kind is CampaignKind.OPERATOR and mode not in OPERATOR_MODES:
            raise InvalidInput(
                "Операторской кампании нужен режим: predictive, progressive, preview или power"
            )
        if kind is not CampaignKind.OPERATOR and mode is not DialMode.NONE:
            raise InvalidInput("Автоинформирование и опрос идут без операторов: режим «none»")
        list_id = values["contact_list_id"]
        if list_id is None or await tx.campaigns.get_list(list_id) is None:
            raise InvalidInput(f"Список контактов {list_id} не найден")
        template_text = str(values["message_template"])
        if kind is CampaignKind.AUTO_INFORM and not template_text.strip():
            raise InvalidInput("Для автоинформирования нужен текст сообщения")
        if template_text.strip():
            try:
                MessageTemplate.parse(template_text)
            except TemplateError as exc:
                raise InvalidInput(f"Текст сообщения: {exc}") from None
        if kind is CampaignKind.SURVEY:
            survey_id = values["survey_id"]
            survey = None if survey_id is None else await tx.surveys.get(survey_id)
            if survey is None or not survey.questions:
                raise InvalidInput("Для опроса нужна анкета с вопросами")
        try:
            CallingWindow.of(values["window_start"], values["window_end"], values["weekdays"])
            CampaignPeriod(values["starts_at"], values["ends_at"])
        except WindowError as exc:
            raise InvalidInput(str(exc)) from None
        except ValueError:
            raise InvalidInput("Время начала и окончания — с часовым поясом (UTC)") from None
        if not 1 <= int(values["max_attempts"]) <= MAX_ATTEMPTS:
            raise InvalidInput(f"Попыток дозвона: от 1 до {MAX_ATTEMPTS}")
        delays = list(values["retry_delays"])
        if not delays or any(not MIN_RETRY_SECONDS <= d <= MAX_RETRY_SECONDS for d in delays):
            raise InvalidInput("Паузы между попытками: от минуты до недели, в секундах")
        if not 0 < float(values["max_abandon_pct"]) <= ABANDON_CEILING_PCT:
            raise InvalidInput(
                f"Доля брошенных звонков: больше 0 и не больше {ABANDON_CEILING_PCT} %"
            )

    async def _check_ready(self, tx: Any, campaign: Campaign) -> None:
        """Before dialling: the list is not empty and every contact can fill the message."""
        if campaign.contact_list_id is None:
            raise InvalidInput("У кампании нет списка контактов")
        if await tx.campaigns.count_contacts(campaign.contact_list_id) == 0:
            raise InvalidInput("Список контактов пуст")
        if not campaign.message_template.strip():
            return
        template = MessageTemplate.parse(campaign.message_template)
        problems: list[str] = []
        offset = 0
        while len(problems) < 5:
            batch = await tx.campaigns.list_contacts(
                campaign.contact_list_id, limit=1000, offset=offset
            )
            for contact in batch:
                issues = template.check({"name": contact.name, **contact.variables})
                if issues:
                    problems.append(f"{contact.phone}: {'; '.join(issues)}")
            if len(batch) < 1000:
                break
            offset += 1000
        if problems:
            raise InvalidInput(
                "Не для всех контактов можно составить сообщение: " + " | ".join(problems[:5])
            )

    @staticmethod
    def _require_supervisor(actor: Actor, action: str, object_id: str) -> None:
        if not actor.is_supervisor:
            raise AccessDenied(
                "Кампаниями управляет супервизор",
                action=action,
                object_type="campaign",
                object_id=object_id,
            )


def _values_of(draft: CampaignDraft) -> dict[str, Any]:
    mode = draft.mode
    if mode is None:
        mode = DialMode.PREDICTIVE if draft.kind is CampaignKind.OPERATOR else DialMode.NONE
    return _normalised(
        {
            "name": draft.name,
            "kind": draft.kind,
            "mode": mode,
            "contact_list_id": draft.contact_list_id,
            "starts_at": draft.starts_at,
            "ends_at": draft.ends_at,
            "window_start": draft.window_start,
            "window_end": draft.window_end,
            "weekdays": list(draft.weekdays) if draft.weekdays else [1, 2, 3, 4, 5, 6, 7],
            "max_attempts": draft.max_attempts,
            "retry_delays": list(draft.retry_delays) if draft.retry_delays else [900, 3600, 14400],
            "message_template": draft.message_template,
            "survey_id": draft.survey_id,
            "amd_machine_action": draft.amd_machine_action,
            "max_abandon_pct": draft.max_abandon_pct,
        }
    )


def _current_values(campaign: Campaign) -> dict[str, Any]:
    return {
        "name": campaign.name,
        "kind": campaign.kind,
        "mode": campaign.mode,
        "contact_list_id": campaign.contact_list_id,
        "starts_at": campaign.starts_at,
        "ends_at": campaign.ends_at,
        "window_start": campaign.window_start,
        "window_end": campaign.window_end,
        "weekdays": list(campaign.weekdays),
        "max_attempts": campaign.max_attempts,
        "retry_delays": list(campaign.retry_delays),
        "message_template": campaign.message_template,
        "survey_id": campaign.survey_id,
        "amd_machine_action": campaign.amd_machine_action,
        "max_abandon_pct": campaign.max_abandon_pct,
    }


def _normalised(values: dict[str, Any]) -> dict[str, Any]:
    values["name"] = str(values["name"]).strip()
    values["weekdays"] = sorted({int(d) for d in values["weekdays"]})
    values["retry_delays"] = [int(d) for d in values["retry_delays"]]
    return values
