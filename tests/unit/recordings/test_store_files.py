"""The recording store's file work: archiving to FLAC, decoding for players, byte ranges,
zips with a size limit, the free-space check, the cache."""

from __future__ import annotations

import io
import os
import shutil
import time
import uuid
import wave
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from callcenter.storage.recordings import (
    DiskLevel,
    ExportFormat,
    ExportTooLargeError,
    RecordingStore,
    WavFormatError,
    ZipEntry,
)

RATE = 8000
STARTED = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)


def audio(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * RATE)) / RATE
    return np.clip(
        7000 * np.sin(2 * np.pi * 250 * t) + rng.normal(0, 300, t.size), -32768, 32767
    ).astype("<i2")


def put(store: RecordingStore, samples: np.ndarray) -> str:
    rel = store.relative_path_for(uuid.uuid4(), STARTED)
    path = store.root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples.tobytes())
    return rel


async def read_all(store: RecordingStore, readable: Any, start: int = 0, end: Any = None) -> bytes:
    return b"".join([chunk async for chunk in store.iter_bytes(readable, start, end)])


@pytest.fixture
def store(tmp_path: Path) -> RecordingStore:
    return RecordingStore(tmp_path / "rec")


async def test_archiving_compresses_losslessly_and_keeps_the_original_for_the_caller(
    store: RecordingStore,
) -> None:
    original = audio(5.0, seed=3)
    rel = put(store, original)
    archived = await store.archive(rel)
    assert archived.compressed
    assert archived.relative_path == "archive/" + rel.removesuffix(".wav") + ".flac"
    flac = store.resolve(archived.relative_path)
    assert flac.is_relative_to(store.archive_root.resolve())
    assert archived.size_bytes == flac.stat().st_size < (store.root / rel).stat().st_size
    frames, rate = sf.read(str(flac), dtype="int16")
    assert rate == RATE
    assert np.array_equal(frames, original)
    # the live file is deleted only once the database points at the copy
    assert (store.root / rel).exists()
    assert await store.audio_duration(archived.relative_path) == pytest.approx(5.0)
    # no temporary files are left beside it
    assert sorted(p.name for p in flac.parent.iterdir()) == [flac.name]


async def test_an_empty_recording_is_archived_as_it_is(store: RecordingStore) -> None:
    rel = put(store, audio(0))
    archived = await store.archive(rel)
    assert not archived.compressed
    assert archived.relative_path.endswith(".wav")
    assert store.resolve(archived.relative_path).read_bytes() == (store.root / rel).read_bytes()


async def test_an_archived_recording_is_decoded_back_to_wav_for_players(
    store: RecordingStore,
) -> None:
    original = audio(2.0, seed=4)
    rel = put(store, original)
    archived = await store.archive(rel)
    await store.delete(rel)
    readable = await store.readable(archived.relative_path)
    assert (readable.media_type, readable.extension) == ("audio/wav", "wav")
    data = await read_all(store, readable)
    assert len(data) == readable.size
    with wave.open(io.BytesIO(data)) as src:
        assert np.array_equal(np.frombuffer(src.readframes(src.getnframes()), "<i2"), original)
    # the decoded copy is reused, and the archive can also be had as it is
    assert (await store.readable(archived.relative_path))._path == readable._path
    flac = await store.readable(archived.relative_path, ExportFormat.FLAC)
    assert flac._path == store.resolve(archived.relative_path)


async def test_byte_ranges_are_read_exactly(store: RecordingStore) -> None:
    rel = put(store, audio(10.0))  # larger than one read chunk
    readable = await store.readable(rel)
    whole = (store.root / rel).read_bytes()
    assert await read_all(store, readable) == whole
    assert await read_all(store, readable, 0, 0) == whole[:1]
    assert await read_all(store, readable, 70_000, 140_000) == whole[70_000:140_001]
    assert await read_all(store, readable, len(whole) - 3, None) == whole[-3:]
    assert await read_all(store, readable, 100, 10**9) == whole[100:]


async def test_an_empty_recording_cannot_become_flac(store: RecordingStore) -> None:
    rel = put(store, audio(0))
    with pytest.raises(WavFormatError):
        await store.readable(rel, ExportFormat.FLAC)


async def test_a_missing_file_is_reported_as_missing(store: RecordingStore) -> None:
    rel = store.relative_path_for(uuid.uuid4(), STARTED)
    with pytest.raises(FileNotFoundError):
        await store.readable(rel)
    assert await store.file_state(rel) is None
    assert await store.delete(rel) is False


async def test_a_zip_holds_each_recording_and_stops_at_its_limit(store: RecordingStore) -> None:
    first, second = put(store, audio(1.0, 1)), put(store, audio(1.0, 2))
    entries = [ZipEntry(first, "one"), ZipEntry(second, "two", ExportFormat.FLAC)]
    readable = await store.build_zip(entries, limit_bytes=10**6)
    assert readable.temporary
    with zipfile.ZipFile(io.BytesIO(await read_all(store, readable))) as zf:
        assert sorted(zf.namelist()) == ["one.wav", "two.flac"]
        assert zf.read("one.wav") == (store.root / first).read_bytes()
    await store.discard(readable)
    assert not readable._path.exists()

    with pytest.raises(ExportTooLargeError) as err:
        await store.build_zip([ZipEntry(first, "one"), ZipEntry(second, "two")], limit_bytes=20_000)
    assert err.value.limit_bytes == 20_000
    assert err.value.needed_bytes > 20_000
    assert not list(store.cache_root.glob("export-*.zip"))


@pytest.mark.parametrize(
    ("free", "level"),
    [(50 * 2**30, DiskLevel.OK), (5 * 2**30, DiskLevel.LOW), (100 * 2**20, DiskLevel.CRITICAL)],
)
async def test_free_space_levels(
    store: RecordingStore, monkeypatch: pytest.MonkeyPatch, free: int, level: DiskLevel
) -> None:
    total = 100 * 2**30
    monkeypatch.setattr(
        "callcenter.storage.recordings.shutil.disk_usage",
        lambda _path: shutil._ntuple_diskusage(total, total - free, free),  # type: ignore[attr-defined]
    )
    status = await store.disk_status()
    assert status.level is level
    assert status.free_ratio == pytest.approx(free / total)


async def test_the_real_disk_is_measured(store: RecordingStore) -> None:
    status = await store.disk_status()
    assert status.total_bytes > 0
    assert 0 <= status.free_bytes <= status.total_bytes


async def test_stale_cache_files_are_pruned(store: RecordingStore) -> None:
    store.cache_root.mkdir(parents=True)
    old, fresh = store.cache_root / "old.wav", store.cache_root / "fresh.wav"
    old.write_bytes(b"x")
    fresh.write_bytes(b"x")
    hour_ago = time.time() - 3600
    os.utime(old, (hour_ago, hour_ago))
    assert await store.prune_cache(600) == 1
    assert not old.exists()
    assert fresh.exists()
