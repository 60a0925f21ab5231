"""A recording's life: completion on hang-up (with header repair and the disk guard), the sweep,
archiving (still searchable and playable), retention with its destruction record, voicemail."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from callcenter.db.repositories import appeals as appeals_repo
from callcenter.db.repositories import recordings as recordings_repo
from callcenter.domain.appeals import AppealChannel
from callcenter.domain.calls import Direction
from callcenter.domain.recording_rules import RecordingPolicy, RecordingRule
from callcenter.domain.recordings import RecordingAction, RecordingState
from callcenter.recordings.registry import CompletionStatus
from callcenter.storage.recordings import DiskLevel
from tests.api.recordings_support import (
    Env,
    age,
    make_env,
    read_samples,
    samples,
    write_unfinished_wav,
    write_wav,
)

POLICY = RecordingPolicy(
    rules=(
        RecordingRule(name="outbound-short", direction=Direction.OUTBOUND, retention_days=30),
        RecordingRule(
            name="line2-archive-early", queues=frozenset({"line2"}), archive_after_days=7
        ),
    ),
    default_retention_days=365,
    default_archive_after_days=60,
)


@pytest.fixture
async def env(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    database_url: str,
    tmp_path: Path,
) -> AsyncIterator[Env]:
    env, _ = await make_env(engine, session_factory, database_url, tmp_path / "rec", policy=POLICY)
    async with env.client:
        yield env


async def recording(env: Env, rec_id: Any) -> Any:
    async with env.sessions() as session:
        return await recordings_repo.get(session, rec_id)


async def registered(env: Env, **call_fields: Any) -> tuple[Any, Any, Path]:
    call_id = await env.call(**call_fields)
    async with env.sessions.begin() as session:
        rec = await env.core.register(session, call_id)
    return call_id, rec, env.store.resolve(rec.path)


async def play(env: Env, rec_id: Any, who: str = "admin") -> Any:
    return await env.client.get(f"/api/v1/recordings/{rec_id}/audio", headers=env.headers(who))


# -- completion ---------------------------------------------------------------------------


async def test_a_call_registers_a_file_named_by_its_uuid_and_completes_on_hang_up(
    env: Env,
) -> None:
    call_id, rec, path = await registered(env)
    assert rec.state is RecordingState.RECORDING
    started = rec.started_at
    assert rec.path == f"{started:%Y/%m/%d}/{call_id}.wav"
    assert env.core.recording_path(call_id, started) == str(path)
    # a second MixMonitorStart for the same call changes nothing
    async with env.sessions.begin() as session:
        assert (await env.core.register(session, call_id)).id == rec.id

    write_wav(path, samples(3.0))
    (outcome,) = await env.core.on_call_hung_up(call_id)
    assert outcome.status is CompletionStatus.COMPLETE
    done = await recording(env, rec.id)
    assert done.state is RecordingState.COMPLETE
    assert done.duration_seconds == pytest.approx(3.0)
    assert done.size_bytes == path.stat().st_size
    assert len(done.sha256) == 64
    assert done.rule_name == "default"
    assert done.delete_after == done.started_at + timedelta(days=365)
    reply = await play(env, rec.id)
    assert reply.status_code == 200
    assert np.array_equal(read_samples(reply.content), samples(3.0))


async def test_rules_set_retention_by_direction(env: Env) -> None:
    _, rec, _ = await registered(env, direction=Direction.OUTBOUND, queue=None)
    assert rec.rule_name == "outbound-short"
    assert rec.delete_after == rec.started_at + timedelta(days=30)


async def test_a_never_bridged_call_keeps_an_empty_recording_never_shown_complete(
    env: Env,
) -> None:
    call_id, rec, path = await registered(env)
    write_wav(path, samples(0))
    assert path.stat().st_size == 44
    (outcome,) = await env.core.on_call_hung_up(call_id)
    assert outcome.status is CompletionStatus.EMPTY
    empty = await recording(env, rec.id)
    assert empty.state is RecordingState.EMPTY
    assert empty.duration_seconds == 0
    reply = await play(env, rec.id)
    assert reply.status_code == 409
    assert "before anything was recorded" in reply.json()["detail"]


async def test_a_crashed_writers_file_is_repaired_not_dropped(env: Env) -> None:
    call_id, rec, path = await registered(env)
    # Asterisk died mid-call: the header still says 0 bytes, half a sample dangles at the end
    write_unfinished_wav(path, samples(2.0, seed=5), extra=b"\x01")
    age(path, 60)
    (outcome,) = await env.core.on_call_hung_up(call_id, wait=False)
    assert outcome.status is CompletionStatus.COMPLETE
    assert outcome.repaired
    done = await recording(env, rec.id)
    assert done.duration_seconds == pytest.approx(2.0)
    (repair,) = await env.audit("recording.repaired")
    assert repair.object_id == str(rec.id)
    assert repair.details["declared_data_bytes"] == 0
    assert repair.details["trimmed_bytes"] == 1
    reply = await play(env, rec.id)
    assert np.array_equal(read_samples(reply.content), samples(2.0, seed=5))


async def test_a_file_still_being_written_is_not_completed_until_it_settles(env: Env) -> None:
    call_id, rec, path = await registered(env)
    write_unfinished_wav(path, samples(1.0))
    (outcome,) = await env.core.on_call_hung_up(call_id, wait=False)
    assert outcome.status is CompletionStatus.PENDING
    assert (await recording(env, rec.id)).state is RecordingState.RECORDING
    # Asterisk finishes writing and closes the file: the next attempt completes it
    write_wav(path, samples(1.5))
    assert (await env.core.complete(rec.id)).status is CompletionStatus.COMPLETE
    assert (await recording(env, rec.id)).duration_seconds == pytest.approx(1.5)


async def test_hang_up_waits_for_asterisk_to_close_the_file(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    call_id, _rec, path = await registered(env)
    write_unfinished_wav(path, samples(1.0))
    attempts: list[CompletionStatus] = []
    complete = env.core.complete

    async def complete_then_asterisk_closes(recording_id: Any) -> Any:
        outcome = await complete(recording_id)
        attempts.append(outcome.status)
        # Asterisk closes the file a moment after the hang-up event
        write_wav(path, samples(1.0))
        return outcome

    monkeypatch.setattr(env.core, "complete", complete_then_asterisk_closes)
    (outcome,) = await env.core.on_call_hung_up(call_id)
    assert attempts == [CompletionStatus.PENDING, CompletionStatus.COMPLETE]
    assert outcome.status is CompletionStatus.COMPLETE


async def test_a_recording_whose_file_never_appears_becomes_missing(env: Env) -> None:
    # the call hangs up just now (calls in these tests last three minutes)
    call_id, rec, _ = await registered(env, started_at=env.clock.now - timedelta(minutes=3))
    (outcome,) = await env.core.on_call_hung_up(call_id, wait=False)
    assert outcome.status is CompletionStatus.NO_FILE_YET
    env.clock.advance(minutes=10)
    assert (await env.core.complete(rec.id)).status is CompletionStatus.MISSING
    assert (await recording(env, rec.id)).state is RecordingState.MISSING
    reply = await play(env, rec.id)
    assert reply.status_code == 409
    assert "missing" in reply.json()["detail"]


async def test_a_nearly_full_disk_alerts_and_never_completes_a_partial_file(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    total = 100 * 2**30
    free = {"bytes": 5 * 2**30}  # 5 %: under the 10 % warning threshold

    def usage(_path: object) -> Any:
        return shutil._ntuple_diskusage(total, total - free["bytes"], free["bytes"])  # type: ignore[attr-defined]

    monkeypatch.setattr("callcenter.storage.recordings.shutil.disk_usage", usage)

    # low: an alert before the disk fills, recordings still complete
    call_ok, _rec_ok, path_ok = await registered(env)
    write_wav(path_ok, samples(1.0))
    (outcome,) = await env.core.on_call_hung_up(call_ok)
    assert outcome.status is CompletionStatus.COMPLETE
    assert [a.kind for a in env.alerts] == ["disk_low"]

    # critical: the file may lack its end, so it is flagged partial and left incomplete
    free["bytes"] = 100 * 2**20
    call_full, rec_full, path_full = await registered(env)
    write_wav(path_full, samples(1.0))
    (outcome,) = await env.core.on_call_hung_up(call_full)
    assert outcome.status is CompletionStatus.DISK_FULL
    assert [a.kind for a in env.alerts] == ["disk_low", "disk_critical"]
    (partial,) = await env.audit("recording.partial")
    assert partial.object_id == str(rec_full.id)

    # room again: the sweep still never marks that file complete
    free["bytes"] = 50 * 2**30
    await env.recordings.upkeep.sweep()
    assert (await recording(env, rec_full.id)).state is RecordingState.RECORDING
    assert env.alerts[-1].kind == "disk_ok"
    levels = [e.details["level"] for e in await env.audit("recording.disk_low")]
    assert levels == [DiskLevel.LOW.value, DiskLevel.CRITICAL.value, DiskLevel.OK.value]


# -- sweep --------------------------------------------------------------------------------


async def test_sweep_links_orphan_files_and_marks_rows_without_files(env: Env) -> None:
    # a file whose registration was lost (platform down during MixMonitorStart)
    call_id = await env.call(operator_id=env.world.op_a)
    async with env.sessions() as session:
        from callcenter.db.repositories import calls as calls_repo

        call = await calls_repo.get(session, call_id)
    orphan = env.store.root / env.store.relative_path_for(call_id, call.started_at)
    write_wav(orphan, samples(1.0))
    # a file for a call the database never heard of
    stranger = env.store.root / "2024/12/31/0f0f0f0f-0000-4000-8000-000000000001.wav"
    write_wav(stranger, samples(0.5))
    # a complete recording whose file vanished
    _, lost_id = await env.recorded_call(1.0)
    env.store.resolve((await recording(env, lost_id)).path).unlink()
    # files that are not recordings are left alone
    (env.store.root / "2024/12/31/notes.txt").write_text("x")

    report = await env.recordings.upkeep.sweep()
    assert (report.linked_to_calls, report.without_call, report.marked_missing) == (1, 1, 1)

    reply = await env.client.get(
        "/api/v1/recordings", params={"call_id": str(call_id)}, headers=env.headers("op_a")
    )
    (item,) = reply.json()["items"]
    assert item["state"] == "complete"
    assert (await play(env, item["id"], "op_a")).status_code == 200
    assert (await recording(env, lost_id)).state is RecordingState.MISSING
    linked = await env.audit("recording.linked")
    assert {e.details["call_id"] for e in linked} == {str(call_id), None}
    # a second sweep finds nothing new
    again = await env.recordings.upkeep.sweep()
    assert (again.linked_to_calls, again.without_call, again.marked_missing) == (0, 0, 0)


async def test_sweep_completes_recordings_whose_hang_up_was_missed(env: Env) -> None:
    _, rec, path = await registered(env)
    write_unfinished_wav(path, samples(1.0))
    age(path, 60)
    report = await env.recordings.upkeep.sweep()
    assert report.completed == 1
    assert (await recording(env, rec.id)).state is RecordingState.COMPLETE


# -- archive ------------------------------------------------------------------------------


async def test_archived_recordings_stay_searchable_and_playable(env: Env) -> None:
    _, rec_id = await env.recorded_call(3.0, seed=9, operator_id=env.world.op_a)
    original = env.store.resolve((await recording(env, rec_id)).path)
    original_size = original.stat().st_size
    reply = await env.client.post(
        "/api/v1/recordings/archive", json={"ids": [str(rec_id)]}, headers=env.headers("admin")
    )
    assert reply.status_code == 200
    assert reply.json()["archived"] == [str(rec_id)]
    archived = await recording(env, rec_id)
    assert archived.state is RecordingState.ARCHIVED
    assert archived.path.startswith("archive/")
    assert archived.path.endswith(".flac")
    assert not original.exists()
    assert archived.size_bytes < original_size

    found = await env.client.get(
        "/api/v1/recordings", params={"state": "archived"}, headers=env.headers("op_a")
    )
    assert [i["id"] for i in found.json()["items"]] == [str(rec_id)]
    assert found.json()["items"][0]["archived"] is True
    whole = await play(env, rec_id, "op_a")
    assert whole.status_code == 200
    assert whole.headers["content-type"] == "audio/wav"
    assert np.array_equal(read_samples(whole.content), samples(3.0, seed=9))
    part = await env.client.get(
        f"/api/v1/recordings/{rec_id}/audio",
        headers={**env.headers("op_a"), "Range": "bytes=44-143"},
    )
    assert part.status_code == 206
    assert part.content == whole.content[44:144]
    (entry,) = await env.audit("recording.archived")
    assert entry.user_id == env.world.user_ids["admin"]
    assert entry.details["codec"] == "flac"


async def test_only_administrators_archive_or_run_retention(env: Env) -> None:
    for who in ("op_a", "chief"):
        archive = await env.client.post(
            "/api/v1/recordings/archive", json={}, headers=env.headers(who)
        )
        retention = await env.client.post(
            "/api/v1/recordings/retention/run", headers=env.headers(who)
        )
        assert (archive.status_code, retention.status_code) == (403, 403)


async def test_the_schedule_archives_by_each_rules_age(env: Env) -> None:
    ten_days_ago = env.clock.now - timedelta(days=10)
    _, line2 = await env.recorded_call(1.0, started_at=ten_days_ago, queue="line2")
    _, line1 = await env.recorded_call(1.0, started_at=ten_days_ago, queue="line1")
    report = await env.recordings.upkeep.archive_due()
    # line 2's rule archives after 7 days, everything else after 60
    assert report.archived == [line2]
    assert (await recording(env, line1)).state is RecordingState.COMPLETE


async def test_sweep_removes_an_original_left_behind_by_an_interrupted_archive(env: Env) -> None:
    _, rec_id = await env.recorded_call(1.0)
    live_path = (await recording(env, rec_id)).path
    copy = env.store.resolve(live_path).read_bytes()
    await env.recordings.upkeep.archive(env_admin(env), ids=[rec_id])
    # the process died after committing, before deleting the original
    write_path = env.store.root / live_path
    write_path.write_bytes(copy)
    report = await env.recordings.upkeep.sweep()
    assert report.leftovers_removed == 1
    assert not write_path.exists()
    assert (await play(env, rec_id)).status_code == 200


def env_admin(env: Env) -> Any:
    from callcenter.api.deps import CurrentUser
    from callcenter.domain.roles import Role

    return CurrentUser(env.world.user_ids["admin"], "admin", Role.ADMINISTRATOR, None)


# -- retention ----------------------------------------------------------------------------


async def test_retention_deletes_expired_recordings_and_keeps_a_destruction_record(
    env: Env,
) -> None:
    long_ago = env.clock.now - timedelta(days=400)
    _, expired = await env.recorded_call(1.0, started_at=long_ago)
    _, expired_outbound = await env.recorded_call(
        1.0,
        started_at=env.clock.now - timedelta(days=31),
        direction=Direction.OUTBOUND,
        queue=None,
    )
    _, kept = await env.recorded_call(1.0, started_at=env.clock.now - timedelta(days=31))
    files = {
        rid: env.store.resolve((await recording(env, rid)).path)
        for rid in (expired, expired_outbound, kept)
    }
    sha = (await recording(env, expired)).sha256

    reply = await env.client.post("/api/v1/recordings/retention/run", headers=env.headers("admin"))
    assert reply.status_code == 200
    assert set(reply.json()["deleted"]) == {str(expired), str(expired_outbound)}
    assert reply.json()["files_removed"] == 2
    assert not files[expired].exists()
    assert not files[expired_outbound].exists()
    assert files[kept].exists()

    records = {e.object_id: e for e in await env.audit("recording.destroyed")}
    assert set(records) == {str(expired), str(expired_outbound)}
    record = records[str(expired)]
    assert record.user_id == env.world.user_ids["admin"]
    assert record.at == env.clock.now
    assert record.details["rule"] == "default"
    assert record.details["retention_days"] == 365
    assert record.details["reason"] == "retention"
    assert record.details["sha256"] == sha
    assert record.details["path"].endswith(".wav")
    assert records[str(expired_outbound)].details["rule"] == "outbound-short"
    assert records[str(expired_outbound)].details["retention_days"] == 30

    assert (await recording(env, expired)).state is RecordingState.DELETED
    assert [e.action for e in await env.access_log(expired)] == [RecordingAction.DELETE]
    gone = await play(env, expired)
    assert gone.status_code == 410
    # nothing more to do on a second run
    again = await env.client.post("/api/v1/recordings/retention/run", headers=env.headers("admin"))
    assert again.json()["deleted"] == []


async def test_retention_of_archived_recordings_removes_the_archive_copy(env: Env) -> None:
    _, rec_id = await env.recorded_call(1.0, started_at=env.clock.now - timedelta(days=400))
    await env.recordings.upkeep.archive(env_admin(env), ids=[rec_id])
    archived = env.store.resolve((await recording(env, rec_id)).path)
    assert archived.exists()
    report = await env.recordings.upkeep.run_retention()
    assert report.deleted == [rec_id]
    assert not archived.exists()
    (record,) = await env.audit("recording.destroyed")
    assert record.user_id is None
    assert record.details["by"] == "schedule"
    assert record.details["state_before"] == "archived"


async def test_maintenance_loop_runs_every_step_until_stopped(env: Env) -> None:
    _, expired = await env.recorded_call(1.0, started_at=env.clock.now - timedelta(days=400))
    stop = asyncio.Event()
    finished = asyncio.Event()
    upkeep = env.recordings.upkeep
    original = upkeep.run_retention

    async def retention_then_stop() -> Any:
        report = await original()
        stop.set()
        finished.set()
        return report

    upkeep.run_retention = retention_then_stop  # type: ignore[method-assign]
    await asyncio.wait_for(upkeep.run_maintenance(interval_seconds=3600, stop=stop), timeout=10)
    assert finished.is_set()
    assert (await recording(env, expired)).state is RecordingState.DELETED


# -- voicemail ----------------------------------------------------------------------------


async def test_a_voicemail_becomes_an_appeal_that_the_lines_operators_can_play(env: Env) -> None:
    call_id = await env.call(queue=None)
    async with env.sessions() as session:
        from callcenter.db.repositories import calls as calls_repo

        call = await calls_repo.get(session, call_id)
    target = Path(env.core.voicemail_path(call_id, call.started_at) + ".wav")
    write_wav(target, samples(4.0, seed=11))
    saved = await env.recordings.voicemails.save_voicemail(
        call_id, caller_number="8 926 000-11-22", support_line=1, recorded_at=env.clock.now
    )
    assert saved is not None
    assert saved.duration_seconds == pytest.approx(4.0)
    async with env.sessions() as session:
        appeal = await appeals_repo.get(session, saved.appeal_id)
    assert appeal is not None
    assert appeal.channel is AppealChannel.IVR_VOICEMAIL
    assert appeal.call_id == call_id
    assert appeal.answer_due_at is not None

    listed = await env.client.get("/api/v1/voicemails", headers=env.headers("op_a"))
    (item,) = listed.json()
    assert item["caller_number"] == "+79260001122"
    assert item["appeal_id"] == str(saved.appeal_id)
    assert item["listened_at"] is None
    assert (await env.client.get("/api/v1/voicemails", headers=env.headers("op_c"))).json() == []

    played = await env.client.get(item["audio_url"], headers=env.headers("op_b"))
    assert played.status_code == 200
    assert np.array_equal(read_samples(played.content), samples(4.0, seed=11))
    other_line = await env.client.get(item["audio_url"], headers=env.headers("op_c"))
    assert other_line.status_code == 403
    relisted = await env.client.get("/api/v1/voicemails", headers=env.headers("op_a"))
    assert relisted.json()[0]["listened_at"] is not None
    # the same message saved twice is still one voicemail and one appeal
    again = await env.recordings.voicemails.save_voicemail(
        call_id, caller_number="+79260001122", support_line=1, recorded_at=env.clock.now
    )
    assert again is not None
    assert again.appeal_id == saved.appeal_id


async def test_no_voicemail_without_a_message(env: Env) -> None:
    call_id = await env.call(queue=None)
    assert (
        await env.recordings.voicemails.save_voicemail(
            call_id, caller_number="+79260001122", support_line=1, recorded_at=env.clock.now
        )
        is None
    )
    assert (await env.client.get("/api/v1/voicemails", headers=env.headers("admin"))).json() == []
