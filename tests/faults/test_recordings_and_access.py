"""Fault suite, recordings and access (SPEC §4 and §8): a recording survives a hang-up, a
crash of its writer and a full disk without ever being shown as something it is not; nobody
reaches a file or a function their role does not allow."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from callcenter.db.repositories import recordings as recordings_repo
from callcenter.domain.recordings import RecordingState
from callcenter.recordings.registry import CompletionStatus
from tests.api.recordings_support import (
    Env,
    age,
    make_env,
    read_samples,
    samples,
    write_unfinished_wav,
    write_wav,
)


@pytest.fixture
async def env(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    database_url: str,
    tmp_path: Path,
) -> AsyncIterator[Env]:
    env, _ = await make_env(engine, session_factory, database_url, tmp_path / "rec")
    async with env.client:
        yield env


async def _register(env: Env, **call: Any) -> tuple[Any, Any, Path]:
    call_id = await env.call(**call)
    async with env.sessions.begin() as session:
        rec = await env.core.register(session, call_id)
    return call_id, rec, env.store.resolve(rec.path)


async def _state(env: Env, rec_id: Any) -> Any:
    async with env.sessions() as session:
        return await recordings_repo.get(session, rec_id)


def _audio(rec_id: Any) -> str:
    return f"/api/v1/recordings/{rec_id}/audio"


async def test_hang_up_while_recording_gives_a_complete_playable_recording(env: Env) -> None:
    call_id, rec, path = await _register(env, operator_id=env.world.op_a)
    write_wav(path, samples(2.5, seed=3))  # Asterisk closes the file on hang-up
    (outcome,) = await env.core.on_call_hung_up(call_id)
    assert outcome.status is CompletionStatus.COMPLETE
    reply = await env.client.get(_audio(rec.id), headers=env.headers("op_a"))
    assert reply.status_code == 200
    assert np.array_equal(read_samples(reply.content), samples(2.5, seed=3))


async def test_kill_9_while_recording_the_header_is_repaired_and_nothing_lost(env: Env) -> None:
    call_id, rec, path = await _register(env)
    # the writer was killed: the header still declares 0 data bytes
    write_unfinished_wav(path, samples(1.5, seed=9))
    age(path, 120)
    (outcome,) = await env.core.on_call_hung_up(call_id, wait=False)
    assert outcome.status is CompletionStatus.COMPLETE
    assert outcome.repaired
    done = await _state(env, rec.id)
    assert done.duration_seconds == pytest.approx(1.5)
    reply = await env.client.get(_audio(rec.id), headers=env.headers("admin"))
    assert np.array_equal(read_samples(reply.content), samples(1.5, seed=9))
    assert [e.object_id for e in await env.audit("recording.repaired")] == [str(rec.id)]


async def test_disk_full_never_marks_a_partial_recording_complete(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    total, free = 100 * 2**30, 50 * 2**20  # 50 MB left: below the critical floor

    def usage(_path: object) -> Any:
        return shutil._ntuple_diskusage(total, total - free, free)  # type: ignore[attr-defined]

    monkeypatch.setattr("callcenter.storage.recordings.shutil.disk_usage", usage)
    call_id, rec, path = await _register(env)
    write_wav(path, samples(1.0))
    (outcome,) = await env.core.on_call_hung_up(call_id)
    assert outcome.status is CompletionStatus.DISK_FULL
    assert (await _state(env, rec.id)).state is RecordingState.RECORDING
    assert [a.kind for a in env.alerts] == ["disk_critical"]
    reply = await env.client.get(_audio(rec.id), headers=env.headers("admin"))
    assert reply.status_code == 409  # a clear refusal, not a truncated file


async def test_an_abandoned_call_has_no_complete_empty_recording(env: Env) -> None:
    call_id, rec, path = await _register(env)
    write_wav(path, samples(0))  # never bridged: a 44-byte header
    (outcome,) = await env.core.on_call_hung_up(call_id)
    assert outcome.status is CompletionStatus.EMPTY
    assert (await _state(env, rec.id)).state is RecordingState.EMPTY


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/recordings/..%2F..%2F..%2Fetc%2Fpasswd/audio",
        "/api/v1/recordings/%252e%252e%252fetc%252fpasswd/audio",
        "/api/v1/recordings/..%5C..%5Cwindows%5Cwin.ini/audio",
    ],
)
async def test_recording_path_traversal_finds_nothing(env: Env, path: str) -> None:
    reply = await env.client.get(path, headers=env.headers("admin"))
    assert reply.status_code == 404
    assert "root:" not in reply.text


async def test_cross_operator_access_is_refused_and_audited(env: Env) -> None:
    _, theirs = await env.recorded_call(1.0, operator_id=env.world.op_b)
    mine = await env.client.get(_audio(theirs), headers=env.headers("op_a"))
    assert mine.status_code == 403
    (denied,) = await env.audit("recording.access_denied")
    assert denied.user_id == env.world.user_ids["op_a"]
    assert (await env.client.get(_audio(theirs), headers=env.headers("op_b"))).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/staffing?calls_per_hour=100&aht=180"),
        ("POST", "/api/v1/campaigns"),
        ("POST", "/api/v1/contact-lists/import"),
        ("GET", "/api/v1/users"),
        ("POST", "/api/v1/scripts"),
        ("POST", "/api/v1/recordings/retention/run"),
    ],
)
async def test_an_operator_calling_supervisor_functions_gets_403(
    env: Env, method: str, path: str
) -> None:
    reply = await env.client.request(method, path, json={}, headers=env.headers("op_a"))
    assert reply.status_code == 403, (path, reply.status_code, reply.text)
    assert "role" in reply.text or "супервизор" in reply.text or "администратор" in reply.text
