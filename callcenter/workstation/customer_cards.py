"""Caller identification (table 9, function 18): find the customer by phone number or
account and show the card with the recent history of calls and appeals.

Every lookup is audited: the card is personal data (152-FZ). The history lists the
customer's appeals of every line as summaries; opening or changing one follows the
appeal's own line rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from callcenter.common.access import Actor, InvalidInput, UseCases
from callcenter.domain import phones
from callcenter.ports.queries import CallFilter
from callcenter.ports.records import Appeal, Call, Customer

HISTORY_LENGTH = 10


@dataclass(frozen=True, slots=True)
class CustomerCard:
    customer: Customer
    calls: Sequence[Call]
    appeals: Sequence[Appeal]


@dataclass(frozen=True, slots=True)
class Lookup:
    query: str  # the normalised phone number or the account number looked up
    cards: list[CustomerCard]


class CustomerCardsService(UseCases):
    async def lookup(
        self, actor: Actor, *, phone: str | None = None, account: str | None = None
    ) -> Lookup:
        if (phone is None) == (account is None):
            raise InvalidInput("Укажите либо номер телефона, либо лицевой счёт")
        async with self.transaction(actor) as tx:
            if phone is not None:
                try:
                    query = phones.normalise(phone)
                except phones.InvalidPhoneNumber as exc:
                    raise InvalidInput(str(exc)) from None
                customers = await tx.customers.find_by_phone(query)
            else:
                query = (account or "").strip()
                if not query:
                    raise InvalidInput("Пустой номер лицевого счёта")
                found = await tx.customers.find_by_account(query)
                customers = [found] if found is not None else []
            cards = []
            for customer in customers:
                calls = await tx.calls.search(
                    CallFilter(customer_id=customer.id, limit=HISTORY_LENGTH)
                )
                appeals = await tx.appeals.list_for_customer(customer.id, limit=HISTORY_LENGTH)
                cards.append(CustomerCard(customer=customer, calls=calls, appeals=appeals))
            await self.audit(
                tx,
                actor,
                "customer.lookup",
                object_type="customer",
                object_id=str(customers[0].id) if len(customers) == 1 else "",
                details={
                    "by": "phone" if phone is not None else "account",
                    "query": query,
                    "customer_ids": [c.id for c in customers],
                },
            )
            return Lookup(query=query, cards=cards)
