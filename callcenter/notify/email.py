"""E-mail over SMTP with aiosmtplib (asyncio, maintained; no thread pool needed).

One connection per message: auto-informing sends a few thousand letters a day at most, and a
fresh connection survives server-side idle timeouts without any keep-alive logic. aiosmtplib's
exceptions are translated here: 5xx replies and bad addresses are DeliveryRefused, connection
problems, timeouts and 4xx replies are DeliveryFailed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from enum import StrEnum

import aiosmtplib

from callcenter.notify.errors import DeliveryFailed, DeliveryRefused

log = logging.getLogger(__name__)

MAX_SUBJECT = 200
MAX_BODY = 100_000
_ADDRESS = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")


class SmtpSecurity(StrEnum):
    NONE = "none"  # plain (a relay on localhost)
    STARTTLS = "starttls"  # port 587
    TLS = "tls"  # implicit TLS, port 465


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int = 25
    sender: str = "noreply@localhost.localdomain"
    sender_name: str = ""
    username: str = ""
    password: str = ""
    security: SmtpSecurity = SmtpSecurity.NONE
    timeout: float = 30.0
    validate_certs: bool = True


@dataclass(frozen=True, slots=True)
class EmailReceipt:
    message_id: str
    response: str  # the server's reply to DATA, e.g. "250 OK queued as ..."


def check_address(address: str) -> str:
    """The address stripped, or DeliveryRefused with a Russian reason."""
    text = address.strip()
    if not _ADDRESS.match(text) or len(text) > 254:
        raise DeliveryRefused(f"«{address}» — не адрес электронной почты")
    return text


class SmtpEmailSender:
    def __init__(self, config: SmtpConfig) -> None:
        if not config.host:
            raise ValueError("SMTP host is not set")
        check_address(config.sender)
        self._config = config

    def build(
        self,
        to: str,
        subject: str,
        body: str,
        attachments: Sequence[tuple[str, str, bytes]] = (),
        *,
        idempotency_key: str = "",
    ) -> EmailMessage:
        recipient = check_address(to)
        if len(subject) > MAX_SUBJECT or len(body) > MAX_BODY:
            raise DeliveryRefused("письмо слишком длинное")
        message = EmailMessage()
        local, _, domain = self._config.sender.partition("@")
        message["From"] = Address(self._config.sender_name, local, domain)
        message["To"] = recipient
        # header injection: no line breaks in the subject
        message["Subject"] = " ".join(subject.split())
        message["Date"] = formatdate(localtime=False)
        # a retried letter keeps its Message-ID: mail systems that see it twice can tell
        message["Message-ID"] = (
            f"<{idempotency_key}@{domain or 'localhost'}>"
            if idempotency_key
            else make_msgid(domain=domain or None)
        )
        message.set_content(body, charset="utf-8")
        for filename, mime_type, content in attachments:
            maintype, _, subtype = mime_type.partition(";")[0].strip().partition("/")
            message.add_attachment(
                content, maintype=maintype, subtype=subtype or "octet-stream", filename=filename
            )
        return message

    async def send(
        self,
        to: str,
        subject: str,
        body: str,
        attachments: Sequence[tuple[str, str, bytes]] = (),
        *,
        idempotency_key: str = "",
    ) -> EmailReceipt:
        """Send one letter; `attachments` are (file name, MIME type, content)."""
        message = self.build(to, subject, body, attachments, idempotency_key=idempotency_key)
        cfg = self._config
        try:
            responses, data_reply = await aiosmtplib.send(
                message,
                hostname=cfg.host,
                port=cfg.port,
                username=cfg.username or None,
                password=cfg.password or None,
                use_tls=cfg.security is SmtpSecurity.TLS,
                start_tls=cfg.security is SmtpSecurity.STARTTLS,
                validate_certs=cfg.validate_certs,
                timeout=cfg.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise _from_codes(
                [e.code for e in exc.recipients], f"сервер отказался принять адрес {to}: {exc}"
            ) from None
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise DeliveryFailed(f"почтовый сервер не принял логин: {exc.message}") from None
        except aiosmtplib.SMTPResponseException as exc:
            raise _from_codes(
                [exc.code], f"почтовый сервер ответил {exc.code} {exc.message}"
            ) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise DeliveryFailed(
                f"почтовый сервер {cfg.host}:{cfg.port} недоступен: {exc}"
            ) from None
        for recipient, response in responses.items():
            if response.code >= 400:
                raise _from_codes([response.code], f"адрес {recipient} не принят: {response}")
        return EmailReceipt(str(message["Message-ID"]), data_reply)


def _from_codes(codes: list[int], text: str) -> DeliveryRefused | DeliveryFailed:
    if codes and all(500 <= code < 600 for code in codes):
        return DeliveryRefused(text)
    return DeliveryFailed(text)
