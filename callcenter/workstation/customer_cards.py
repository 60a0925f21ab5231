"""Caller identification (table 9, function 18): find the customer by phone number or
account and show the card with the recent history of calls and appeals.

Every lookup is audited: the card is personal data (152-FZ). The history lists the
customer's appeals of every line as summaries; opening or changing one follows the
appeal's own line rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from callcenter.common.access import Actor, InvalidInput, UseCases
from callcenter.db.models import Appeal, Call, Customer
from callcenter.db.repositories import appeals as appeals_repo
from callcenter.db.repositories import calls as calls_repo
from callcenter.db.repositories import customers as customers_repo
from callcenter.db.repositories.calls import CallFilter
from callcenter.domain import phones

HISTORY_LENGTH = 10


@dataclass(frozen=True, slots=True)
class CustomerCard:
    customer: Customer
    calls: list[Call]
    appeals: list[Appeal]


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
        async with self.transaction(actor) as session:
            if phone is not None:
                try:
                    query = phones.normalise(phone)
                except phones.InvalidPhoneNumber as exc:
                    raise InvalidInput(str(exc)) from None
                customers = await customers_repo.find_by_phone(session, query)
            else:
                query = (account or "").strip()
                if not query:
                    raise InvalidInput("Пустой номер лицевого счёта")
                found = await customers_repo.find_by_account(session, query)
                customers = [found] if found is not None else []
            cards = []
            for customer in customers:
                calls = await calls_repo.search(
                    session, CallFilter(customer_id=customer.id, limit=HISTORY_LENGTH)
                )
                appeals = await appeals_repo.list_for_customer(
                    session, customer.id, limit=HISTORY_LENGTH
                )
                cards.append(CustomerCard(customer=customer, calls=calls, appeals=appeals))
            await self.audit(
                session,
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
