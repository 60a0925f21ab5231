"""The recording store: the only code that touches recording files.

Layout (paths stored in the database are relative to the store, never absolute)::

    <root>/YYYY/MM/DD/<call uuid>.wav           live, as Asterisk's MixMonitor writes them
    <archive root>/YYYY/MM/DD/<call uuid>.flac  archived (stored as "archive/YYYY/MM/DD/...")
    <cache root>/...                            decoded copies and export files, short-lived

Every stored path goes through `resolve`, which accepts only the names the store itself makes
and then checks, after following symlinks, that the file is inside its area: a tampered
database row cannot make the platform read /etc/passwd.

Blocking work (reading, hashing, compressing) runs in worker threads (`asyncio.to_thread`);
the async methods are what services call.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import secrets
import shutil
import struct
import time
import uuid
import zipfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import numpy as np
import soundfile as sf  # type: ignore[import-untyped]

SAMPLE_RATE = 8000
SAMPLE_WIDTH = 2
CHANNELS = 1
HEADER_BYTES = 44
BYTES_PER_SECOND = SAMPLE_RATE * SAMPLE_WIDTH * CHANNELS

ARCHIVE_PREFIX = "archive"
CHUNK_BYTES = 64 * 1024
_BLOCK_FRAMES = 64 * 1024

# one path component the store may have made: starts with a letter or digit, so "." and ".."
# (and any percent-encoded or backslashed form of them) can never pass
_COMPONENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
_MAX_COMPONENTS = 6
# a recording file's name: the call's UUID, an optional part number (a separately recorded
# leg), the format
_FILE_NAME = re.compile(
    r"(?P<uuid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
    r"(?:-(?P<part>[1-9][0-9]{0,3}))?\.(?P<ext>wav|flac)"
)
_DAY_DIRS = (re.compile(r"[0-9]{4}"), re.compile(r"[0-9]{2}"), re.compile(r"[0-9]{2}"))


class RecordingStoreError(Exception):
    """Base of the store's errors."""


class UnsafePathError(RecordingStoreError, ValueError):
    """A stored path is not one the store makes, or leads outside the store."""


class WavFormatError(RecordingStoreError, ValueError):
    """The file is not a WAV the store can read or repair."""


class ExportTooLargeError(RecordingStoreError):
    """An export would exceed its size limit."""

    def __init__(self, limit_bytes: int, needed_bytes: int) -> None:
        super().__init__(f"export needs {needed_bytes} bytes, over the limit of {limit_bytes}")
        self.limit_bytes = limit_bytes
        self.needed_bytes = needed_bytes


class ExportFormat(StrEnum):
    WAV = "wav"
    FLAC = "flac"


MEDIA_TYPES = {"wav": "audio/wav", "flac": "audio/flac", "zip": "application/zip"}


@dataclass(frozen=True, slots=True)
class WavInfo:
    """What a WAV header says, next to what the file really holds."""

    file_size: int
    channels: int
    sample_rate: int
    bits_per_sample: int
    data_offset: int
    declared_riff_bytes: int
    declared_data_bytes: int

    @property
    def block_align(self) -> int:
        return max(1, self.channels * self.bits_per_sample // 8)

    @property
    def available_data_bytes(self) -> int:
        return max(0, self.file_size - self.data_offset)

    @property
    def header_final(self) -> bool:
        """True when the writer finished the header: its sizes agree with the file.

        Asterisk writes the sizes when it closes the file, so an unfinished header means the
        file is still being written, or its writer died.
        """
        riff_ok = self.declared_riff_bytes + 8 in (self.file_size, self.file_size - 1)
        return riff_ok and self.declared_data_bytes <= self.available_data_bytes

    @property
    def data_bytes(self) -> int:
        """Audio bytes: the declared ones for a finished file, whole frames on disk otherwise."""
        raw = self.declared_data_bytes if self.header_final else self.available_data_bytes
        return raw - raw % self.block_align

    @property
    def duration_seconds(self) -> float:
        rate = self.sample_rate * self.block_align
        return self.data_bytes / rate if rate else 0.0

    @property
    def is_telephony(self) -> bool:
        """8 kHz, 16-bit, mono: what the platform records."""
        return (self.sample_rate, self.bits_per_sample, self.channels) == (
            SAMPLE_RATE,
            SAMPLE_WIDTH * 8,
            CHANNELS,
        )


@dataclass(frozen=True, slots=True)
class RepairResult:
    before: WavInfo | None  # None: the header was too short to read
    after: WavInfo
    trimmed_bytes: int  # a partial last sample frame cut off


@dataclass(frozen=True, slots=True)
class FileState:
    size: int
    modified_at: float  # POSIX seconds


class DiskLevel(StrEnum):
    OK = "ok"
    LOW = "low"  # under the warning threshold: alert, keep recording
    CRITICAL = "critical"  # nearly full: writes may have failed, nothing is marked complete


@dataclass(frozen=True, slots=True)
class DiskStatus:
    total_bytes: int
    free_bytes: int
    level: DiskLevel

    @property
    def free_ratio(self) -> float:
        return self.free_bytes / self.total_bytes if self.total_bytes else 0.0


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A recording file found on disk by `scan`."""

    relative_path: str
    call_ref: str  # the UUID in the file name: the call's id (or its linkedid)
    part: int
    archived: bool
    size: int
    modified_at: float


@dataclass(frozen=True, slots=True)
class ArchivedFile:
    relative_path: str
    size_bytes: int
    compressed: bool  # False for a file with no audio, moved as it is


@dataclass(frozen=True, slots=True)
class Readable:
    """A file ready to be streamed; only the store opens it."""

    _path: Path
    size: int
    media_type: str
    extension: str
    temporary: bool  # an export file the caller should `discard` when done


@dataclass(frozen=True, slots=True)
class ZipEntry:
    relative_path: str
    name: str  # the file's name inside the zip, without extension
    fmt: ExportFormat = ExportFormat.WAV


def parse_file_name(name: str) -> tuple[str, int, str] | None:
    """(call uuid, part, extension) for a recording file's name, or None for anything else."""
    match = _FILE_NAME.fullmatch(name)
    if match is None:
        return None
    return match["uuid"].lower(), int(match["part"] or 0), match["ext"]


def read_wav_info(path: Path) -> WavInfo:
    """Parse the RIFF/WAVE header of `path` (blocking)."""
    with path.open("rb") as f:
        size = os.fstat(f.fileno()).st_size
        head = f.read(4096)
    if len(head) < HEADER_BYTES or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise WavFormatError(f"{path.name}: no complete RIFF/WAVE header")
    riff_size = struct.unpack_from("<I", head, 4)[0]
    pos = 12
    fmt: tuple[int, int, int, int] | None = None
    while pos + 8 <= len(head):
        chunk_id = head[pos : pos + 4]
        chunk_size = struct.unpack_from("<I", head, pos + 4)[0]
        body = pos + 8
        if chunk_id == b"fmt ":
            if chunk_size < 16 or body + 16 > len(head):
                raise WavFormatError(f"{path.name}: truncated fmt chunk")
            tag, channels, rate, _byte_rate, _align, bits = struct.unpack_from(
                "<HHIIHH", head, body
            )
            fmt = (tag, channels, rate, bits)
        elif chunk_id == b"data":
            if fmt is None:
                raise WavFormatError(f"{path.name}: data chunk before fmt chunk")
            tag, channels, rate, bits = fmt
            if tag not in (1, 0xFFFE) or channels < 1 or rate < 1 or bits not in (8, 16, 24, 32):
                raise WavFormatError(f"{path.name}: not linear PCM audio")
            return WavInfo(
                file_size=size,
                channels=channels,
                sample_rate=rate,
                bits_per_sample=bits,
                data_offset=body,
                declared_riff_bytes=riff_size,
                declared_data_bytes=chunk_size,
            )
        # chunks are word-aligned
        pos = body + chunk_size + (chunk_size & 1)
    raise WavFormatError(f"{path.name}: no data chunk in the header")


def _telephony_header(data_bytes: int) -> bytes:
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + data_bytes,
        b"WAVE",
        b"fmt ",
        16,
        1,
        CHANNELS,
        SAMPLE_RATE,
        BYTES_PER_SECOND,
        SAMPLE_WIDTH * CHANNELS,
        SAMPLE_WIDTH * 8,
        b"data",
        data_bytes,
    )


def repair_wav_header(path: Path) -> RepairResult:
    """Make the header's sizes agree with the file, keeping every whole sample (blocking).

    A writer that died (Asterisk crashed, the machine lost power) leaves the RIFF and data
    sizes as they were when the file was created; the audio after the header is intact, so
    the sizes are recomputed from the file's length. A partial last sample frame is cut off.
    A file too short to hold a header has no audio: it becomes a valid empty telephony WAV.
    """
    with path.open("r+b") as f:
        size = os.fstat(f.fileno()).st_size
        start = f.read(12)
        if size < HEADER_BYTES:
            if start and not b"RIFF".startswith(start[:4]):
                raise WavFormatError(f"{path.name}: {size} bytes and not a WAV header")
            f.seek(0)
            f.truncate(0)
            f.write(_telephony_header(0))
            f.flush()
            os.fsync(f.fileno())
            return RepairResult(before=None, after=read_wav_info(path), trimmed_bytes=0)
    before = read_wav_info(path)
    trimmed = before.available_data_bytes % before.block_align
    data_bytes = before.available_data_bytes - trimmed
    with path.open("r+b") as f:
        if trimmed:
            f.truncate(size - trimmed)
        f.seek(4)
        f.write(struct.pack("<I", before.data_offset - 8 + data_bytes))
        f.seek(before.data_offset - 4)
        f.write(struct.pack("<I", data_bytes))
        f.flush()
        os.fsync(f.fileno())
    return RepairResult(before=before, after=read_wav_info(path), trimmed_bytes=trimmed)


class RecordingStore:
    """Recording files under `root` (live), `archive_root` and `cache_root`."""

    def __init__(
        self,
        root: Path,
        *,
        archive_root: Path | None = None,
        cache_root: Path | None = None,
        min_free_ratio: float = 0.10,
        min_free_bytes: int = 512 * 1024 * 1024,
    ) -> None:
        self.root = Path(root)
        self.archive_root = Path(archive_root) if archive_root else self.root / ARCHIVE_PREFIX
        self.cache_root = Path(cache_root) if cache_root else self.root / ".cache"
        self.min_free_ratio = min_free_ratio
        self.min_free_bytes = min_free_bytes

    # -- names ---------------------------------------------------------------------------

    @staticmethod
    def relative_path_for(call_id: uuid.UUID, started_at: datetime, *, part: int = 0) -> str:
        """Where a call's recording lives: YYYY/MM/DD/<call uuid>.wav (UTC date of the start)."""
        if started_at.tzinfo is None:
            raise ValueError("started_at must be timezone-aware")
        if not 0 <= part <= 9999:
            raise ValueError("part must be 0..9999")
        suffix = f"-{part}" if part else ""
        # UTC, so the name does not depend on which time zone the caller's datetime carries
        return f"{started_at.astimezone(UTC):%Y/%m/%d}/{call_id}{suffix}.wav"

    def absolute_path_for(self, call_id: uuid.UUID, started_at: datetime, *, part: int = 0) -> Path:
        """The file name to give MixMonitor for this call (the platform's view of the store)."""
        return self.root.absolute() / self.relative_path_for(call_id, started_at, part=part)

    def resolve(self, relative_path: str) -> Path:
        """The absolute path of a stored relative path, or UnsafePathError.

        Only paths of the store's own shape are accepted (plain names joined by "/"): no
        absolute paths, no "..", no percent-encoding or backslashes. After following
        symlinks the file must still be inside its area of the store.
        """
        if not isinstance(relative_path, str) or "\x00" in relative_path:
            raise UnsafePathError("not a path")
        parts = relative_path.split("/")
        if not 1 <= len(parts) <= _MAX_COMPONENTS or not all(
            _COMPONENT.fullmatch(p) for p in parts
        ):
            raise UnsafePathError(f"not a recording path: {relative_path[:200]!r}")
        if parts[0] == ARCHIVE_PREFIX:
            base, rest = self.archive_root, parts[1:]
            if not rest:
                raise UnsafePathError("the archive folder itself is not a recording")
        else:
            base, rest = self.root, parts
        real_base = Path(os.path.realpath(base))
        real = Path(os.path.realpath(base.joinpath(*rest)))
        if real == real_base or not real.is_relative_to(real_base):
            raise UnsafePathError(f"{relative_path[:200]!r} leads outside the recording store")
        if parts[0] != ARCHIVE_PREFIX and self._inside_other_area(real):
            raise UnsafePathError(f"{relative_path[:200]!r} is not a live recording path")
        return real

    def _inside_other_area(self, real: Path) -> bool:
        for area in (self.archive_root, self.cache_root):
            real_area = Path(os.path.realpath(area))
            if real.is_relative_to(real_area):
                return True
        return False

    @staticmethod
    def is_archived_path(relative_path: str) -> bool:
        return relative_path.split("/", 1)[0] == ARCHIVE_PREFIX

    # -- inspection ----------------------------------------------------------------------

    async def file_state(self, relative_path: str) -> FileState | None:
        """Size and modification time, or None when there is no regular file there."""
        return await asyncio.to_thread(self._file_state, relative_path)

    def _file_state(self, relative_path: str) -> FileState | None:
        path = self.resolve(relative_path)
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        if not path.is_file():
            return None
        return FileState(size=st.st_size, modified_at=st.st_mtime)

    async def inspect_wav(self, relative_path: str) -> WavInfo:
        return await asyncio.to_thread(lambda: read_wav_info(self.resolve(relative_path)))

    async def repair_wav(self, relative_path: str) -> RepairResult:
        return await asyncio.to_thread(lambda: repair_wav_header(self.resolve(relative_path)))

    async def sha256(self, relative_path: str) -> str:
        return await asyncio.to_thread(self._sha256, relative_path)

    def _sha256(self, relative_path: str) -> str:
        digest = hashlib.sha256()
        with self.resolve(relative_path).open("rb") as f:
            for block in iter(lambda: f.read(1024 * 1024), b""):
                digest.update(block)
        return digest.hexdigest()

    async def audio_duration(self, relative_path: str) -> float:
        """Seconds of audio in a live WAV or an archived FLAC/WAV."""
        return await asyncio.to_thread(self._audio_duration, relative_path)

    def _audio_duration(self, relative_path: str) -> float:
        path = self.resolve(relative_path)
        if path.suffix == ".wav":
            return read_wav_info(path).duration_seconds
        info = sf.info(str(path))
        return float(info.frames) / float(info.samplerate)

    async def disk_status(self) -> DiskStatus:
        return await asyncio.to_thread(self._disk_status)

    def _disk_status(self) -> DiskStatus:
        self.root.mkdir(parents=True, exist_ok=True)
        usage = shutil.disk_usage(self.root)
        if usage.free < self.min_free_bytes:
            level = DiskLevel.CRITICAL
        elif usage.total and usage.free / usage.total < self.min_free_ratio:
            level = DiskLevel.LOW
        else:
            level = DiskLevel.OK
        return DiskStatus(total_bytes=usage.total, free_bytes=usage.free, level=level)

    async def scan(self) -> list[StoredFile]:
        """Every recording file in the live and archive areas (names the store makes only)."""
        return await asyncio.to_thread(self._scan)

    def _scan(self) -> list[StoredFile]:
        found: list[StoredFile] = []
        for base, prefix in ((self.root, ""), (self.archive_root, f"{ARCHIVE_PREFIX}/")):
            for day_dir, rel_day in _day_dirs(base):
                with os.scandir(day_dir) as entries:
                    for entry in entries:
                        parsed = parse_file_name(entry.name)
                        # symlinks are never followed: nothing the store writes is one
                        if parsed is None or not entry.is_file(follow_symlinks=False):
                            continue
                        st = entry.stat(follow_symlinks=False)
                        call_ref, part, _ext = parsed
                        found.append(
                            StoredFile(
                                relative_path=f"{prefix}{rel_day}/{entry.name}",
                                call_ref=call_ref,
                                part=part,
                                archived=bool(prefix),
                                size=st.st_size,
                                modified_at=st.st_mtime,
                            )
                        )
        return found

    # -- changes -------------------------------------------------------------------------

    async def delete(self, relative_path: str) -> bool:
        """Remove a recording file; False when it was not there."""
        return await asyncio.to_thread(self._delete, relative_path)

    def _delete(self, relative_path: str) -> bool:
        path = self.resolve(relative_path)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    async def archive(self, relative_path: str) -> ArchivedFile:
        """Copy a live WAV into the archive area, compressed with FLAC (lossless).

        The copy is written beside its final name, checked to hold every sample and then
        renamed into place; the live file is left for the caller to delete once the database
        points at the copy. A file with no audio is copied as it is (FLAC cannot hold zero
        samples).
        """
        return await asyncio.to_thread(self._archive, relative_path)

    def _archive(self, relative_path: str) -> ArchivedFile:
        if self.is_archived_path(relative_path):
            raise UnsafePathError(f"{relative_path!r} is already archived")
        src = self.resolve(relative_path)
        info = read_wav_info(src)
        compressed = info.data_bytes > 0
        suffix = ".flac" if compressed else ".wav"
        dest_rel = f"{ARCHIVE_PREFIX}/{PurePosixPath(relative_path).with_suffix(suffix)}"
        dest = self.resolve(dest_rel)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.tmp")
        try:
            if compressed:
                frames = _transcode(src, tmp, "FLAC")
                written = sf.info(str(tmp)).frames
                if written != frames:
                    raise RecordingStoreError(
                        f"{relative_path}: archive copy holds {written} of {frames} samples"
                    )
            else:
                shutil.copyfile(src, tmp)
            _fsync_file(tmp)
            os.replace(tmp, dest)
            _fsync_dir(dest.parent)
        finally:
            tmp.unlink(missing_ok=True)
        return ArchivedFile(dest_rel, dest.stat().st_size, compressed)

    # -- reading -------------------------------------------------------------------------

    async def readable(self, relative_path: str, fmt: ExportFormat = ExportFormat.WAV) -> Readable:
        """A file holding the recording in `fmt`: the stored file itself when it already is,
        otherwise a converted copy in the cache (archived FLAC decoded to WAV for players)."""
        return await asyncio.to_thread(self._readable, relative_path, fmt)

    def _readable(self, relative_path: str, fmt: ExportFormat) -> Readable:
        path = self.resolve(relative_path)
        if not path.is_file():
            raise FileNotFoundError(relative_path)
        if path.suffix == f".{fmt.value}":
            return Readable(path, path.stat().st_size, MEDIA_TYPES[fmt.value], fmt.value, False)
        if fmt is ExportFormat.FLAC and read_wav_info(path).data_bytes == 0:
            raise WavFormatError("a recording without audio cannot be exported as FLAC")
        target = self._cache_file(relative_path, fmt.value)
        if not target.exists() or target.stat().st_mtime < path.stat().st_mtime:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
            try:
                _transcode(path, tmp, fmt.value.upper())
                os.replace(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)
        return Readable(target, target.stat().st_size, MEDIA_TYPES[fmt.value], fmt.value, False)

    def _cache_file(self, relative_path: str, ext: str) -> Path:
        stem = PurePosixPath(relative_path).with_suffix("").as_posix().replace("/", "_")
        return self.cache_root / f"{stem}.{ext}"

    async def iter_bytes(
        self, readable: Readable, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        """Bytes start..end (inclusive) of a readable file, in chunks read off the loop."""
        last = readable.size - 1 if end is None else min(end, readable.size - 1)
        f: BinaryIO = await asyncio.to_thread(readable._path.open, "rb")
        try:
            await asyncio.to_thread(f.seek, start)
            remaining = last - start + 1
            while remaining > 0:
                chunk = await asyncio.to_thread(f.read, min(CHUNK_BYTES, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk
        finally:
            await asyncio.to_thread(f.close)

    async def build_zip(self, entries: Sequence[ZipEntry], *, limit_bytes: int) -> Readable:
        """A zip of the given recordings (stored, not deflated: audio barely shrinks), written
        to the cache. Raises ExportTooLargeError as soon as the zip would pass `limit_bytes`."""
        return await asyncio.to_thread(self._build_zip, entries, limit_bytes)

    def _build_zip(self, entries: Sequence[ZipEntry], limit_bytes: int) -> Readable:
        sources: list[tuple[Path, str]] = []
        needed = 0
        for entry in entries:
            source = self._readable(entry.relative_path, entry.fmt)
            needed += source.size
            if needed > limit_bytes:
                raise ExportTooLargeError(limit_bytes, needed)
            sources.append((source._path, f"{entry.name}.{source.extension}"))
        self.cache_root.mkdir(parents=True, exist_ok=True)
        target = self.cache_root / f"export-{secrets.token_hex(8)}.zip"
        try:
            with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as zf:
                for path, name in sources:
                    zf.write(path, arcname=name)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        return Readable(target, target.stat().st_size, MEDIA_TYPES["zip"], "zip", True)

    async def discard(self, readable: Readable) -> None:
        """Remove a temporary export file (no-op for stored files)."""
        if readable.temporary:
            await asyncio.to_thread(readable._path.unlink, True)

    async def prune_cache(self, max_age_seconds: float) -> int:
        """Delete cached copies older than `max_age_seconds`; returns how many."""
        return await asyncio.to_thread(self._prune_cache, max_age_seconds)

    def _prune_cache(self, max_age_seconds: float) -> int:
        if not self.cache_root.is_dir():
            return 0
        cutoff = time.time() - max_age_seconds
        removed = 0
        with os.scandir(self.cache_root) as entries:
            for entry in entries:
                if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)
                        removed += 1
        return removed


def _day_dirs(base: Path) -> list[tuple[Path, str]]:
    """YYYY/MM/DD folders under `base` (not following symlinks)."""
    levels: list[tuple[Path, str]] = [(base, "")]
    for pattern in _DAY_DIRS:
        deeper: list[tuple[Path, str]] = []
        for folder, rel in levels:
            try:
                entries = list(os.scandir(folder))
            except (FileNotFoundError, NotADirectoryError):
                continue
            for entry in entries:
                if pattern.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False):
                    deeper.append((Path(entry.path), f"{rel}/{entry.name}" if rel else entry.name))
        levels = deeper
    return levels


def _transcode(src: Path, dest: Path, fmt: str) -> int:
    """Copy the audio of `src` into `dest` as 16-bit `fmt` ("WAV" or "FLAC"); frames copied."""
    frames = 0
    with (
        sf.SoundFile(str(src)) as reader,
        sf.SoundFile(
            str(dest),
            "w",
            samplerate=reader.samplerate,
            channels=reader.channels,
            subtype="PCM_16",
            format=fmt,
        ) as writer,
    ):
        for block in reader.blocks(blocksize=_BLOCK_FRAMES, dtype="int16"):
            writer.write(np.asarray(block))
            frames += len(block)
    return frames


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        _fsync_file(path)
