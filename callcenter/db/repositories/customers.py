"""The customer base: lookup by caller number (ANI) and by account number."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.db.models import Customer, CustomerPhone
from callcenter.domain.customers import CustomerCategory


async def get(session: AsyncSession, customer_id: int) -> Customer | None:
    return await session.get(Customer, customer_id)


async def find_by_phone(session: AsyncSession, phone: str) -> list[Customer]:
    """Customers with this E.164 number; several when a number is shared (a family, a firm)."""
    stmt = (
        select(Customer)
        .join(CustomerPhone, CustomerPhone.customer_id == Customer.id)
        .where(CustomerPhone.phone == phone)
        .order_by(Customer.id)
    )
    return list(await session.scalars(stmt))


async def find_by_account(session: AsyncSession, account_number: str) -> Customer | None:
    result = await session.scalars(
        select(Customer).where(Customer.account_number == account_number)
    )
    return result.one_or_none()


async def count(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(Customer)) or 0


async def create(
    session: AsyncSession,
    *,
    account_number: str,
    full_name: str,
    category: CustomerCategory,
    phones: Iterable[str] = (),
    address: str = "",
    locality_id: int | None = None,
    email: str | None = None,
    balance_kopecks: int = 0,
) -> Customer:
    customer = Customer(
        account_number=account_number,
        full_name=full_name,
        category=category,
        address=address,
        locality_id=locality_id,
        email=email,
        balance_kopecks=balance_kopecks,
        phones=[CustomerPhone(phone=p) for p in dict.fromkeys(phones)],
    )
    session.add(customer)
    await session.flush()
    # load the locality now: lazy loading is not possible under asyncio
    await session.refresh(customer, ["locality"])
    return customer
