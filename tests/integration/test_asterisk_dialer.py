"""A predictive campaign dialled by `DialerService` through the reference Asterisk.

Needs an `asterisk` binary on PATH (skipped otherwise). The rendered asterisk_conf/ runs
unprivileged from a temporary directory, with one test-only context added: the called
parties (`Local/<digits>@test-parties`). The dialer originates into `dialer,amd` over AMI,
Asterisk's own AMD() listens to each party (a short greeting then silence: a person; a long
greeting: a machine), and the "dialer" FastAGI script hands people to line 1 or apologises.
Asterisk's OriginateResponse events come back over AMI. Operators are given to the dialer's
pool directly (no phones here); one of them pauses while the first calls ring, so a person
finds nobody within the grace period: abandoned, stored as such, in the report.
"""

from __future__ import annotations

import asyncio
import math
import struct
import subprocess
import uuid
import wave
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.asterisk.agi import AgiServer
from callcenter.asterisk.ami import AmiClient, Backoff, OriginateOutcome
from callcenter.asterisk.conf_render import AsteriskConfValues, render_conf
from callcenter.db.campaign_locks import InProcessLocks
from callcenter.db.repositories import campaigns as campaigns_repo
from callcenter.domain.agents import OperatorState
from callcenter.domain.campaigns import CampaignKind, CampaignStatus, DialMode
from callcenter.outbound.campaigns import CampaignsService
from callcenter.outbound.dialer import (
    DialerConfig,
    DialerService,
    InMemoryOperatorPool,
    dialer_agi_handler,
)
from callcenter.pbx.frames import AmiFrame
from callcenter.pbx.listener import ResyncSnapshot
from callcenter.ports.queries import NewContact
from tests.integration.test_asterisk_real import ASTERISK, _wait_fully_booted
from tests.support.eventually import eventually
from tests.support.real_asterisk import loopback_conf_values

pytestmark = [
    pytest.mark.asterisk,
    pytest.mark.skipif(ASTERISK is None, reason="needs an asterisk binary on PATH"),
]

PEOPLE = ["+79160000001", "+79160000002", "+79160000003"]
MACHINE = "+79160000005"
BUSY = "+79160000006"
NO_ANSWER = "+79160000007"


def _tone(path: Path, voice: float, silence: float) -> None:
    """An 8 kHz WAV: `voice` seconds of a 440 Hz tone (speech to AMD), then silence."""
    rate = 8000
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        samples = [
            int(8000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(int(voice * rate))
        ]
        samples += [0] * int(silence * rate)
        out.writeframes(struct.pack(f"<{len(samples)}h", *samples))


def _parties(sounds: Path) -> str:
    _tone(sounds / "person.wav", voice=0.6, silence=3.0)  # "Алло?" then waits: HUMAN
    _tone(sounds / "machine.wav", voice=3.5, silence=0.5)  # a long greeting: MACHINE
    lines = ["", "[test-parties]"]
    for e164 in PEOPLE:
        digits = e164.lstrip("+")
        lines += [
            f"exten => {digits},1,Answer()",
            f" same => n,Playback({sounds / 'person'})",
            " same => n,Wait(6)",
            " same => n,Hangup()",
        ]
    digits = MACHINE.lstrip("+")
    lines += [
        f"exten => {digits},1,Answer()",
        f" same => n,Playback({sounds / 'machine'})",
        " same => n,Hangup()",
        f"exten => {BUSY.lstrip('+')},1,Busy(5)",
        f"exten => {NO_ANSWER.lstrip('+')},1,Ringing()",
        " same => n,Wait(60)",
        "",
    ]
    return "\n".join(lines)


@dataclass
class Running:
    values: AsteriskConfValues


@pytest.fixture(scope="module")
def asterisk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    assert ASTERISK is not None
    root = tmp_path_factory.mktemp("asterisk-dialer")
    values = loopback_conf_values(root)
    conf_dir = root / "etc"
    render_conf(values, conf_dir)
    sounds = root / "sounds"
    sounds.mkdir()
    with (conf_dir / "extensions.conf").open("a", encoding="utf-8") as extensions:
        extensions.write(_parties(sounds))
    with (root / "stdout.log").open("wb") as console:
        process = subprocess.Popen(
            [ASTERISK, "-C", str(conf_dir / "asterisk.conf"), "-f", "-n"],
            stdin=subprocess.DEVNULL,
            stdout=console,
            stderr=subprocess.STDOUT,
        )
    try:
        asyncio.run(_wait_fully_booted(values, process))
        yield Running(values)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@dataclass
class Prompts:
    """Prompt names Asterisk does not have: STREAM FILE fails quietly, the script goes on."""

    texts: list[str] = field(default_factory=list)

    @dataclass(frozen=True)
    class Rendered:
        asterisk_name: str

    async def render(self, text: str) -> Prompts.Rendered:
        self.texts.append(text)
        return self.Rendered(f"cc-test/{abs(hash(text)) % 10**8}")


@dataclass
class Forwarder:
    dialer: DialerService | None = None
    originated: asyncio.Event = field(default_factory=asyncio.Event)

    async def on_connected(self, snapshot: ResyncSnapshot) -> None:
        return None

    async def on_disconnected(self) -> None:
        return None

    async def on_event(self, frame: AmiFrame, received_at: datetime) -> None:
        if (frame.event or "").lower() == "newchannel":
            self.originated.set()
        outcome = OriginateOutcome.from_frame(frame)
        if outcome is not None and self.dialer is not None:
            await self.dialer.on_originate_response(
                outcome.channel_id, success=outcome.success, reason=outcome.reason
            )


@pytest.fixture
async def dialling(
    asterisk: Running, session_factory: async_sessionmaker[AsyncSession]
) -> AsyncIterator[tuple[DialerService, InMemoryOperatorPool, Forwarder]]:
    values = asterisk.values
    forwarder = Forwarder()
    holder: list[DialerService] = []

    async def handler(channel: Any) -> None:
        await dialer_agi_handler(holder[0])(channel)

    async with AgiServer({"dialer": handler}, host=values.agi_host, port=values.agi_port):
        client = AmiClient(
            "127.0.0.1",
            values.ami_port,
            values.ami_username,
            values.ami_secret,
            forwarder,
            action_timeout=5.0,
            backoff=Backoff(base=0.05, factor=2.0, max_delay=0.5, jitter=0.0),
        )
        await client.start()
        await client.wait_connected(10.0)
        pool = InMemoryOperatorPool(clock=lambda: datetime.now(UTC))
        dialer = DialerService(
            session_factory,
            client,
            pool,
            Prompts(),
            InProcessLocks(str(id(session_factory))),
            config=DialerConfig(
                channel_template="Local/{digits}@test-parties",
                ring_timeout=8.0,
                tick_seconds=0.2,
                scan_seconds=0.5,
                key_timeout_ms=2000,
            ),
        )
        holder.append(dialer)
        forwarder.dialer = dialer
        try:
            async with dialer:
                yield dialer, pool, forwarder
        finally:
            await client.close()


async def test_a_predictive_campaign_through_asterisk_amd_stores_abandoned_calls(
    dialling: tuple[DialerService, InMemoryOperatorPool, Forwarder],
    session_factory: async_sessionmaker[AsyncSession],
    asterisk: Running,
) -> None:
    dialer, pool, forwarder = dialling
    # the Asterisk is the module's: other tests' recordings are already there
    before = set(asterisk.values.recordings_dir.rglob("*.wav"))
    now = datetime.now(UTC)
    for operator in ("101", "102"):
        pool.set_state("line1", operator, OperatorState.READY, now)
    async with session_factory.begin() as session:
        contact_list = await campaigns_repo.create_list(session, "Asterisk")
        await campaigns_repo.add_contacts(
            session,
            contact_list.id,
            [
                NewContact(phone=p, name=p, timezone="UTC")
                for p in [*PEOPLE, MACHINE, BUSY, NO_ANSWER]
            ],
        )
        campaign = await campaigns_repo.create_campaign(
            session,
            name="Предиктивный, Asterisk",
            kind=CampaignKind.OPERATOR,
            mode=DialMode.PREDICTIVE,
            status=CampaignStatus.SCHEDULED,
            contact_list_id=contact_list.id,
            starts_at=now - timedelta(minutes=1),
            ends_at=now + timedelta(hours=1),
            window_start=time(0, 0),
            window_end=time(23, 59, 59),
            message_template="",
            max_attempts=1,
            retry_delays=[900],
        )
    await dialer.scan()
    # an operator steps away while the first calls ring: someone will find nobody
    async with asyncio.timeout(20):
        await forwarder.originated.wait()
    pool.set_state("line1", "102", OperatorState.PAUSED, datetime.now(UTC))

    campaigns = CampaignsService(session_factory, clock=lambda: datetime.now(UTC))
    async with asyncio.timeout(120):
        # the database has no change events: poll the campaign's status
        for _ in iter(int, 1):
            if (await campaigns.get(campaign.id)).status is CampaignStatus.FINISHED:
                break
            await asyncio.sleep(0.2)

    async with session_factory() as session:
        rows = await campaigns_repo.list_attempts(session, campaign.id)
    got = {contact.phone: (a.result, a.reason_code, a.amd_status) for a, contact in rows}
    assert got[MACHINE] == ("machine", 4, "MACHINE")  # Asterisk's AMD heard a long greeting
    assert got[BUSY][:2] == ("busy", 5)
    assert got[NO_ANSWER][:2] == ("no_answer", 3)
    people = [got[p] for p in PEOPLE]
    assert all(amd == "HUMAN" and reason == 4 for _, reason, amd in people), people
    results = sorted(result or "" for result, _, _ in people)
    assert "abandoned" in results
    assert set(results) <= {"abandoned", "connected"}

    report = await campaigns.report(campaign.id)
    assert report.negative["abandoned"] == results.count("abandoned")
    assert report.results["connected"] == results.count("connected")
    assert report.abandon_rate == pytest.approx(results.count("abandoned") / len(PEOPLE))

    # issue 16, row 6: every answered call (the people and the machine) is recorded once,
    # from its answer, in a file named by the call's id; busy and unanswered ones leave none
    answered = len(PEOPLE) + 1

    def recordings() -> list[Path] | None:
        files = sorted(set(asterisk.values.recordings_dir.rglob("*.wav")) - before)
        return files if len(files) >= answered else None

    files = await eventually(recordings, within=20, what="the campaign's recordings")
    assert len(files) == answered, files
    for file in files:
        assert uuid.UUID(file.stem)
        assert file.stat().st_size > 44  # AMD and the message were heard, not just a header
