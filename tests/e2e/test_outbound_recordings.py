"""Outbound calls are recorded like inbound ones (issue 16, row 6), on the built-in simulator.

An operator's dial-out (the workstation's "call" button) and a campaign call each end with a
complete recording that plays over HTTP, found from the call record, which names the
operator and the number dialled in E.164, like an inbound call's.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from callcenter.db.repositories import campaigns as campaigns_repo
from callcenter.sim.parties import CalledParty, Outcome
from tests.e2e.test_platform_calls import Rig, operator
from tests.e2e.test_platform_calls import rig as rig  # the fixture


async def _signed_in(rig: Rig, username: str) -> dict[str, str]:
    signed = await rig.http.post(
        "/api/v1/auth/token", data={"username": username, "password": "operator"}
    )
    return {"Authorization": f"Bearer {signed.json()['access_token']}"}


async def _ended_call(rig: Rig, **match: Any) -> dict[str, Any]:
    assert rig.platform.calls is not None
    calls = rig.platform.calls

    async def ended() -> dict[str, Any] | None:
        await calls.flush()
        page = (await rig.http.get("/api/v1/calls", headers=rig.headers)).json()
        for item in page["items"]:
            if item["ended_at"] and all(item.get(k) == v for k, v in match.items()):
                return dict(item)
        return None

    return dict(await rig.until(ended, within=600))


async def _played(rig: Rig, call: dict[str, Any]) -> dict[str, Any]:
    """The call's recording, once it is complete, and its audio over HTTP."""

    async def settled() -> dict[str, Any] | None:
        found = (
            await rig.http.get(
                "/api/v1/recordings", params={"call_id": call["id"]}, headers=rig.headers
            )
        ).json()
        done = [r for r in found["items"] if r["state"] != "recording"]
        return done[0] if done else None

    # a file that never appears would keep the row "recording" for minutes, then "missing"
    try:
        async with asyncio.timeout(40):
            recording = await rig.until(settled, within=600)
    except TimeoutError:
        raise AssertionError("the recording never completed (no file)") from None
    assert recording["state"] == "complete", recording
    audio = await rig.http.get(f"/api/v1/recordings/{recording['id']}/audio", headers=rig.headers)
    assert audio.status_code == 200
    assert audio.content[:4] == b"RIFF"
    assert len(audio.content) > 44  # the conversation, not a bare header
    return dict(recording)


async def test_an_operators_dial_out_is_recorded_and_plays(rig: Rig) -> None:
    rig.sim.add_operator(operator("101", answer_after=1.0, talk_time=3600.0))
    rig.sim.set_called_party("89157001122", CalledParty(Outcome.HUMAN, talk_time=20.0))
    me = await _signed_in(rig, "operator101")
    dialled = await rig.http.post(
        "/api/v1/me/calls/dial", json={"number": "8 (915) 700-11-22"}, headers=me
    )
    assert dialled.status_code == 202, dialled.text
    call = await _ended_call(rig, id=dialled.json()["channel_id"])
    assert call["direction"] == "outbound"
    assert call["dialled_number"] == "+79157001122"
    assert call["operator_id"] is not None
    recording = await _played(rig, call)
    assert recording["duration_seconds"] > 10


async def _campaign_calls(rig: Rig, *phones: str) -> None:
    """An auto-informing campaign over `phones`, started."""
    async with rig.platform.session_factory.begin() as session:
        contact_list = await campaigns_repo.create_list(session, "Обзвон")
        await campaigns_repo.add_contacts(
            session,
            contact_list.id,
            [
                campaigns_repo.NewContact(phone=phone, name="абонент", timezone="UTC")
                for phone in phones
            ],
        )
    now = datetime.now(UTC)
    created = await rig.http.post(
        "/api/v1/campaigns",
        headers=rig.headers,
        json={
            "name": "Информирование",
            "kind": "auto_inform",
            "contact_list_id": contact_list.id,
            "message_template": "Уважаемый абонент! Плановое отключение завтра.",
            "starts_at": (now - timedelta(minutes=1)).isoformat(),
            "ends_at": (now + timedelta(hours=1)).isoformat(),
            "window_start": "00:00",
            "window_end": "23:59:59",
            "max_attempts": 1,
        },
    )
    assert created.status_code == 201, created.text
    campaign_id = created.json()["id"]
    started = await rig.http.post(f"/api/v1/campaigns/{campaign_id}/start", headers=rig.headers)
    assert started.status_code == 200, started.text
    assert rig.platform.dialer is not None
    rig.platform.dialer.wake()


async def test_a_campaign_call_is_recorded_and_plays(rig: Rig) -> None:
    rig.sim.set_called_party("89162220001", CalledParty(Outcome.HUMAN, talk_time=20.0))
    await _campaign_calls(rig, "+79162220001")
    call = await _ended_call(rig, direction="outbound")
    assert call["dialled_number"] == "+79162220001"  # E.164, as every other call
    await _played(rig, call)


async def test_a_campaign_call_nobody_answered_leaves_no_missing_recording(rig: Rig) -> None:
    rig.sim.set_called_party("89162220002", CalledParty(Outcome.BUSY))
    await _campaign_calls(rig, "+79162220002")
    call = await _ended_call(rig, dialled_number="+79162220002")
    assert call["answered_at"] is None
    # rows are registered as the records are committed, so by now it would be there
    found = (
        await rig.http.get(
            "/api/v1/recordings", params={"call_id": call["id"]}, headers=rig.headers
        )
    ).json()
    # nothing was recorded, so there is no row waiting to turn "missing"
    assert found["items"] == []
