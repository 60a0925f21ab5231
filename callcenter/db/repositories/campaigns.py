"""Outbound campaigns: contact lists, contacts, campaigns, dial attempts, do-not-call list.

A contact's state in a campaign is read from its *last* attempt (highest attempt_no):
none yet -> due now; pending -> in flight; positive -> reached; negative with next_attempt_at
-> due again then; negative without -> given up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, case, delete, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import Subquery

from callcenter.db.models import CallAttempt, Campaign, Contact, ContactList, DoNotCall
from callcenter.db.repositories._upsert import dialect_insert
from callcenter.domain.campaigns import AttemptOutcome, CampaignStatus
from callcenter.ports.queries import AttemptTotals, ContactProgress, DueContact, NewContact

REASON_ANSWERED = 4  # OriginateResponse Reason of an answered call

# ----------------------------------------------------------------------------- contact lists


async def create_list(session: AsyncSession, name: str) -> ContactList:
    contact_list = ContactList(name=name)
    session.add(contact_list)
    await session.flush()
    return contact_list


async def get_list(session: AsyncSession, list_id: int) -> ContactList | None:
    return await session.get(ContactList, list_id)


async def get_list_by_name(session: AsyncSession, name: str) -> ContactList | None:
    return (
        await session.scalars(select(ContactList).where(ContactList.name == name))
    ).one_or_none()


async def lists_with_counts(session: AsyncSession) -> list[tuple[ContactList, int]]:
    counts = select(Contact.list_id, func.count().label("n")).group_by(Contact.list_id).subquery()
    stmt = (
        select(ContactList, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.list_id == ContactList.id)
        .order_by(ContactList.name)
    )
    return [(row[0], int(row[1])) for row in await session.execute(stmt)]


async def existing_phones(session: AsyncSession, list_id: int, phones: Iterable[str]) -> set[str]:
    wanted = list(set(phones))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        stmt = select(Contact.phone).where(Contact.list_id == list_id, Contact.phone.in_(chunk))
        found.update(await session.scalars(stmt))
    return found


async def add_contacts(session: AsyncSession, list_id: int, contacts: Sequence[NewContact]) -> int:
    """Insert contacts, skipping phones already in the list; returns how many were new."""
    before = await count_contacts(session, list_id)
    for start in range(0, len(contacts), 500):
        rows = [
            {
                "list_id": list_id,
                "phone": c.phone,
                "name": c.name,
                "variables": dict(c.variables),
                "timezone": c.timezone,
                "customer_id": c.customer_id,
            }
            for c in contacts[start : start + 500]
        ]
        stmt = dialect_insert(session, Contact).values(rows)
        await session.execute(stmt.on_conflict_do_nothing(index_elements=["list_id", "phone"]))
    return await count_contacts(session, list_id) - before


async def count_contacts(session: AsyncSession, list_id: int) -> int:
    stmt = select(func.count()).select_from(Contact).where(Contact.list_id == list_id)
    return int(await session.scalar(stmt) or 0)


async def list_contacts(
    session: AsyncSession, list_id: int, *, limit: int = 100, offset: int = 0
) -> list[Contact]:
    stmt = (
        select(Contact)
        .where(Contact.list_id == list_id)
        .order_by(Contact.id)
        .limit(limit)
        .offset(offset)
    )
    return list(await session.scalars(stmt))


async def get_contact(session: AsyncSession, contact_id: int) -> Contact | None:
    return await session.get(Contact, contact_id)


# ----------------------------------------------------------------------------- do not call


async def add_do_not_call(session: AsyncSession, phone: str, reason: str, at: datetime) -> bool:
    """Add a number; False when it was already there."""
    stmt = dialect_insert(session, DoNotCall).values(phone=phone, reason=reason, added_at=at)
    result = await session.execute(stmt.on_conflict_do_nothing(index_elements=["phone"]))
    return bool(getattr(result, "rowcount", 0))


async def remove_do_not_call(session: AsyncSession, phone: str) -> bool:
    result = await session.execute(delete(DoNotCall).where(DoNotCall.phone == phone))
    return bool(getattr(result, "rowcount", 0))


async def list_do_not_call(
    session: AsyncSession, *, limit: int = 100, offset: int = 0
) -> list[DoNotCall]:
    stmt = select(DoNotCall).order_by(DoNotCall.phone).limit(limit).offset(offset)
    return list(await session.scalars(stmt))


async def do_not_call_among(session: AsyncSession, phones: Iterable[str]) -> set[str]:
    wanted = list(set(phones))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(
            await session.scalars(select(DoNotCall.phone).where(DoNotCall.phone.in_(chunk)))
        )
    return found


# ----------------------------------------------------------------------------- campaigns


async def create_campaign(session: AsyncSession, **values: Any) -> Campaign:
    campaign = Campaign(**values)
    session.add(campaign)
    await session.flush()
    return campaign


async def get_campaign(session: AsyncSession, campaign_id: int) -> Campaign | None:
    return await session.get(Campaign, campaign_id)


async def get_campaign_for_update(session: AsyncSession, campaign_id: int) -> Campaign | None:
    """The campaign row locked for this transaction (PostgreSQL; SQLite locks on write)."""
    stmt = select(Campaign).where(Campaign.id == campaign_id).with_for_update()
    return (await session.scalars(stmt)).one_or_none()


async def get_campaign_by_name(session: AsyncSession, name: str) -> Campaign | None:
    return (await session.scalars(select(Campaign).where(Campaign.name == name))).one_or_none()


async def list_campaigns(
    session: AsyncSession, *, statuses: Iterable[CampaignStatus] | None = None
) -> list[Campaign]:
    stmt = select(Campaign).order_by(Campaign.starts_at.desc(), Campaign.id.desc())
    if statuses is not None:
        stmt = stmt.where(Campaign.status.in_(list(statuses)))
    return list(await session.scalars(stmt))


async def campaigns_due(session: AsyncSession, now: datetime) -> list[Campaign]:
    """Scheduled or running campaigns whose start time has come."""
    stmt = (
        select(Campaign)
        .where(
            Campaign.status.in_([CampaignStatus.SCHEDULED, CampaignStatus.RUNNING]),
            Campaign.starts_at <= now,
        )
        .order_by(Campaign.starts_at, Campaign.id)
    )
    return list(await session.scalars(stmt))


async def set_status(
    session: AsyncSession,
    campaign_id: int,
    status: CampaignStatus,
    *,
    expected: Iterable[CampaignStatus] | None = None,
) -> bool:
    """Set the status (only from one of `expected`, when given); False when nothing changed."""
    stmt = update(Campaign).where(Campaign.id == campaign_id).values(status=status)
    if expected is not None:
        stmt = stmt.where(Campaign.status.in_(list(expected)))
    result = await session.execute(stmt)
    return bool(getattr(result, "rowcount", 0))


# ----------------------------------------------------------------------------- attempts


def _last_attempts(campaign_id: int) -> Subquery:
    """contact_id -> number of attempts (= the last attempt_no) in this campaign."""
    return (
        select(CallAttempt.contact_id, func.max(CallAttempt.attempt_no).label("tries"))
        .where(CallAttempt.campaign_id == campaign_id)
        .group_by(CallAttempt.contact_id)
        .subquery("tries")
    )


def _join_last(stmt: Select[Any], campaign_id: int) -> tuple[Select[Any], Any, Any]:
    """`stmt` (over Contact) joined to each contact's attempt count and last attempt row."""
    tries = _last_attempts(campaign_id)
    last = CallAttempt.__table__.alias("last")
    joined = stmt.outerjoin(tries, tries.c.contact_id == Contact.id).outerjoin(
        last,
        and_(
            last.c.campaign_id == campaign_id,
            last.c.contact_id == Contact.id,
            last.c.attempt_no == tries.c.tries,
        ),
    )
    return joined, tries, last


def _is_due(last: Any, now: datetime) -> Any:
    return or_(
        last.c.id.is_(None),
        and_(
            last.c.outcome == AttemptOutcome.NEGATIVE.value,
            last.c.next_attempt_at.is_not(None),
            last.c.next_attempt_at <= now,
        ),
    )


def _not_in_do_not_call() -> Any:
    return ~select(DoNotCall.id).where(DoNotCall.phone == Contact.phone).exists()


async def due_zones(session: AsyncSession, campaign: Campaign, now: datetime) -> list[str | None]:
    """The distinct time zones of the contacts due now (None: contacts without a zone)."""
    if campaign.contact_list_id is None:
        return []
    stmt, _, last = _join_last(select(Contact.timezone).distinct(), campaign.id)
    stmt = stmt.where(
        Contact.list_id == campaign.contact_list_id, _not_in_do_not_call(), _is_due(last, now)
    )
    return list(await session.scalars(stmt))


async def due_contacts(
    session: AsyncSession,
    campaign: Campaign,
    now: datetime,
    *,
    limit: int,
    zones: Sequence[str | None] | None = None,
    exclude: Iterable[int] = (),
) -> list[DueContact]:
    """Contacts to call now: never tried first, then retries by due time. `zones` limits them to
    contacts in those time zones (None in it: contacts without a zone)."""
    if campaign.contact_list_id is None or limit <= 0:
        return []
    base = select(Contact)
    stmt, tries, last = _join_last(base, campaign.id)
    stmt = (
        stmt.add_columns(func.coalesce(tries.c.tries, 0))
        .where(Contact.list_id == campaign.contact_list_id, _not_in_do_not_call())
        .where(_is_due(last, now))
        .order_by(last.c.id.is_not(None), last.c.next_attempt_at, Contact.id)
        .limit(limit)
    )
    excluded = list(exclude)
    if excluded:
        stmt = stmt.where(Contact.id.not_in(excluded))
    if zones is not None:
        named = [z for z in zones if z is not None]
        conditions = [Contact.timezone.in_(named)] if named else []
        if any(z is None for z in zones):
            conditions.append(Contact.timezone.is_(None))
        if not conditions:
            return []
        stmt = stmt.where(or_(*conditions))
    rows = await session.execute(stmt)
    return [DueContact(row[0], int(row[1])) for row in rows]


async def create_attempt(
    session: AsyncSession,
    *,
    campaign_id: int,
    contact_id: int,
    attempt_no: int,
    started_at: datetime,
) -> CallAttempt:
    attempt = CallAttempt(
        campaign_id=campaign_id,
        contact_id=contact_id,
        attempt_no=attempt_no,
        started_at=started_at,
        outcome=AttemptOutcome.PENDING,
    )
    session.add(attempt)
    await session.flush()
    return attempt


async def delete_attempt(session: AsyncSession, attempt_id: int) -> None:
    """Take back an attempt that never reached the PBX (the AMI link was down)."""
    await session.execute(delete(CallAttempt).where(CallAttempt.id == attempt_id))


async def get_attempt(session: AsyncSession, attempt_id: int) -> CallAttempt | None:
    return await session.get(CallAttempt, attempt_id)


async def record_answer(
    session: AsyncSession,
    attempt_id: int,
    *,
    reason_code: int,
    amd_status: str | None = None,
    amd_cause: str | None = None,
) -> None:
    values: dict[str, Any] = {"reason_code": reason_code}
    if amd_status is not None:
        values["amd_status"] = amd_status[:16]
    if amd_cause is not None:
        values["amd_cause"] = amd_cause[:64]
    await session.execute(update(CallAttempt).where(CallAttempt.id == attempt_id).values(**values))


async def finish_attempt(
    session: AsyncSession,
    attempt_id: int,
    *,
    outcome: AttemptOutcome,
    ended_at: datetime,
    reason_code: int | None,
    amd_status: str | None = None,
    amd_cause: str | None = None,
    next_attempt_at: datetime | None = None,
) -> bool:
    """Close a pending attempt; False when it was already closed (a late duplicate)."""
    stmt = (
        update(CallAttempt)
        .where(CallAttempt.id == attempt_id, CallAttempt.outcome == AttemptOutcome.PENDING)
        .values(
            outcome=outcome,
            ended_at=ended_at,
            reason_code=reason_code,
            amd_status=(amd_status or None) and amd_status[:16],
            amd_cause=(amd_cause or None) and amd_cause[:64],
            next_attempt_at=next_attempt_at,
        )
    )
    result = await session.execute(stmt)
    return bool(getattr(result, "rowcount", 0))


async def stale_pending(
    session: AsyncSession, campaign_id: int, *, started_before: datetime
) -> list[CallAttempt]:
    """Pending attempts no dialer follows any more (the platform stopped mid-call)."""
    stmt = select(CallAttempt).where(
        CallAttempt.campaign_id == campaign_id,
        CallAttempt.outcome == AttemptOutcome.PENDING,
        CallAttempt.started_at < started_before,
    )
    return list(await session.scalars(stmt))


async def list_attempts(
    session: AsyncSession, campaign_id: int, *, limit: int = 100, offset: int = 0
) -> list[tuple[CallAttempt, Contact]]:
    stmt = (
        select(CallAttempt, Contact)
        .join(Contact, Contact.id == CallAttempt.contact_id)
        .where(CallAttempt.campaign_id == campaign_id)
        .order_by(CallAttempt.id)
        .limit(limit)
        .offset(offset)
    )
    return [(row[0], row[1]) for row in await session.execute(stmt)]


# ----------------------------------------------------------------------------- progress


async def contact_progress(session: AsyncSession, campaign: Campaign) -> ContactProgress:
    if campaign.contact_list_id is None:
        return ContactProgress(0, 0, 0, 0, 0, 0, 0)
    joined, _, last = _join_last(select(Contact.id), campaign.id)
    dnc = select(DoNotCall.id).where(DoNotCall.phone == Contact.phone).exists()
    state = case(
        (last.c.outcome == AttemptOutcome.POSITIVE.value, literal("reached")),
        (last.c.outcome == AttemptOutcome.PENDING.value, literal("in_flight")),
        (dnc, literal("dnc")),
        (last.c.id.is_(None), literal("untouched")),
        (last.c.next_attempt_at.is_not(None), literal("retry")),
        else_=literal("given_up"),
    )
    stmt = (
        joined.with_only_columns(state.label("state"), func.count())
        .where(Contact.list_id == campaign.contact_list_id)
        .group_by(state)
    )
    counts = {str(row[0]): int(row[1]) for row in await session.execute(stmt)}
    return ContactProgress(
        total=sum(counts.values()),
        do_not_call=counts.get("dnc", 0),
        untouched=counts.get("untouched", 0),
        in_flight=counts.get("in_flight", 0),
        waiting_retry=counts.get("retry", 0),
        reached=counts.get("reached", 0),
        given_up=counts.get("given_up", 0),
    )


async def attempt_totals(session: AsyncSession, campaign_id: int) -> AttemptTotals:
    where = CallAttempt.campaign_id == campaign_id
    outcome_rows = await session.execute(
        select(CallAttempt.outcome, func.count()).where(where).group_by(CallAttempt.outcome)
    )
    by_outcome = {AttemptOutcome(row[0]): int(row[1]) for row in outcome_rows}
    reason_rows = await session.execute(
        select(CallAttempt.reason_code, func.count())
        .where(where, CallAttempt.reason_code.is_not(None))
        .group_by(CallAttempt.reason_code)
    )
    amd_rows = await session.execute(
        select(CallAttempt.amd_status, func.count())
        .where(where, CallAttempt.amd_status.is_not(None))
        .group_by(CallAttempt.amd_status)
    )
    answered_negative = (
        select(CallAttempt.amd_status, func.count())
        .where(
            where,
            CallAttempt.outcome == AttemptOutcome.NEGATIVE,
            CallAttempt.reason_code == REASON_ANSWERED,
        )
        .group_by(CallAttempt.amd_status)
    )
    negative_by_amd = {
        (str(row[0]).upper() if row[0] else ""): int(row[1])
        for row in await session.execute(answered_negative)
    }
    return AttemptTotals(
        total=sum(by_outcome.values()),
        positive=by_outcome.get(AttemptOutcome.POSITIVE, 0),
        negative=by_outcome.get(AttemptOutcome.NEGATIVE, 0),
        pending=by_outcome.get(AttemptOutcome.PENDING, 0),
        by_reason={int(row[0] or 0): int(row[1]) for row in reason_rows},
        by_amd={str(row[0]): int(row[1]) for row in amd_rows},
        negative_answered=sum(negative_by_amd.values()),
        negative_machine=negative_by_amd.get("MACHINE", 0),
    )


async def campaign_of_attempt(session: AsyncSession, attempt_id: int) -> int | None:
    """The campaign an attempt belongs to."""
    return await session.scalar(select(CallAttempt.campaign_id).where(CallAttempt.id == attempt_id))
