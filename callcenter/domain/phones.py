"""Phone numbers as the workstation compares them: E.164 for public numbers, digits for
internal extensions (parsing rules from `phonenumbers`, Russian numbering by default)."""

from __future__ import annotations

import re

import phonenumbers

DEFAULT_REGION = "RU"
# internal extensions of the PBX: short digit strings that no public plan would accept
_EXTENSION = re.compile(r"^\d{2,6}$")


class InvalidPhoneNumber(ValueError):
    pass


def normalise(raw: str, *, region: str = DEFAULT_REGION) -> str:
    """'8 (915) 700-11-22' -> '+79157001122'; '2101' -> '2101'; InvalidPhoneNumber otherwise."""
    text = raw.strip()
    if _EXTENSION.match(text):
        return text
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumber(f"«{raw}» не похоже на номер телефона") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber(f"номер «{raw}» не существует в плане нумерации")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalise_or_keep(raw: str, *, region: str = DEFAULT_REGION) -> str:
    """Like `normalise`, but hands back the stripped input when it is not a valid number
    (an anonymous caller, an odd trunk format): it can still be shown and compared."""
    try:
        return normalise(raw, region=region)
    except InvalidPhoneNumber:
        return raw.strip()
