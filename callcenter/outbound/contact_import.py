"""Contact lists from CSV: validation with per-row errors, normalised numbers, deduplication.

The file may come from Excel (cp1251, `;`) or anything else (UTF-8 with or without a BOM,
`,` or tab). The header names the columns, in Russian or English:

    phone / телефон / номер          required; normalised to E.164 with `phonenumbers`
    name / фио / имя                 optional
    timezone / часовой пояс / tz     optional IANA zone or offset; else guessed from the number
    email / e-mail / почта           optional (for the e-mail channel)
    anything else                    a value for the message template, by column name

Valid rows are imported even when others are not; every rejected row is reported with its
line number and the reasons. A number twice in the file is imported once (the repeats are
reported), and numbers already in the list are left as they are.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from phonenumbers import NumberParseException, parse
from phonenumbers import timezone as phone_timezone

from callcenter.common.access import Actor, Conflict, InvalidInput, NotFound, UseCases
from callcenter.domain.calling_windows import is_known_zone
from callcenter.domain.message_templates import MessageTemplate, TemplateError
from callcenter.domain.phones import DEFAULT_REGION, InvalidPhoneNumber, dialable
from callcenter.ports.queries import NewContact

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
MAX_LIST_NAME = 128
EMAIL_VARIABLE = "email"

_COLUMN_ALIASES: Mapping[str, str] = {
    "phone": "phone",
    "телефон": "phone",
    "номер": "phone",
    "номер телефона": "phone",
    "tel": "phone",
    "name": "name",
    "фио": "name",
    "имя": "name",
    "абонент": "name",
    "timezone": "timezone",
    "tz": "timezone",
    "часовой пояс": "timezone",
    "email": "email",
    "e-mail": "email",
    "почта": "email",
    "электронная почта": "email",
}
_VARIABLE = re.compile(r"[a-z_][a-z0-9_]*")
_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")


@dataclass(frozen=True, slots=True)
class RowError:
    line: int  # line of the file (the header is line 1)
    messages: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ImportReport:
    list_id: int | None
    rows: int  # data rows read
    imported: int  # new contacts stored
    already_in_list: int
    duplicates: tuple[int, ...]  # lines repeating a number seen earlier in the file
    do_not_call: int  # imported, but on the do-not-call list (they will not be called)
    errors: tuple[RowError, ...]
    dry_run: bool = False

    @property
    def valid(self) -> int:
        return self.rows - len(self.errors) - len(self.duplicates)


@dataclass
class _Parsed:
    contacts: list[NewContact] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    rows: int = 0


def decode(data: bytes) -> str:
    """UTF-8 (a BOM is dropped) or, failing that, Windows-1251 as Excel writes it."""
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput(f"Файл больше {MAX_FILE_BYTES // (1024 * 1024)} МБ")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1251")
    except UnicodeDecodeError:
        raise InvalidInput("Файл не в кодировке UTF-8 или Windows-1251") from None


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    first = text.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(first, delimiters=",;\t")
    except csv.Error:
        return csv.excel


def _header(raw: list[str]) -> list[str]:
    columns = []
    for name in raw:
        key = " ".join(name.strip().lower().split())
        columns.append(_COLUMN_ALIASES.get(key, key))
    if "phone" not in columns:
        raise InvalidInput(
            "В первой строке нет столбца с номером телефона (phone, «телефон» или «номер»)"
        )
    seen: set[str] = set()
    for column in columns:
        if column in seen and column:
            raise InvalidInput(f"Столбец «{column}» встречается в заголовке дважды")
        seen.add(column)
    return columns


def guess_zone(e164: str) -> str | None:
    """The number's time zone when the numbering plan gives exactly one (landlines mostly)."""
    try:
        number = parse(e164, None)
    except NumberParseException:
        return None
    zones = [z for z in phone_timezone.time_zones_for_number(number) if z != "Etc/Unknown"]
    return zones[0] if len(zones) == 1 else None


def _phone(raw: str, region: str) -> str:
    text = raw.strip()
    if not text:
        raise InvalidPhoneNumber("нет номера телефона")
    # the same policy as an operator's manual dial: Russian public numbers, nothing paid or 8-800
    return dialable(text, region=region)


def parse_csv(
    data: bytes,
    *,
    template: MessageTemplate | None = None,
    region: str = DEFAULT_REGION,
    guess_zones: bool = True,
) -> _Parsed:
    text = decode(data)
    if not text.strip():
        raise InvalidInput("Файл пустой")
    reader = csv.reader(io.StringIO(text), _dialect(text))
    try:
        header = _header(next(reader))
    except StopIteration:
        raise InvalidInput("Файл пустой") from None
    parsed = _Parsed()
    seen: dict[str, int] = {}
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        parsed.rows += 1
        if parsed.rows > MAX_ROWS:
            raise InvalidInput(f"В файле больше {MAX_ROWS} строк: разделите его")
        problems: list[str] = []
        if len(cells) > len(header):
            problems.append(f"значений больше, чем столбцов ({len(cells)} > {len(header)})")
        row = {
            column: (cells[i].strip() if i < len(cells) else "")
            for i, column in enumerate(header)
            if column
        }
        phone = ""
        try:
            phone = _phone(row.get("phone", ""), region)
        except InvalidPhoneNumber as exc:
            problems.append(str(exc))
        zone = row.get("timezone") or None
        if zone is not None and not is_known_zone(zone):
            problems.append(f"неизвестный часовой пояс «{zone}»")
        if zone is None and phone and guess_zones:
            zone = guess_zone(phone)
        variables: dict[str, Any] = {
            key: value
            for key, value in row.items()
            if key not in {"phone", "name", "timezone"} and value != ""
        }
        email = variables.get(EMAIL_VARIABLE)
        if email is not None and not _EMAIL.match(str(email)):
            problems.append(f"«{email}» — не адрес электронной почты")
        if template is not None:
            problems.extend(template.check(variables))
        if problems:
            parsed.errors.append(RowError(line, tuple(problems)))
            continue
        if phone in seen:
            parsed.duplicates.append(line)
            continue
        seen[phone] = line
        parsed.contacts.append(
            NewContact(
                phone=phone,
                name=row.get("name", "")[:255],
                variables={k: v for k, v in variables.items() if _VARIABLE.fullmatch(k)},
                timezone=zone,
            )
        )
    return parsed


class ContactImportService(UseCases):
    async def import_csv(
        self,
        actor: Actor,
        data: bytes,
        *,
        list_id: int | None = None,
        new_list_name: str | None = None,
        template_text: str | None = None,
        dry_run: bool = False,
    ) -> ImportReport:
        """Import into an existing list (`list_id`) or a new one (`new_list_name`).

        `template_text` (a campaign's message) makes every row be checked for the values the
        message needs. `dry_run` validates and reports without storing anything.
        """
        if (list_id is None) == (new_list_name is None):
            raise InvalidInput("Укажите либо существующий список, либо имя нового")
        template = None
        if template_text:
            try:
                template = MessageTemplate.parse(template_text)
            except TemplateError as exc:
                raise InvalidInput(f"Текст сообщения: {exc}") from None
        parsed = parse_csv(data, template=template)
        async with self.transaction(actor) as tx:
            if list_id is not None:
                if await tx.campaigns.get_list(list_id) is None:
                    raise NotFound(f"Список контактов {list_id} не найден")
            else:
                name = (new_list_name or "").strip()
                if not name or len(name) > MAX_LIST_NAME:
                    raise InvalidInput(f"Имя списка: от 1 до {MAX_LIST_NAME} символов")
                if await tx.campaigns.get_list_by_name(name) is not None:
                    raise Conflict(f"Список «{name}» уже есть")
                if not dry_run:
                    list_id = (await tx.campaigns.create_list(name)).id
            phones = [c.phone for c in parsed.contacts]
            existing = (
                await tx.campaigns.existing_phones(list_id, phones)
                if list_id is not None
                else set()
            )
            blocked = await tx.campaigns.do_not_call_among(phones)
            imported = 0
            if not dry_run and list_id is not None:
                imported = await tx.campaigns.add_contacts(list_id, parsed.contacts)
                await self.audit(
                    tx,
                    actor,
                    "contacts_imported",
                    object_type="contact_list",
                    object_id=list_id,
                    details={"imported": imported, "rejected": len(parsed.errors)},
                )
        log.info(
            "contact import into list %s: %d rows, %d new, %d errors",
            list_id,
            parsed.rows,
            imported,
            len(parsed.errors),
        )
        return ImportReport(
            list_id=list_id,
            rows=parsed.rows,
            imported=imported,
            already_in_list=len(existing),
            duplicates=tuple(parsed.duplicates),
            do_not_call=len(blocked),
            errors=tuple(parsed.errors),
            dry_run=dry_run,
        )
