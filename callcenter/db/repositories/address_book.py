"""Address books: the corporate directory and each user's personal contacts.

Text search is the service's job (Cyrillic case folding is not portable in SQL: SQLite's
lower() folds ASCII only); these functions filter by owner and phone, sort and page.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.db.models import CorporateContact, PersonalContact

# ---- corporate directory ----


async def corporate_all(session: AsyncSession) -> list[CorporateContact]:
    stmt = select(CorporateContact).order_by(CorporateContact.name, CorporateContact.id)
    return list(await session.scalars(stmt))


async def corporate_get(session: AsyncSession, contact_id: int) -> CorporateContact | None:
    return await session.get(CorporateContact, contact_id)


async def corporate_create(
    session: AsyncSession,
    *,
    name: str,
    department: str = "",
    position: str = "",
    phone: str | None = None,
    extension: str | None = None,
    email: str | None = None,
) -> CorporateContact:
    contact = CorporateContact(
        name=name,
        department=department,
        position=position,
        phone=phone,
        extension=extension,
        email=email,
    )
    session.add(contact)
    await session.flush()
    return contact


async def corporate_delete(session: AsyncSession, contact: CorporateContact) -> None:
    await session.delete(contact)
    await session.flush()


async def corporate_by_phones(
    session: AsyncSession, numbers: Collection[str]
) -> list[CorporateContact]:
    """Directory entries whose phone or extension is one of `numbers` (normalised)."""
    if not numbers:
        return []
    stmt = select(CorporateContact).where(
        or_(CorporateContact.phone.in_(numbers), CorporateContact.extension.in_(numbers))
    )
    return list(await session.scalars(stmt.order_by(CorporateContact.id)))


# ---- personal address book ----


async def personal_get(session: AsyncSession, contact_id: int) -> PersonalContact | None:
    return await session.get(PersonalContact, contact_id)


async def personal_page(
    session: AsyncSession, user_id: int, *, limit: int, offset: int
) -> list[PersonalContact]:
    stmt = (
        select(PersonalContact)
        .where(PersonalContact.user_id == user_id)
        .order_by(PersonalContact.name, PersonalContact.id)
        .limit(limit)
        .offset(offset)
    )
    return list(await session.scalars(stmt))


async def personal_count(session: AsyncSession, user_id: int) -> int:
    stmt = (
        select(func.count()).select_from(PersonalContact).where(PersonalContact.user_id == user_id)
    )
    return await session.scalar(stmt) or 0


async def personal_all(session: AsyncSession, user_id: int) -> list[PersonalContact]:
    stmt = (
        select(PersonalContact)
        .where(PersonalContact.user_id == user_id)
        .order_by(PersonalContact.name, PersonalContact.id)
    )
    return list(await session.scalars(stmt))


async def personal_create(
    session: AsyncSession,
    *,
    user_id: int,
    name: str,
    phone: str,
    created_at: datetime,
    note: str = "",
) -> PersonalContact:
    contact = PersonalContact(
        user_id=user_id, name=name, phone=phone, note=note, created_at=created_at
    )
    session.add(contact)
    await session.flush()
    return contact


async def personal_delete(session: AsyncSession, contact: PersonalContact) -> None:
    await session.delete(contact)
    await session.flush()


async def personal_by_phones(
    session: AsyncSession, user_id: int, numbers: Collection[str]
) -> list[PersonalContact]:
    if not numbers:
        return []
    stmt = select(PersonalContact).where(
        PersonalContact.user_id == user_id, PersonalContact.phone.in_(numbers)
    )
    return list(await session.scalars(stmt.order_by(PersonalContact.id)))
