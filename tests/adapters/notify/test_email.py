from __future__ import annotations

from email import message_from_bytes
from email.header import decode_header, make_header

import pytest

from callcenter.notify import DeliveryFailed, DeliveryRefused
from callcenter.notify.email import SmtpConfig, SmtpEmailSender
from tests.adapters.notify.conftest import SmtpPeer


def _sender(peer: SmtpPeer, **overrides: object) -> SmtpEmailSender:
    options: dict[str, object] = {
        "host": "127.0.0.1",
        "port": peer.port,
        "sender": "info@energo.example",
        "sender_name": "Энергосбыт",
        "timeout": 5.0,
        **overrides,
    }
    return SmtpEmailSender(SmtpConfig(**options))  # type: ignore[arg-type]


async def test_a_russian_letter_arrives_intact(smtp_peer: SmtpPeer) -> None:
    receipt = await _sender(smtp_peer).send(
        "ivanov@example.ru",
        "Плановое отключение\r\nBcc: evil@example.com",
        "Задолженность 1234,56 руб.\nОтключение 15.03.2026 в 09:00.",
    )
    assert receipt.response.startswith("OK queued as 42")
    [envelope] = smtp_peer.mailbox.messages
    assert envelope.mail_from == "info@energo.example"
    assert envelope.rcpt_tos == ["ivanov@example.ru"]
    assert isinstance(envelope.original_content, bytes)
    message = message_from_bytes(envelope.original_content)
    assert str(make_header(decode_header(message["Subject"]))) == (
        "Плановое отключение Bcc: evil@example.com"  # folded into the subject, no new header
    )
    assert message["Bcc"] is None
    assert "Энергосбыт" in str(make_header(decode_header(message["From"])))
    assert message["Message-ID"] == receipt.message_id
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    assert "Задолженность 1234,56 руб." in body.decode("utf-8")


async def test_login_with_credentials(smtp_peer: SmtpPeer) -> None:
    await _sender(smtp_peer, username="energo", password="s3cret").send("a@example.ru", "T", "B")
    assert len(smtp_peer.mailbox.messages) == 1
    with pytest.raises(DeliveryFailed, match="логин"):
        await _sender(smtp_peer, username="energo", password="wrong").send("a@example.ru", "T", "B")


async def test_a_refused_mailbox_is_permanent_a_busy_one_temporary(smtp_peer: SmtpPeer) -> None:
    smtp_peer.mailbox.refuse = {
        "nobody@example.ru": "550 5.1.1 No such user",
        "full@example.ru": "452 4.2.2 Mailbox full",
    }
    with pytest.raises(DeliveryRefused, match=r"nobody@example\.ru"):
        await _sender(smtp_peer).send("nobody@example.ru", "T", "B")
    with pytest.raises(DeliveryFailed):
        await _sender(smtp_peer).send("full@example.ru", "T", "B")
    assert smtp_peer.mailbox.messages == []


async def test_bad_address_is_refused_before_connecting() -> None:
    sender = SmtpEmailSender(SmtpConfig(host="127.0.0.1", port=1, sender="info@energo.example"))
    with pytest.raises(DeliveryRefused, match="не адрес"):
        await sender.send("ivanov at example.ru", "T", "B")


async def test_unreachable_server_is_a_temporary_failure(smtp_peer: SmtpPeer) -> None:
    port = smtp_peer.port
    sender = SmtpEmailSender(
        SmtpConfig(host="127.0.0.1", port=port + 1 if port < 65535 else 1, timeout=2.0)
    )
    with pytest.raises(DeliveryFailed, match="недоступен"):
        await sender.send("a@example.ru", "T", "B")
