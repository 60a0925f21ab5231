"""Helpers for the recording tests: a small contact centre (lines, operators, users), calls,
real WAV files in a temporary store, and an HTTP client signed in as each kind of user."""

from __future__ import annotations

import io
import struct
import uuid
import wave
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from callcenter.api.app import create_app
from callcenter.api.tokens import issue_token
from callcenter.bootstrap import Platform
from callcenter.bootstrap.recordings import Recordings
from callcenter.config import load_settings
from callcenter.db.models import AuditLogEntry, RecordingAccessLog, User
from callcenter.db.repositories import calls as calls_repo
from callcenter.db.repositories import operators as operators_repo
from callcenter.db.repositories import queues as queues_repo
from callcenter.domain.calls import Direction
from callcenter.domain.recording_rules import RecordingPolicy
from callcenter.domain.roles import Role
from callcenter.ports.pbx import NoPbxLink
from callcenter.recordings.access import RecordingAccess
from callcenter.recordings.registry import RecordingAlert, RecordingService
from callcenter.recordings.upkeep import RecordingUpkeep
from callcenter.recordings.voicemails import VoicemailService
from callcenter.storage.recordings import RecordingStore

RATE = 8000


class Clock:
    """A clock the test moves; starts at the real time so file mtimes compare sensibly."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def samples(seconds: float, seed: int = 1) -> np.ndarray:
    """Audible, non-repeating audio: a tone with noise (int16, 8 kHz)."""
    count = round(seconds * RATE)
    t = np.arange(count) / RATE
    rng = np.random.default_rng(seed)
    signal = 8000 * np.sin(2 * np.pi * 440 * t) + rng.normal(0, 800, count)
    return np.clip(signal, -32768, 32767).astype("<i2")


def wav_bytes(audio: np.ndarray) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(audio.tobytes())
    return buf.getvalue()


def write_wav(path: Path, audio: np.ndarray) -> Path:
    """A finished WAV, as Asterisk leaves it after closing the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(wav_bytes(audio))
    return path


def write_unfinished_wav(path: Path, audio: np.ndarray, *, extra: bytes = b"") -> Path:
    """A WAV whose writer died: the header still says zero bytes of audio."""
    data = wav_bytes(audio)
    head = bytearray(data[:44])
    struct.pack_into("<I", head, 4, 36)
    struct.pack_into("<I", head, 40, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(head) + data[44:] + extra)
    return path


def read_samples(data: bytes) -> np.ndarray:
    with wave.open(io.BytesIO(data), "rb") as src:
        return np.frombuffer(src.readframes(src.getnframes()), dtype="<i2")


def age(path: Path, seconds: float) -> None:
    """Make a file look untouched for `seconds` (its writer stopped that long ago)."""
    import os

    st = path.stat()
    os.utime(path, (st.st_atime - seconds, st.st_mtime - seconds))


@dataclass
class World:
    """Lines 1 and 2, their queues, operators and one user of each kind."""

    queue1: str = "line1"
    queue2: str = "line2"
    op_a: int = 0  # line 1
    op_b: int = 0  # line 1
    op_c: int = 0  # line 2
    tokens: dict[str, str] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)


@dataclass
class Env:
    client: httpx.AsyncClient
    platform: Platform
    sessions: async_sessionmaker[AsyncSession]
    store: RecordingStore
    recordings: Recordings
    clock: Clock
    world: World
    alerts: list[RecordingAlert]

    @property
    def core(self) -> RecordingService:
        return self.recordings.core

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.world.tokens[who]}"}

    async def call(
        self,
        *,
        started_at: datetime | None = None,
        caller: str = "+79260001122",
        dialled: str | None = "88001000000",
        direction: Direction = Direction.INBOUND,
        queue: str | None = "line1",
        operator_id: int | None = None,
        ended: bool = True,
    ) -> uuid.UUID:
        start = started_at or self.clock.now - timedelta(minutes=5)
        async with self.sessions.begin() as session:
            call = await calls_repo.upsert(
                session,
                f"linked-{uuid.uuid4()}",
                direction=direction,
                caller_number=caller,
                dialled_number=dialled,
                started_at=start,
                queue_name=queue,
                operator_id=operator_id,
                ended_at=start + timedelta(minutes=3) if ended else None,
            )
            return call.id

    async def recorded_call(
        self, seconds: float = 2.0, *, seed: int = 1, **call_fields: object
    ) -> tuple[uuid.UUID, uuid.UUID]:
        """A call with a finished recording on disk, completed as on hang-up."""
        call_id = await self.call(**call_fields)  # type: ignore[arg-type]
        async with self.sessions.begin() as session:
            rec = await self.core.register(session, call_id)
        write_wav(self.store.resolve(rec.path), samples(seconds, seed))
        await self.core.complete(rec.id)
        return call_id, rec.id

    async def audit(self, action: str) -> list[AuditLogEntry]:
        async with self.sessions() as session:
            stmt = select(AuditLogEntry).where(AuditLogEntry.action == action)
            return list(await session.scalars(stmt.order_by(AuditLogEntry.id)))

    async def access_log(self, recording_id: uuid.UUID) -> list[RecordingAccessLog]:
        async with self.sessions() as session:
            stmt = select(RecordingAccessLog).where(RecordingAccessLog.recording_id == recording_id)
            return list(await session.scalars(stmt.order_by(RecordingAccessLog.id)))


async def _seed_world(sessions: async_sessionmaker[AsyncSession], secret: str) -> World:
    world = World()
    async with sessions.begin() as session:
        await queues_repo.create(session, name=world.queue1, support_line=1)
        await queues_repo.create(session, name=world.queue2, support_line=2)
        op_a = await operators_repo.create(session, extension="101", full_name="A", support_line=1)
        op_b = await operators_repo.create(session, extension="102", full_name="B", support_line=1)
        op_c = await operators_repo.create(session, extension="201", full_name="C", support_line=2)
        # the line-2 supervisor's own operator row ties them to line 2
        op_s = await operators_repo.create(session, extension="290", full_name="S", support_line=2)
        world.op_a, world.op_b, world.op_c = op_a.id, op_b.id, op_c.id
        people = {
            "admin": (Role.ADMINISTRATOR, None),
            "chief": (Role.SUPERVISOR, None),
            "super2": (Role.SUPERVISOR, op_s.id),
            "op_a": (Role.OPERATOR, op_a.id),
            "op_b": (Role.OPERATOR, op_b.id),
            "op_c": (Role.OPERATOR, op_c.id),
            "nobody": (Role.OPERATOR, None),
        }
        for name, (role, operator_id) in people.items():
            user = User(username=name, password_hash="-", role=role, operator_id=operator_id)
            session.add(user)
            await session.flush()
            world.user_ids[name] = user.id
            world.tokens[name], _ = issue_token(
                secret=secret,
                user_id=user.id,
                username=name,
                role=role,
                now=datetime.now(UTC),
                ttl=timedelta(hours=1),
            )
    return world


def build_recordings(
    sessions: async_sessionmaker[AsyncSession],
    store: RecordingStore,
    clock: Clock,
    alerts: list[RecordingAlert],
    *,
    policy: RecordingPolicy | None = None,
    export_max_bytes: int = 10 * 1024 * 1024,
) -> Recordings:
    async def collect(alert: RecordingAlert) -> None:
        alerts.append(alert)

    core = RecordingService(
        sessions,
        store,
        policy=policy,
        clock=clock,
        alert=collect,
        settle_seconds=5.0,
        missing_after_seconds=60.0,
        completion_retry_seconds=0.01,
    )
    return Recordings(
        core=core,
        access=RecordingAccess(core, export_max_bytes=export_max_bytes),
        upkeep=RecordingUpkeep(core),
        voicemails=VoicemailService(core),
    )


async def make_env(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    database_url: str,
    root: Path,
    *,
    policy: RecordingPolicy | None = None,
    export_max_bytes: int = 10 * 1024 * 1024,
) -> tuple[Env, httpx.ASGITransport]:
    settings = load_settings(database_url=database_url, recordings_dir=root)
    world = await _seed_world(sessions, settings.jwt_secret.get_secret_value())
    store = RecordingStore(root)
    clock = Clock()
    alerts: list[RecordingAlert] = []
    recordings = build_recordings(
        sessions, store, clock, alerts, policy=policy, export_max_bytes=export_max_bytes
    )
    platform = Platform(
        settings=settings,
        engine=engine,
        session_factory=sessions,
        pbx=NoPbxLink("no PBX in recording tests"),
        recordings=recordings,
    )
    app = create_app(platform, manage_lifecycle=False)
    transport = httpx.ASGITransport(app=app)
    client = httpx.AsyncClient(transport=transport, base_url="http://test")
    env = Env(client, platform, sessions, store, recordings, clock, world, alerts)
    return env, transport
