"""SMS through an HTTP gateway with httpx.

Why an HTTP gateway and not SMPP: Russian SMS aggregators (the way a utility actually buys
SMS: registered sender names, delivery to every operator) all offer an HTTPS API, while a
direct SMPP bind needs a contract with each mobile operator and a long-lived, stateful session
(enquire_link, windowing, reconnects) for no gain at our volume (thousands a day). httpx is
maintained, async, and already in the tree for the API tests.

The gateway contract is a plain JSON POST, configured by URL (and an optional bearer token):

    POST <url>   {"to": "+79161234567", "from": "<sender>", "text": "<message>",
                  "client_ref": "<idempotency key>"}
                 Idempotency-Key: <idempotency key>
    2xx          {"id": "<gateway message id>"}   (the body may be empty or lack "id")

The idempotency key (when given) names the message for good: the platform sends the same key
again when it retries a message whose reply it never got (a timeout, a worker restarted), and
a gateway that honours keys answers the repeat with the first reply instead of sending a
second SMS. Delivery reports come back to `POST /api/v1/notify/sms/reports` with the
gateway's id and/or the `client_ref`.

4xx replies are DeliveryRefused (bad number, blocked sender: do not retry), 5xx, 429 and
network errors are DeliveryFailed (retry later). Phone numbers are E.164 (+7...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

from callcenter.notify.errors import DeliveryFailed, DeliveryRefused

# GSM 03.38 basic character set (a message using only these fits 160 characters per part)
_GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = frozenset("^{}\\[~]|€")  # two septets each
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
MAX_PARTS = 6  # a longer text is a letter, not an SMS


@dataclass(frozen=True, slots=True)
class SmsGatewayConfig:
    url: str
    sender: str  # the registered alphanumeric sender name, e.g. "Energo"
    token: str = ""  # sent as "Authorization: Bearer <token>" when set
    timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class SmsReceipt:
    message_id: str  # the gateway's id, or "" when it gave none
    parts: int


def sms_parts(text: str) -> int:
    """How many SMS parts the text takes (GSM-7: 160/153, else UCS-2: 70/67 characters)."""
    if all(ch in _GSM7 or ch in _GSM7_EXTENDED for ch in text):
        length = sum(2 if ch in _GSM7_EXTENDED else 1 for ch in text)
        single, multi = 160, 153
    else:
        # UCS-2 counts UTF-16 code units: characters outside the BMP take two
        length = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)
        single, multi = 70, 67
    if length <= single:
        return 1
    return -(-length // multi)


class HttpSmsGateway:
    def __init__(
        self, config: SmsGatewayConfig, *, client: httpx.AsyncClient | None = None
    ) -> None:
        if not config.url.startswith(("http://", "https://")):
            raise ValueError("SMS gateway URL must start with http:// or https://")
        if not config.sender.strip():
            raise ValueError("SMS sender name is not set")
        self._config = config
        self._client = client
        self._own_client = client is None

    async def __aenter__(self) -> HttpSmsGateway:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._client is not None and self._own_client:
            await self._client.aclose()
            self._client = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            # keep every connection alive: a campaign sends many messages at once, and
            # reopening connections beyond httpx's default 20 costs more than the requests
            self._client = httpx.AsyncClient(
                timeout=self._config.timeout,
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=100),
            )
        return self._client

    async def send(self, phone: str, text: str, *, idempotency_key: str = "") -> SmsReceipt:
        number = phone.strip()
        if not _E164.match(number):
            raise DeliveryRefused(f"«{phone}» — не номер в международном формате (+7...)")
        body = " ".join(text.split())
        if not body:
            raise DeliveryRefused("текст SMS пустой")
        parts = sms_parts(body)
        if parts > MAX_PARTS:
            raise DeliveryRefused(f"SMS слишком длинное: {parts} частей, можно {MAX_PARTS}")
        headers = {"Accept": "application/json"}
        if self._config.token:
            headers["Authorization"] = f"Bearer {self._config.token}"
        payload = {"to": number, "from": self._config.sender, "text": body}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
            payload["client_ref"] = idempotency_key
        try:
            reply = await self._http().post(self._config.url, json=payload, headers=headers)
        except httpx.TimeoutException:
            raise DeliveryFailed("SMS-шлюз не ответил вовремя") from None
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"SMS-шлюз недоступен: {exc}") from None
        if reply.status_code == 429 or reply.status_code >= 500:
            raise DeliveryFailed(f"SMS-шлюз ответил {reply.status_code}: {_excerpt(reply)}")
        if reply.status_code >= 400:
            raise DeliveryRefused(f"SMS-шлюз отказал ({reply.status_code}): {_excerpt(reply)}")
        return SmsReceipt(_message_id(reply), parts)


def _excerpt(reply: httpx.Response) -> str:
    return " ".join(reply.text.split())[:200]


def _message_id(reply: httpx.Response) -> str:
    try:
        data = reply.json()
    except ValueError:
        return ""
    if isinstance(data, dict):
        value = data.get("id") or data.get("message_id") or ""
        return str(value)[:128]
    return ""
