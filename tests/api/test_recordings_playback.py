"""Playing and exporting recordings: HTTP Range, formats, zips and their size limit, and the
access rules (refusals and traversal attempts answer 403/404 and land in the audit log)."""

from __future__ import annotations

import io
import os
import uuid
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from callcenter.db.models import Recording
from callcenter.domain.recordings import RecordingAction
from tests.api.recordings_support import Env, make_env, read_samples, samples


@pytest.fixture
async def env(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    database_url: str,
    tmp_path: Path,
) -> AsyncIterator[Env]:
    env, _ = await make_env(
        engine, session_factory, database_url, tmp_path / "rec", export_max_bytes=100_000
    )
    async with env.client:
        yield env


def audio_url(rec_id: object) -> str:
    return f"/api/v1/recordings/{rec_id}/audio"


async def test_a_recording_plays_whole_and_by_ranges(env: Env) -> None:
    _, rec_id = await env.recorded_call(2.0, seed=7, operator_id=env.world.op_a)
    whole = await env.client.get(audio_url(rec_id), headers=env.headers("op_a"))
    assert whole.status_code == 200
    assert whole.headers["content-type"] == "audio/wav"
    assert whole.headers["accept-ranges"] == "bytes"
    size = len(whole.content)
    assert int(whole.headers["content-length"]) == size == 44 + 2 * 8000 * 2
    assert np.array_equal(read_samples(whole.content), samples(2.0, 7))

    cases = {
        "bytes=0-99": (0, 99),
        "bytes=1000-": (1000, size - 1),
        "bytes=-500": (size - 500, size - 1),
        f"bytes=100-{size + 5000}": (100, size - 1),  # an end past the file is cut to it
    }
    for header, (start, end) in cases.items():
        part = await env.client.get(
            audio_url(rec_id), headers={**env.headers("op_a"), "Range": header}
        )
        assert part.status_code == 206, header
        assert part.headers["content-range"] == f"bytes {start}-{end}/{size}"
        assert part.content == whole.content[start : end + 1]
        assert int(part.headers["content-length"]) == end - start + 1


@pytest.mark.parametrize("header", ["bytes=999999-", "bytes=abc", "bytes=50-10", "bytes=-0"])
async def test_unsatisfiable_ranges_answer_416(env: Env, header: str) -> None:
    _, rec_id = await env.recorded_call(1.0)
    reply = await env.client.get(
        audio_url(rec_id), headers={**env.headers("admin"), "Range": header}
    )
    assert reply.status_code == 416
    assert reply.headers["content-range"] == f"bytes */{44 + 16000}"


@pytest.mark.parametrize("header", ["items=0-10", "bytes=0-1,5-9"])
async def test_ranges_it_does_not_serve_fall_back_to_the_whole_file(env: Env, header: str) -> None:
    _, rec_id = await env.recorded_call(1.0)
    reply = await env.client.get(
        audio_url(rec_id), headers={**env.headers("admin"), "Range": header}
    )
    assert reply.status_code == 200
    assert len(reply.content) == 44 + 16000


async def test_every_play_and_download_is_logged_with_who(env: Env) -> None:
    _, rec_id = await env.recorded_call(1.0, operator_id=env.world.op_a)
    await env.client.get(audio_url(rec_id), headers=env.headers("op_a"))
    await env.client.get(f"/api/v1/recordings/{rec_id}/export", headers=env.headers("admin"))
    log = await env.access_log(rec_id)
    assert [(e.action, e.user_id) for e in log] == [
        (RecordingAction.PLAY, env.world.user_ids["op_a"]),
        (RecordingAction.DOWNLOAD, env.world.user_ids["admin"]),
    ]
    assert all(e.at is not None for e in log)
    plays = await env.audit("recording.play")
    assert [(e.object_id, e.user_id) for e in plays] == [(str(rec_id), env.world.user_ids["op_a"])]


async def test_export_as_flac_is_an_attachment_with_the_same_audio(env: Env) -> None:
    _, rec_id = await env.recorded_call(1.5, seed=3)
    reply = await env.client.get(
        f"/api/v1/recordings/{rec_id}/export",
        params={"format": "flac"},
        headers=env.headers("admin"),
    )
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "audio/flac"
    assert reply.headers["content-disposition"].startswith("attachment; filename=")
    assert reply.headers["content-disposition"].endswith(f'_{rec_id}.flac"')
    decoded, rate = sf.read(io.BytesIO(reply.content), dtype="int16")
    assert rate == 8000
    assert np.array_equal(decoded, samples(1.5, 3))


async def test_operator_cannot_reach_a_colleagues_recording_and_the_attempt_is_audited(
    env: Env,
) -> None:
    _, theirs = await env.recorded_call(1.0, operator_id=env.world.op_b)
    for url in (
        audio_url(theirs),
        f"/api/v1/recordings/{theirs}",
        f"{audio_url(theirs)}/../export",
    ):
        reply = await env.client.get(url, headers=env.headers("op_a"))
        assert reply.status_code == 403, url
    denied = await env.audit("recording.access_denied")
    assert {(e.object_id, e.user_id) for e in denied} == {(str(theirs), env.world.user_ids["op_a"])}
    assert len(denied) == 3
    log = await env.access_log(theirs)
    assert [e.action for e in log] == [RecordingAction.DENIED] * 3
    # the owner still can
    assert (await env.client.get(audio_url(theirs), headers=env.headers("op_b"))).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/recordings/..%2F..%2F..%2Fetc%2Fpasswd/audio",
        "/api/v1/recordings/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/api/v1/recordings/%252e%252e%252fetc%252fpasswd/audio",
        "/api/v1/recordings/..%5C..%5Cwindows%5Cwin.ini/audio",
        "/api/v1/recordings/%2Fetc%2Fpasswd/export",
        "/api/v1/recordings/2025/01/01/00000000-0000-0000-0000-000000000000.wav",
        "/api/v1/recordings/00000000-0000-0000-0000-000000000000/audio",
        "/api/v1/recordings/not-a-uuid/audio",
        "/api/v1/recordings/{00000000-0000-0000-0000-000000000000}/audio",
    ],
)
async def test_traversal_and_unknown_ids_answer_404_and_are_audited(env: Env, path: str) -> None:
    reply = await env.client.get(path, headers=env.headers("admin"))
    assert reply.status_code == 404
    assert "etc" not in reply.text
    assert "root:" not in reply.text
    (entry,) = await env.audit("recording.not_found")
    assert entry.user_id == env.world.user_ids["admin"]
    assert entry.details["requested"]


async def test_a_tampered_path_in_the_database_never_reaches_the_file(
    env: Env, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.wav"
    secret.write_bytes(b"RIFF-not-for-you")
    _, rec_id = await env.recorded_call(1.0)
    link = env.store.root / "2025" / "01" / "01"
    link.mkdir(parents=True)
    os.symlink(secret, link / f"{uuid.uuid4()}.wav")
    for bad in (
        "../secret.wav",
        str(secret),
        "2025/01/01/../../../../secret.wav",
        f"2025/01/01/{next(link.iterdir()).name}",  # a symlink leading out of the store
    ):
        async with env.sessions.begin() as session:
            await session.execute(update(Recording).where(Recording.id == rec_id).values(path=bad))
        reply = await env.client.get(audio_url(rec_id), headers=env.headers("admin"))
        assert reply.status_code == 404, bad
        assert b"not-for-you" not in reply.content
    unsafe = await env.audit("recording.unsafe_path")
    assert len(unsafe) == 4
    assert {e.object_id for e in unsafe} == {str(rec_id)}


async def test_bulk_export_zips_the_chosen_recordings(env: Env) -> None:
    _, first = await env.recorded_call(1.0, seed=1, operator_id=env.world.op_a)
    _, second = await env.recorded_call(1.0, seed=2, operator_id=env.world.op_a)
    reply = await env.client.post(
        "/api/v1/recordings/export",
        json={"ids": [str(first), str(second)]},
        headers=env.headers("op_a"),
    )
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/zip"
    assert "attachment" in reply.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(reply.content)) as zf:
        names = sorted(zf.namelist())
        assert [n.rsplit("_", 1)[1] for n in names] == sorted([f"{first}.wav", f"{second}.wav"])
        contents = {n.rsplit("_", 1)[1]: zf.read(n) for n in names}
    assert np.array_equal(read_samples(contents[f"{first}.wav"]), samples(1.0, 1))
    assert [e.action for e in await env.access_log(first)] == [RecordingAction.EXPORT]
    assert len(await env.audit("recording.export")) == 2
    # the temporary zip is gone once sent
    assert not list(env.store.cache_root.glob("export-*.zip"))


async def test_bulk_export_over_the_size_limit_answers_413_with_the_reason(env: Env) -> None:
    # the limit in this module is 100,000 bytes: four 2-second recordings (128 KB) are over it
    chosen = [str((await env.recorded_call(2.0, seed=n))[1]) for n in range(4)]
    reply = await env.client.post(
        "/api/v1/recordings/export", json={"ids": chosen}, headers=env.headers("admin")
    )
    assert reply.status_code == 413
    assert "limit" in reply.json()["detail"]
    assert "fewer recordings" in reply.json()["detail"]
    (refusal,) = await env.audit("recording.export_refused")
    assert refusal.details["recordings"] == 4
    assert refusal.details["limit_bytes"] == 100_000
    assert await env.audit("recording.export") == []


async def test_bulk_export_is_all_or_nothing_on_access(env: Env) -> None:
    _, mine = await env.recorded_call(1.0, operator_id=env.world.op_a)
    _, theirs = await env.recorded_call(1.0, operator_id=env.world.op_b)
    refused = await env.client.post(
        "/api/v1/recordings/export",
        json={"ids": [str(mine), str(theirs)]},
        headers=env.headers("op_a"),
    )
    assert refused.status_code == 403
    unknown = await env.client.post(
        "/api/v1/recordings/export",
        json={"ids": [str(mine), "../../etc/passwd"]},
        headers=env.headers("op_a"),
    )
    assert unknown.status_code == 404
    assert await env.audit("recording.export") == []
    assert len(await env.audit("recording.access_denied")) == 1
    assert len(await env.audit("recording.not_found")) == 1


async def test_a_recording_still_in_progress_cannot_be_played(env: Env) -> None:
    call_id = await env.call(ended=False)
    async with env.sessions.begin() as session:
        rec = await env.core.register(session, call_id)
    reply = await env.client.get(audio_url(rec.id), headers=env.headers("admin"))
    assert reply.status_code == 409
    assert "still being recorded" in reply.json()["detail"]
