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


def normalise_contact(raw: str, *, region: str = DEFAULT_REGION) -> str:
    """Like `normalise`, for an address-book entry: emergency numbers (112, 101-103, 01-03)
    are refused, since a saved "contact" would shadow the emergency service."""
    text = raw.strip()
    if phonenumbers.is_emergency_number(text, region):
        raise InvalidPhoneNumber(f"«{raw}» — номер экстренной службы, в справочник его не заносят")
    return normalise(text, region=region)


def normalise_public(raw: str, *, region: str = DEFAULT_REGION) -> str:
    """E.164 of a public number; short codes and extensions ('112', '2101') are refused."""
    text = raw.strip()
    if _EXTENSION.match(text):
        raise InvalidPhoneNumber(
            f"«{raw}» — короткий или внутренний номер; нужен городской или мобильный номер"
        )
    return normalise(text, region=region)


def dialable(raw: str, *, region: str = DEFAULT_REGION) -> str:
    """E.164 of a number the centre may call out to, or InvalidPhoneNumber saying why not.

    One policy for every outbound path (an operator's dial, a callback, a campaign contact):
    Russian public numbers only; no premium-rate or shared-cost numbers (8-809, 8-803) and no
    free-phone numbers (8-800: not a customer's phone, and one of them is our own line).
    """
    number = normalise_public(raw, region=region)
    if not re.fullmatch(r"\+7\d{10}", number):
        raise InvalidPhoneNumber(f"На номер «{raw}» звонить нельзя: только российские номера")
    kind = phonenumbers.number_type(phonenumbers.parse(number, None))
    if kind in (
        phonenumbers.PhoneNumberType.PREMIUM_RATE,
        phonenumbers.PhoneNumberType.SHARED_COST,
    ):
        raise InvalidPhoneNumber(f"Номер «{raw}» платный: такие вызовы запрещены")
    if kind is phonenumbers.PhoneNumberType.TOLL_FREE or number.startswith("+7800"):
        raise InvalidPhoneNumber(f"Номер «{raw}» — бесплатная линия 8-800, а не номер абонента")
    return number


def search_forms(raw: str, *, region: str = DEFAULT_REGION) -> list[str]:
    """Every stored spelling a searched number may have: its E.164 form first, then the input
    as typed (records kept before numbers were normalised, anonymous or odd trunk formats)."""
    text = raw.strip()
    forms = [normalise_or_keep(text, region=region)]
    if text and text not in forms:
        forms.append(text)
    if forms[0].startswith("+7") and len(forms[0]) == 12:
        forms.extend(f for f in ("8" + forms[0][2:], "7" + forms[0][2:]) if f not in forms)
    return forms
