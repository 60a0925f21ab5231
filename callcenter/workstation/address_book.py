"""Address books (table 9, functions 12-14): the corporate directory everyone reads and
administrators edit, and each user's personal book (no size limit) that only its owner
sees. Phone numbers are stored normalised (E.164, or digits for an internal extension) so
that a caller's number finds its entry.

Search is case-insensitive for Cyrillic, treats "ё" as "е", and is done here rather than in
SQL: SQLite's lower() folds ASCII only. A text query reads the owner's whole book once;
a book of ten thousand entries filters in a few milliseconds.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from callcenter.common.access import (
    AccessDenied,
    Actor,
    InvalidInput,
    NotFound,
    UseCases,
    require_operator,
)
from callcenter.domain import phones
from callcenter.domain.calls import Direction
from callcenter.ports.records import CorporateContact, PersonalContact
from callcenter.ports.stores import Stores

T = TypeVar("T")

MAX_NAME = 255
MAX_NOTE = 4000
_PHONE_QUERY = re.compile(r"^[\d\s()+\-]+$")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int


@dataclass(frozen=True, slots=True)
class CorporateFields:
    name: str
    department: str = ""
    position: str = ""
    phone: str | None = None
    extension: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class BookEntry:
    """Where a phone number was found: in the user's own book or the corporate one."""

    book: str  # "personal" | "corporate"
    contact_id: int
    name: str


def _fold(text: str) -> str:
    return text.casefold().replace("ё", "е")


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _matches(query: str, fields: Sequence[str | None]) -> bool:
    """Every word of the query occurs in some field; a phone-like query matches digits."""
    present = [f for f in fields if f]
    if _PHONE_QUERY.match(query):
        wanted = _digits(query)
        if len(wanted) >= 2:
            # Russians dial 8 where E.164 has +7: "8915..." finds "+7915..."
            variants = {wanted, "7" + wanted[1:] if wanted.startswith("8") else wanted}
            return any(v in _digits(f) for f in present for v in variants)
    haystack = _fold(" ".join(present))
    return all(word in haystack for word in _fold(query).split())


def _page(rows: Sequence[T], limit: int, offset: int) -> Page[T]:
    return Page(items=rows[offset : offset + limit], total=len(rows))


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise InvalidInput("Имя контакта не может быть пустым")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"Имя контакта длиннее {MAX_NAME} символов")
    return name


def _clean_phone(raw: str) -> str:
    try:
        return phones.normalise(raw)
    except phones.InvalidPhoneNumber as exc:
        raise InvalidInput(str(exc)) from None


def _clean_public_phone(raw: str) -> str:
    """A personal contact is a person's phone or extension, never an emergency number."""
    try:
        return phones.normalise_contact(raw)
    except phones.InvalidPhoneNumber as exc:
        raise InvalidInput(str(exc)) from None


def _clean_note(note: str) -> str:
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"Заметка длиннее {MAX_NOTE} символов")
    return note


def _corporate_fields(fields: CorporateFields) -> CorporateFields:
    extension = (fields.extension or "").strip() or None
    if extension is not None and not extension.isdigit():
        raise InvalidInput("Внутренний номер должен состоять из цифр")
    phone = fields.phone.strip() if fields.phone else None
    return CorporateFields(
        name=_clean_name(fields.name),
        department=fields.department.strip(),
        position=fields.position.strip(),
        phone=_clean_phone(phone) if phone else None,
        extension=extension,
        email=(fields.email or "").strip() or None,
    )


class AddressBookService(UseCases):
    # ---- corporate directory ----

    async def corporate(
        self, actor: Actor, *, query: str = "", limit: int = 50, offset: int = 0
    ) -> Page[CorporateContact]:
        async with self._sessions() as tx:
            rows = await tx.address_book.corporate_all()
        if query.strip():
            rows = [
                c
                for c in rows
                if _matches(
                    query.strip(),
                    [c.name, c.department, c.position, c.phone, c.extension, c.email],
                )
            ]
        return _page(rows, limit, offset)

    async def corporate_create(self, actor: Actor, fields: CorporateFields) -> CorporateContact:
        clean = _corporate_fields(fields)
        async with self.transaction(actor) as tx:
            self._require_admin(actor, "corporate_contact.create", "new")
            contact = await tx.address_book.corporate_create(
                name=clean.name,
                department=clean.department,
                position=clean.position,
                phone=clean.phone,
                extension=clean.extension,
                email=clean.email,
            )
            await self.audit(
                tx,
                actor,
                "corporate_contact.create",
                object_type="corporate_contact",
                object_id=contact.id,
                details={"name": contact.name},
            )
            return contact

    async def corporate_update(
        self, actor: Actor, contact_id: int, fields: CorporateFields
    ) -> CorporateContact:
        clean = _corporate_fields(fields)
        async with self.transaction(actor) as tx:
            self._require_admin(actor, "corporate_contact.update", str(contact_id))
            contact = await tx.address_book.corporate_get(contact_id)
            if contact is None:
                raise NotFound(f"Контакт {contact_id} не найден в корпоративной книге")
            before = {"name": contact.name, "phone": contact.phone, "extension": contact.extension}
            contact.name = clean.name
            contact.department = clean.department
            contact.position = clean.position
            contact.phone = clean.phone
            contact.extension = clean.extension
            contact.email = clean.email
            await tx.flush()
            await self.audit(
                tx,
                actor,
                "corporate_contact.update",
                object_type="corporate_contact",
                object_id=contact.id,
                details={"before": before},
            )
            return contact

    async def corporate_delete(self, actor: Actor, contact_id: int) -> None:
        async with self.transaction(actor) as tx:
            self._require_admin(actor, "corporate_contact.delete", str(contact_id))
            contact = await tx.address_book.corporate_get(contact_id)
            if contact is None:
                raise NotFound(f"Контакт {contact_id} не найден в корпоративной книге")
            await self.audit(
                tx,
                actor,
                "corporate_contact.delete",
                object_type="corporate_contact",
                object_id=contact.id,
                details={"name": contact.name, "phone": contact.phone},
            )
            await tx.address_book.corporate_delete(contact)

    # ---- personal book ----

    async def personal(
        self, actor: Actor, *, query: str = "", limit: int = 50, offset: int = 0
    ) -> Page[PersonalContact]:
        async with self._sessions() as tx:
            if not query.strip():
                items = await tx.address_book.personal_page(
                    actor.user_id, limit=limit, offset=offset
                )
                return Page(items=items, total=await tx.address_book.personal_count(actor.user_id))
            rows = await tx.address_book.personal_all(actor.user_id)
        found = [c for c in rows if _matches(query.strip(), [c.name, c.phone, c.note])]
        return _page(found, limit, offset)

    async def personal_get(self, actor: Actor, contact_id: int) -> PersonalContact:
        async with self.transaction(actor) as tx:
            return await self._own_contact(tx, actor, contact_id, action="read")

    async def personal_create(
        self, actor: Actor, *, name: str, phone: str, note: str = ""
    ) -> PersonalContact:
        clean_name, clean_phone, clean_note = (
            _clean_name(name),
            _clean_public_phone(phone),
            _clean_note(note),
        )
        async with self.transaction(actor) as tx:
            return await self._personal_create(
                tx, actor, clean_name, clean_phone, clean_note, source=None
            )

    async def personal_update(
        self,
        actor: Actor,
        contact_id: int,
        *,
        name: str | None = None,
        phone: str | None = None,
        note: str | None = None,
    ) -> PersonalContact:
        async with self.transaction(actor) as tx:
            contact = await self._own_contact(tx, actor, contact_id, action="update")
            if name is not None:
                contact.name = _clean_name(name)
            if phone is not None:
                contact.phone = _clean_public_phone(phone)
            if note is not None:
                contact.note = _clean_note(note)
            await tx.flush()
            await self.audit(
                tx,
                actor,
                "personal_contact.update",
                object_type="personal_contact",
                object_id=contact.id,
            )
            return contact

    async def personal_delete(self, actor: Actor, contact_id: int) -> None:
        async with self.transaction(actor) as tx:
            contact = await self._own_contact(tx, actor, contact_id, action="delete")
            await self.audit(
                tx,
                actor,
                "personal_contact.delete",
                object_type="personal_contact",
                object_id=contact.id,
            )
            await tx.address_book.personal_delete(contact)

    async def personal_from_call(
        self, actor: Actor, call_id: uuid.UUID, *, name: str, note: str = ""
    ) -> PersonalContact:
        """Add the other party of one of the operator's own calls (typically a missed one)."""
        operator_id = require_operator(actor)
        clean_name, clean_note = _clean_name(name), _clean_note(note)
        async with self.transaction(actor) as tx:
            call = await tx.call_history.involves(operator_id, call_id)
            if call is None:
                raise AccessDenied(
                    f"Звонок {call_id} не найден в вашей истории",
                    action="personal_contact.from_call",
                    object_type="call",
                    object_id=str(call_id),
                    hidden=True,
                )
            raw = call.dialled_number if call.direction is Direction.OUTBOUND else None
            raw = raw or call.caller_number
            return await self._personal_create(
                tx, actor, clean_name, _clean_phone(raw), clean_note, source=str(call.id)
            )

    async def find_numbers(
        self, tx: Stores, user_id: int, numbers: Sequence[str]
    ) -> dict[str, BookEntry]:
        """normalised number -> the entry it was found in (the personal book wins)."""
        wanted = {phones.normalise_or_keep(n) for n in numbers if n}
        found: dict[str, BookEntry] = {}
        for corp in await tx.address_book.corporate_by_phones(wanted):
            for number in (corp.phone, corp.extension):
                if number in wanted:
                    found[number] = BookEntry("corporate", corp.id, corp.name)
        for own in await tx.address_book.personal_by_phones(user_id, wanted):
            found[own.phone] = BookEntry("personal", own.id, own.name)
        return found

    # ---- helpers ----

    async def _personal_create(
        self,
        tx: Stores,
        actor: Actor,
        name: str,
        phone: str,
        note: str,
        *,
        source: str | None,
    ) -> PersonalContact:
        contact = await tx.address_book.personal_create(
            user_id=actor.user_id, name=name, phone=phone, note=note, created_at=self.now()
        )
        await self.audit(
            tx,
            actor,
            "personal_contact.create",
            object_type="personal_contact",
            object_id=contact.id,
            details={"from_call": source} if source else None,
        )
        return contact

    async def _own_contact(
        self, tx: Stores, actor: Actor, contact_id: int, *, action: str
    ) -> PersonalContact:
        """The user's own entry. Another user's entry is refused as if it did not exist,
        whatever the role: a personal book is personal."""
        contact = await tx.address_book.personal_get(contact_id)
        if contact is None:
            raise NotFound(f"Контакт {contact_id} не найден")
        if contact.user_id != actor.user_id:
            raise AccessDenied(
                f"Контакт {contact_id} не найден",
                action=f"personal_contact.{action}",
                object_type="personal_contact",
                object_id=str(contact_id),
                hidden=True,
            )
        return contact

    @staticmethod
    def _require_admin(actor: Actor, action: str, object_id: str) -> None:
        if not actor.is_admin:
            raise AccessDenied(
                "Корпоративную адресную книгу изменяет администратор",
                action=action,
                object_type="corporate_contact",
                object_id=object_id,
            )
