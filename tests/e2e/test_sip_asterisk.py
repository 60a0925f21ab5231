"""SIP end to end: a real Asterisk 22, the platform as `callcenter serve` builds it, SIPp phones.

A caller on the provider trunk (SIPp, RFC 4733 keys) dials the 8-800 number; Asterisk runs the
rendered `asterisk_conf/` and hands the call to the platform's FastAGI IVR, which plays its
Russian prompts; operators sign in through the API and their phones (SIPp UAS) ring through
the queues. What a supervisor sees (the call record, the recording) is read back through the
HTTP API. The platform keeps its default prompt settings: what Asterisk is told to play must
be what it can open (no "does not exist in any format" in its log).

Skipped where there is no Asterisk with chan_pjsip, or no SIPp (CI). Run with
`flock /tmp/asterisk.lock pytest -m asterisk` (one Asterisk at a time on a machine).
"""

from __future__ import annotations

import asyncio
import math
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from callcenter.api.app import create_app
from callcenter.bootstrap import Platform, build_platform
from callcenter.config import load_settings
from callcenter.db.migrate import upgrade_to_head
from callcenter.db.models import User
from callcenter.db.seed import seed_demo
from callcenter.domain.roles import Role
from callcenter.passwords import hash_password
from tests.support.paths import REPO_ROOT
from tests.support.real_asterisk import (
    Keys,
    Pause,
    RealAsterisk,
    Speak,
    Tone,
    free_port,
    missing_for_sip,
    not_found_lines,
    phone,
    place_call,
    start_asterisk,
)
from tests.support.tones import find_tone, read_wav

MISSING = missing_for_sip()
pytestmark = [
    pytest.mark.asterisk,
    pytest.mark.slow,  # real calls through a real Asterisk take real seconds
    pytest.mark.skipif(MISSING is not None, reason=MISSING or ""),
]

# What the caller hears first: the greeting (3.6 s) and the recording notice (4 s), then the
# main menu (10.6 s), during which a key is taken at once.
INTRO = 10.0


@dataclass
class Rig:
    asterisk: RealAsterisk
    platform: Platform
    http: httpx.AsyncClient
    headers: dict[str, str]
    work: Path

    async def sign_in(self, extension: str) -> dict[str, str]:
        """Operator `extension` logs in to the queues of their line (QueueAdd PJSIP/<ext>)."""
        token = await self.http.post(
            "/api/v1/auth/token",
            data={"username": f"operator{extension}", "password": "operator"},
        )
        me = {"Authorization": f"Bearer {token.json()['access_token']}"}
        state = await self.http.post("/api/v1/me/login", headers=me)
        assert state.status_code == 200, state.text
        return me

    async def last_call(self, within: float = 30.0) -> dict[str, Any]:
        """The newest call record, once its end is written."""
        assert self.platform.calls is not None
        async with asyncio.timeout(within):
            while True:
                await self.platform.calls.flush()
                page = (await self.http.get("/api/v1/calls", headers=self.headers)).json()
                ended = [c for c in page["items"] if c["ended_at"]]
                if ended:
                    return dict(ended[0])
                await asyncio.sleep(0.1)

    async def recording(self, call_id: str, within: float = 30.0) -> tuple[dict[str, Any], bytes]:
        async with asyncio.timeout(within):
            while True:
                found = (
                    await self.http.get(
                        "/api/v1/recordings", params={"call_id": call_id}, headers=self.headers
                    )
                ).json()
                done = [r for r in found["items"] if r["state"] == "complete"]
                if done:
                    break
                await asyncio.sleep(0.2)
        audio = await self.http.get(
            f"/api/v1/recordings/{done[0]['id']}/audio", headers=self.headers
        )
        assert audio.status_code == 200
        return done[0], audio.content


@pytest.fixture
def asterisk(tmp_path: Path) -> Iterator[RealAsterisk]:
    running = start_asterisk(
        tmp_path / "asterisk",
        agi_port=free_port(),
        ami_port=free_port(),
        ami_secret=secrets.token_urlsafe(18),
        recordings_dir=tmp_path / "recordings",
    )
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
async def rig(tmp_path: Path, asterisk: RealAsterisk) -> AsyncIterator[Rig]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cc.sqlite3'}"
    await asyncio.to_thread(upgrade_to_head, url)
    values = asterisk.values
    # the platform's defaults, except where Asterisk and the database are
    settings = load_settings(
        database_url=url,
        recordings_dir=tmp_path / "recordings",
        flows_dir=REPO_ROOT / "ivr_flows",
        ami_host="127.0.0.1",
        ami_port=values.ami_port,
        ami_username=values.ami_username,
        ami_secret=values.ami_secret,
        agi_host="127.0.0.1",
        agi_port=values.agi_port,
        demo_traffic=False,
        flows_watch=False,
    )
    assert settings.prompts_cache_dir.is_absolute()
    platform = build_platform(settings)
    await seed_demo(platform.session_factory, now=datetime.now(UTC), if_empty=True)
    async with platform.session_factory.begin() as session:
        session.add(
            User(
                username="chief",
                password_hash=hash_password("pw"),
                role=Role.SUPERVISOR,
                full_name="Chief",
            )
        )
    await platform.start()
    await platform.pbx.client.wait_connected(20)
    app = create_app(platform, manage_lifecycle=False)
    work = tmp_path / "sipp"
    work.mkdir()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as http:
        token = await http.post("/api/v1/auth/token", data={"username": "chief", "password": "pw"})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        try:
            yield Rig(asterisk, platform, http, headers, work)
        finally:
            await platform.stop()


# The two voices of the conversation: a steady tone each, far from each other, from the
# harmonics of the other (600 * 3 = 1800) and from every DTMF and Russian call-progress
# frequency (425 Hz), so that a frame the tone fills cannot be anything else.
CALLER_HZ = 600.0
OPERATOR_HZ = 1900.0
TONE_SECONDS = 3.0
TONE_LEVEL = 0.3  # peak, of full scale: a sine's power is then 20*log10(0.3) - 3 = -13.5 dBFS
# Key 0 at 12 s, a short transfer prompt, the phone rings at once and answers after 1 s: the
# parties are bridged about 15 s into the call. From the key on, the caller's phone sends RTP
# without a break, as a real one does: silence, 3 s of its tone at about 19 s, silence, then
# it hangs up at about 30 s. The operator's phone does the same from its answer, with its
# tone 8 s after it (about 23 s). MixMonitor writes only while some leg carries audio: with
# both parties sending, the file keeps the call's own time.
CALLER_KEY_AT = INTRO + 2 + 0.14 + 0.6  # the pause, the key's capture, the gap after it
CALLER_TONE = Tone(CALLER_HZ, TONE_SECONDS, TONE_LEVEL, silence_before=6, silence_after=8)
OPERATOR_TONE = Tone(OPERATOR_HZ, TONE_SECONDS, TONE_LEVEL, silence_before=8, silence_after=6)


async def test_key_0_reaches_an_operator_and_both_voices_are_recorded(rig: Rig) -> None:
    await rig.sign_in("101")
    with phone(rig.asterisk, "101", rig.work, answer_after=1.0, talk=[OPERATOR_TONE]):
        run = await place_call(
            rig.asterisk,
            rig.work,
            [Speak(), Pause(INTRO + 2), Keys("0"), CALLER_TONE],
            hang_up_after=CALLER_TONE.duration,
        )
    assert run.returncode == 0, run.errors
    call = await rig.last_call()
    assert call["disposition"] == "answered"
    assert call["ivr_path"] == ["0"]
    assert call["queue_name"] == "line1"
    assert call["operator_id"] is not None
    assert call["recording_notice_version"] == "2025-01"
    # the phone rang at once and its operator answered after a second; the caller hung up
    # about 15 s later
    assert 0.5 < call["wait_seconds"] < 5
    assert 10 < call["talk_seconds"] < 20
    recording, audio = await rig.recording(call["id"])
    # what a supervisor searching the recordings sees of it: this call, its parties
    assert recording["caller_number"] == "+79161234567"
    assert recording["dialled_number"] == call["dialled_number"] == "+78001000000"
    assert recording["direction"] == "inbound"
    assert recording["operator_id"] == call["operator_id"]
    assert recording["queue_name"] == "line1"
    # one file for the whole call (the IVR, the queue and the conversation), as long as it
    assert audio[:4] == b"RIFF"
    samples, rate = read_wav(audio)
    assert rate == 8000
    assert recording["duration_seconds"] == pytest.approx(len(samples) / rate, abs=0.1)
    started = datetime.fromisoformat(call["started_at"])
    call_seconds = (datetime.fromisoformat(call["ended_at"]) - started).total_seconds()
    assert recording["duration_seconds"] == pytest.approx(call_seconds, abs=1.5)
    # both voices, each whole, each at the level it was sent at, each when that party spoke:
    # the caller's comes in on the caller's own leg, the operator's through the bridge
    caller = find_tone(samples, CALLER_HZ, rate=rate)
    operator = find_tone(samples, OPERATOR_HZ, rate=rate)
    print(f"\nrecording {len(samples) / rate:.2f} s of a {call_seconds:.2f} s call")
    print(f"caller   {caller}")
    print(f"operator {operator}")
    sent_dbfs = 20 * math.log10(TONE_LEVEL) - 3
    for voice in (caller, operator):
        assert voice.seconds >= TONE_SECONDS - 0.2, voice
        assert voice.last - voice.first <= TONE_SECONDS + 0.3, voice
        assert voice.level_dbfs == pytest.approx(sent_dbfs, abs=1.0), voice
        assert voice.share > 0.9, voice
    answered = (datetime.fromisoformat(call["answered_at"]) - started).total_seconds()
    assert answered < caller.first, "the caller spoke to the operator, not to the queue"
    assert caller.first == pytest.approx(CALLER_KEY_AT + CALLER_TONE.silence_before, abs=1.0)
    assert caller.last <= operator.first, "the caller spoke first, then the operator"
    assert operator.first == pytest.approx(answered + OPERATOR_TONE.silence_before, abs=1.0)
    assert not_found_lines(rig.asterisk.messages()) == []


async def test_a_menu_key_gets_a_self_service_answer(rig: Rig) -> None:
    # 1 outages, 1 information, 2 choose a locality, 1 Tver: the IVR says Tver's outages
    run = await place_call(
        rig.asterisk,
        rig.work,
        [Speak(), Pause(INTRO + 2), Keys("1"), Pause(2), Keys("1"), Pause(2), Keys("2"),
         Pause(2), Keys("1")],
        hang_up_after=30,
    )  # fmt: skip
    assert run.returncode == 0, run.errors
    call = await rig.last_call()
    assert call["ivr_path"] == ["1", "1", "2", "1"]
    assert call["ivr_closed"] is True  # the answer was given: served by the IVR
    assert call["queue_name"] is None
    assert call["operator_id"] is None
    assert not_found_lines(rig.asterisk.messages()) == []


async def test_a_caller_who_presses_nothing_reaches_an_operator(rig: Rig) -> None:
    await rig.sign_in("103")
    with phone(rig.asterisk, "103", rig.work, answer_after=1.0):
        run = await place_call(rig.asterisk, rig.work, [Speak()], hang_up_after=70)
    assert run.returncode == 0, run.errors
    call = await rig.last_call()
    assert call["disposition"] == "answered"
    assert call["ivr_path"] == []
    assert call["queue_name"] == "line1"
    assert call["operator_id"] is not None
    # the standard: a caller who presses nothing is in the operators' queue within 25 s
    assert call["ivr_seconds"] is not None
    assert call["ivr_seconds"] <= 25.0, call["ivr_seconds"]


async def test_a_caller_who_hangs_up_in_the_ivr(rig: Rig) -> None:
    run = await place_call(rig.asterisk, rig.work, [Speak()], hang_up_after=6)
    assert run.returncode == 0, run.errors
    call = await rig.last_call()
    assert call["disposition"] == "hung_up_in_ivr"
    assert call["queue_name"] is None
    assert call["answered_at"] is None


async def test_a_caller_who_hangs_up_while_queued_is_abandoned(rig: Rig) -> None:
    await rig.sign_in("102")
    with phone(rig.asterisk, "102", rig.work, answer_after=None):
        run = await place_call(
            rig.asterisk, rig.work, [Speak(), Pause(INTRO + 2), Keys("0")], hang_up_after=12
        )
    assert run.returncode == 0, run.errors
    call = await rig.last_call()
    assert call["disposition"] == "abandoned"
    assert call["queue_name"] == "line1"
    assert call["operator_id"] is None
    assert call["wait_seconds"] > 3


async def _ami_action(asterisk: RealAsterisk, action: str, **fields: str) -> str:
    """One AMI action on a fresh connection; returns the reply's text."""
    values = asterisk.values
    reader, writer = await asyncio.open_connection("127.0.0.1", values.ami_port)
    try:
        await reader.readline()
        lines = [
            "Action: Login",
            f"Username: {values.ami_username}",
            f"Secret: {values.ami_secret}",
            "Events: off",
            "",
            f"Action: {action}",
            *(f"{key}: {value}" for key, value in fields.items()),
            "",
            "",
        ]
        writer.write("\r\n".join(lines).encode())
        await writer.drain()
        replies: list[str] = []
        async with asyncio.timeout(10):
            while len(replies) < 2:
                frame = b""
                while not frame.endswith(b"\r\n\r\n"):
                    frame += await reader.readline()
                replies.append(frame.decode())
        return replies[1]
    finally:
        writer.close()


async def test_with_the_platform_down_the_caller_still_reaches_line_1(
    asterisk: RealAsterisk, tmp_path: Path
) -> None:
    # nothing listens on the FastAGI port; operator 101 is in line 1 (added by hand, as the
    # queue membership Asterisk keeps while the platform is away)
    added = await _ami_action(
        asterisk, "QueueAdd", Queue="line1", Interface="PJSIP/101", MemberName="101"
    )
    assert "Success" in added, added
    work = tmp_path / "sipp"
    work.mkdir()
    with phone(asterisk, "101", work, answer_after=1.0):
        run = await place_call(asterisk, work, [Speak()], hang_up_after=15)
    assert run.returncode == 0, run.errors
    queue_log = (asterisk.log_dir / "queue_log").read_text()
    # queue_log lines: time|call|queue|member|event|...
    events = [line.split("|")[2:5] for line in queue_log.splitlines()]
    assert ["line1", "NONE", "ENTERQUEUE"] in events
    assert ["line1", "101", "CONNECT"] in events


async def test_an_operator_transfers_the_caller_to_line_2(rig: Rig) -> None:
    first = await rig.sign_in("101")
    await rig.sign_in("106")  # line 2
    with (
        phone(rig.asterisk, "101", rig.work, answer_after=1.0),
        phone(rig.asterisk, "106", rig.work, answer_after=1.0),
    ):
        caller = asyncio.create_task(
            place_call(
                rig.asterisk, rig.work, [Speak(), Pause(INTRO + 2), Keys("0")], hang_up_after=35
            )
        )
        async with asyncio.timeout(60):
            while True:
                live = (await rig.http.get("/api/v1/me/calls/live", headers=first)).json()
                if live and live[0]["answered_at"]:
                    break
                await asyncio.sleep(0.2)
        moved = await rig.http.post(
            "/api/v1/me/calls/transfer",
            headers=first,
            json={"channel": live[0]["linkedid"], "target_kind": "line", "target": "2"},
        )
        assert moved.status_code == 200, moved.text
        run = await caller
    assert run.returncode == 0, run.errors
    call = await rig.last_call()
    assert call["disposition"] == "answered"
    assert call["transfer_count"] == 1
    queue_log = (rig.asterisk.log_dir / "queue_log").read_text()
    events = [line.split("|")[2:5] for line in queue_log.splitlines()]
    assert [e[0] for e in events if e[2] == "CONNECT"] == ["line1", "line2"]


async def test_a_voice_message_becomes_an_appeal(rig: Rig) -> None:
    # 4 other questions, 2 leave a message: the caller speaks, ends with #, and is told the
    # appeal's number
    run = await place_call(
        rig.asterisk,
        rig.work,
        [Speak(), Pause(INTRO + 2), Keys("4"), Pause(2), Keys("2"), Pause(7), Speak(), Pause(8),
         Keys("#")],
        hang_up_after=15,
    )  # fmt: skip
    assert run.returncode == 0, run.errors
    call = await rig.last_call()
    assert call["ivr_path"] == ["4", "2"]
    found = (await rig.http.get("/api/v1/voicemails", headers=rig.headers)).json()
    items = found["items"] if isinstance(found, dict) else found
    assert len(items) == 1, found
    message = items[0]
    assert message["caller_number"] == "+79161234567"
    assert message["appeal_id"] is not None
    assert message["call_id"] == call["id"]
    assert message["duration_seconds"] > 3


async def test_a_key_pressed_during_the_greeting_is_taken_after_the_notice(rig: Rig) -> None:
    await rig.sign_in("101")
    with phone(rig.asterisk, "101", rig.work, answer_after=1.0):
        run = await place_call(
            rig.asterisk, rig.work, [Speak(), Pause(2), Keys("0")], hang_up_after=20
        )
    assert run.returncode == 0, run.errors
    call = await rig.last_call()
    assert call["disposition"] == "answered"
    assert call["ivr_path"] == ["0"]
    assert call["recording_notice_version"] == "2025-01"
    # the greeting cut short, the notice (4 s) and the transfer prompt (4 s): well before the
    # main menu would have ended (about 22 s)
    assert call["ivr_seconds"] < 14
