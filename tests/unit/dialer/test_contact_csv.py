from __future__ import annotations

import pytest

from callcenter.common.access import InvalidInput
from callcenter.domain.message_templates import MessageTemplate
from callcenter.outbound.contact_import import decode, guess_zone, parse_csv


def test_utf8_with_bom_and_commas_and_zone_guessed_from_a_landline() -> None:
    data = "\ufeffphone,name,email,debt\n+7 (343) 123-45-67,Петров,p@example.ru,10\n".encode()
    parsed = parse_csv(data)
    [contact] = parsed.contacts
    assert contact.phone == "+73431234567"
    assert contact.timezone == "Asia/Yekaterinburg"  # the 343 area code is Yekaterinburg
    assert contact.variables == {"email": "p@example.ru", "debt": "10"}
    assert parsed.errors == []


def test_mobile_numbers_get_no_guessed_zone() -> None:
    assert guess_zone("+79161234567") is None  # Russian mobiles span every zone


def test_row_problems_are_all_listed_with_their_line() -> None:
    data = (
        "телефон;email;debt\n"
        "8 800 100-00-00;;5\n"  # one dial policy (issue 16, row 10): no 8-800 numbers
        "8 809 123-45-67;x;5\n"
        ";a@b.ru;1\n"
        "+79161234567;a@b.ru;1;лишнее\n"
    ).encode("cp1251")
    parsed = parse_csv(data, template=MessageTemplate.parse("{debt:money}"))
    errors = {e.line: e.messages for e in parsed.errors}
    assert set(errors) == {2, 3, 4, 5}
    assert any("8-800" in m for m in errors[2])
    assert any("платный" in m for m in errors[3])
    assert any("не адрес электронной почты" in m for m in errors[3])
    assert errors[4] == ("нет номера телефона",)
    assert errors[5] == ("значений больше, чем столбцов (4 > 3)",)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "пустой"),
        (b"name;debt\n\xc8\xe2\xe0\xed;1\n", "столбца с номером"),
        (b"phone;phone\n1;2\n", "дважды"),
        (b"phone\n\x98\n", "кодировке"),  # 0x98 is in neither UTF-8 nor Windows-1251
    ],
)
def test_unusable_files_are_refused_as_a_whole(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_csv(data)


def test_decoding_falls_back_to_windows_1251() -> None:
    assert decode("Иванов".encode("cp1251")) == "Иванов"
