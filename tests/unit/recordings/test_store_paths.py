"""The recording store's names and the safety of every stored path it is asked to open."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from callcenter.storage.recordings import RecordingStore, UnsafePathError, parse_file_name

CALL = uuid.UUID("5f0c6a4e-8f8e-4d7b-9a1e-3c2b1a0f9e8d")


@pytest.fixture
def store(tmp_path: Path) -> RecordingStore:
    root = tmp_path / "rec"
    root.mkdir()
    return RecordingStore(root)


def test_a_calls_file_is_named_by_its_uuid_under_its_utc_start_date(
    store: RecordingStore,
) -> None:
    # 01:30 in Moscow on the 1st is still the 31st in UTC
    moscow = timezone(timedelta(hours=3))
    started = datetime(2025, 1, 1, 1, 30, tzinfo=moscow)
    assert store.relative_path_for(CALL, started) == f"2024/12/31/{CALL}.wav"
    assert store.relative_path_for(CALL, started, part=2) == f"2024/12/31/{CALL}-2.wav"
    assert store.absolute_path_for(CALL, started) == (
        store.root.absolute() / "2024" / "12" / "31" / f"{CALL}.wav"
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        store.relative_path_for(CALL, datetime(2025, 1, 1))  # noqa: DTZ001


def test_file_names_are_parsed_back_to_the_call() -> None:
    assert parse_file_name(f"{CALL}.wav") == (str(CALL), 0, "wav")
    assert parse_file_name(f"{str(CALL).upper()}-3.flac") == (str(CALL), 3, "flac")
    for other in ("notes.txt", f"{CALL}.mp3", f"{CALL}-0.wav", f".{CALL}.wav.1a2b.tmp"):
        assert parse_file_name(other) is None


def test_its_own_paths_resolve_inside_their_area(store: RecordingStore) -> None:
    live = store.relative_path_for(CALL, datetime(2025, 3, 14, tzinfo=UTC))
    assert store.resolve(live) == store.root.resolve() / live
    assert store.resolve(f"archive/{live}") == (store.archive_root.resolve() / live)


@pytest.mark.parametrize(
    "path",
    [
        "",
        "/etc/passwd",
        "../etc/passwd",
        "2025/03/14/../../../../etc/passwd",
        "./2025/03/14/x.wav",
        "2025//03/x.wav",
        "%2e%2e/%2e%2e/etc/passwd",
        "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        "..%2f..%2fetc%2fpasswd",
        "%252e%252e/etc/passwd",
        "..\\..\\windows\\win.ini",
        "2025\\..\\..\\x.wav",
        "C:/Windows/win.ini",
        "2025/03/14/x.wav\x00.png",
        "~/x.wav",
        ".cache/x.wav",
        "archive",
        "archive/../../etc/passwd",
        "a/b/c/d/e/f/g.wav",
    ],
)
def test_anything_but_a_plain_store_path_is_refused(store: RecordingStore, path: str) -> None:
    with pytest.raises(UnsafePathError):
        store.resolve(path)


def test_a_symlink_leading_out_of_the_store_is_refused(
    store: RecordingStore, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0")
    day = store.root / "2025" / "03" / "14"
    day.mkdir(parents=True)
    (day / "leak.wav").symlink_to(secret)
    with pytest.raises(UnsafePathError, match="outside"):
        store.resolve("2025/03/14/leak.wav")
    # a whole day folder pointing elsewhere is refused the same way
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "x.wav").write_bytes(b"RIFF")
    (store.root / "2025" / "03" / "15").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(UnsafePathError):
        store.resolve("2025/03/15/x.wav")


def test_a_symlink_inside_the_store_is_followed(store: RecordingStore) -> None:
    day = store.root / "2025" / "03" / "14"
    day.mkdir(parents=True)
    (day / "real.wav").write_bytes(b"RIFF")
    (day / "alias.wav").symlink_to(day / "real.wav")
    assert store.resolve("2025/03/14/alias.wav") == (day / "real.wav").resolve()


def test_a_live_path_cannot_be_bent_into_the_archive_or_cache(store: RecordingStore) -> None:
    store.archive_root.mkdir()
    (store.root / "2025").symlink_to(store.archive_root, target_is_directory=True)
    with pytest.raises(UnsafePathError, match="not a live recording path"):
        store.resolve("2025/x.wav")


async def test_scan_lists_recordings_only_and_never_follows_symlinks(
    store: RecordingStore, tmp_path: Path
) -> None:
    day = store.root / "2025" / "03" / "14"
    day.mkdir(parents=True)
    (day / f"{CALL}.wav").write_bytes(b"RIFF")
    (day / "notes.txt").write_text("x")
    outside = tmp_path / "outside.wav"
    outside.write_bytes(b"RIFF")
    (day / f"{uuid.uuid4()}.wav").symlink_to(outside)
    (store.root / "not-a-year").mkdir()
    (store.root / "not-a-year" / f"{uuid.uuid4()}.wav").write_bytes(b"RIFF")
    archived = store.archive_root / "2024" / "01" / "02"
    archived.mkdir(parents=True)
    (archived / f"{CALL}-1.flac").write_bytes(b"fLaC")
    os.symlink(tmp_path, store.root / "2026")  # a year folder that is a symlink: skipped

    found = sorted(await store.scan(), key=lambda f: f.relative_path)
    assert [(f.relative_path, f.call_ref, f.part, f.archived) for f in found] == [
        (f"2025/03/14/{CALL}.wav", str(CALL), 0, False),
        (f"archive/2024/01/02/{CALL}-1.flac", str(CALL), 1, True),
    ]
