from __future__ import annotations

import pytest

from callcenter.notify import DeliveryFailed, DeliveryRefused
from callcenter.notify.sms import HttpSmsGateway, SmsGatewayConfig, sms_parts
from tests.adapters.notify.conftest import HttpPeer


def _gateway(peer: HttpPeer, **overrides: object) -> HttpSmsGateway:
    options: dict[str, object] = {"url": peer.url, "sender": "Energo", "token": "t0k", **overrides}
    return HttpSmsGateway(SmsGatewayConfig(**options))  # type: ignore[arg-type]


async def test_message_is_posted_as_json_with_the_token(http_peer: HttpPeer) -> None:
    http_peer.replies = [(200, '{"id": "abc-123"}')]
    async with _gateway(http_peer) as gateway:
        receipt = await gateway.send("+79161234567", "Задолженность  1234,56 руб.\nОплатите.")
    assert (receipt.message_id, receipt.parts) == ("abc-123", 1)
    [request] = http_peer.requests
    assert (request.method, request.path) == ("POST", "/api/send")
    assert request.headers["authorization"] == "Bearer t0k"
    assert request.json() == {
        "to": "+79161234567",
        "from": "Energo",
        "text": "Задолженность 1234,56 руб. Оплатите.",
    }


async def test_gateway_refusal_is_permanent_and_overload_temporary(http_peer: HttpPeer) -> None:
    http_peer.replies = [(400, '{"error": "blocked"}'), (503, "busy"), (429, "slow down")]
    async with _gateway(http_peer) as gateway:
        with pytest.raises(DeliveryRefused, match="blocked"):
            await gateway.send("+79161234567", "x")
        with pytest.raises(DeliveryFailed, match="503"):
            await gateway.send("+79161234567", "x")
        with pytest.raises(DeliveryFailed, match="429"):
            await gateway.send("+79161234567", "x")


async def test_a_silent_gateway_times_out(http_peer: HttpPeer) -> None:
    http_peer.stall = True
    async with _gateway(http_peer, timeout=0.3) as gateway:
        with pytest.raises(DeliveryFailed, match="вовремя"):
            await gateway.send("+79161234567", "x")


async def test_bad_numbers_and_texts_never_reach_the_gateway(http_peer: HttpPeer) -> None:
    async with _gateway(http_peer) as gateway:
        with pytest.raises(DeliveryRefused, match="международном"):
            await gateway.send("89161234567", "x")
        with pytest.raises(DeliveryRefused, match="пустой"):
            await gateway.send("+79161234567", "  \n ")
        with pytest.raises(DeliveryRefused, match="длинное"):
            await gateway.send("+79161234567", "я" * 500)
    assert http_peer.requests == []


def test_sms_parts_follow_gsm7_and_ucs2_limits() -> None:
    assert sms_parts("a" * 160) == 1
    assert sms_parts("a" * 161) == 2
    assert sms_parts("€" * 80) == 1  # extended characters take two septets
    assert sms_parts("я" * 70) == 1
    assert sms_parts("я" * 71) == 2
    assert sms_parts("я" * 135) == 3
