"""WAV inspection and header repair on real files, written as a writer that died leaves them."""

from __future__ import annotations

import io
import struct
import wave
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from callcenter.storage.recordings import (
    WavFormatError,
    read_wav_info,
    repair_wav_header,
)

RATE = 8000


def audio(seconds: float) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    return (9000 * np.sin(2 * np.pi * 300 * t)).astype("<i2")


def finished(path: Path, samples: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples.tobytes())
    return path


def as_if_writer_died(path: Path, riff: int, data: int, cut: int = 0) -> Path:
    """Overwrite the header's sizes with what a writer leaves before closing, and cut the
    file short by `cut` bytes (a write interrupted mid-sample)."""
    raw = bytearray(path.read_bytes())
    struct.pack_into("<I", raw, 4, riff)
    struct.pack_into("<I", raw, 40, data)
    path.write_bytes(bytes(raw[: len(raw) - cut]))
    return path


def decoded(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as src:
        assert (src.getframerate(), src.getsampwidth(), src.getnchannels()) == (RATE, 2, 1)
        return np.frombuffer(src.readframes(src.getnframes()), dtype="<i2")


def test_a_finished_telephony_wav_is_read_from_its_header(tmp_path: Path) -> None:
    info = read_wav_info(finished(tmp_path / "a.wav", audio(2.5)))
    assert info.header_final
    assert info.is_telephony
    assert info.duration_seconds == pytest.approx(2.5)
    assert info.data_offset == 44


def test_the_44_byte_file_of_a_never_bridged_call_is_a_complete_empty_recording(
    tmp_path: Path,
) -> None:
    path = finished(tmp_path / "empty.wav", audio(0))
    assert path.stat().st_size == 44
    info = read_wav_info(path)
    assert info.header_final
    assert info.duration_seconds == 0


@pytest.mark.parametrize(
    ("riff", "data", "cut"),
    [
        (36, 0, 0),  # header written at creation, never updated (Asterisk killed)
        (36, 0, 1),  # ... and the last sample only half written
        (0xFFFFFFFF, 0xFFFFFFFF, 0),  # a streaming writer's "unknown length"
        (36 + 800, 800, 0),  # updated once, then the writer went on and died
    ],
)
def test_an_unfinished_header_is_repaired_from_the_file_size_keeping_the_audio(
    tmp_path: Path, riff: int, data: int, cut: int
) -> None:
    original = audio(3.0)
    path = as_if_writer_died(finished(tmp_path / "crash.wav", original), riff, data, cut)
    before = read_wav_info(path)
    assert not before.header_final
    # even unfinished, the duration comes from what is really on disk
    assert before.duration_seconds == pytest.approx(3.0, abs=2 / RATE)

    result = repair_wav_header(path)
    assert result.trimmed_bytes == cut
    assert result.after.header_final
    assert result.after.declared_data_bytes == (len(original) * 2) - (2 if cut else 0)
    kept = decoded(path)
    assert np.array_equal(kept, original[: len(kept)])
    assert len(kept) == len(original) - (1 if cut else 0)
    # other readers agree
    frames, rate = sf.read(str(path), dtype="int16")
    assert rate == RATE
    assert len(frames) == len(kept)


def test_repairing_a_finished_file_changes_nothing(tmp_path: Path) -> None:
    path = finished(tmp_path / "ok.wav", audio(1.0))
    before = path.read_bytes()
    repair_wav_header(path)
    assert path.read_bytes() == before


def test_a_file_cut_inside_its_header_becomes_a_valid_empty_recording(tmp_path: Path) -> None:
    path = tmp_path / "stub.wav"
    path.write_bytes(finished(tmp_path / "src.wav", audio(1.0)).read_bytes()[:20])
    with pytest.raises(WavFormatError):
        read_wav_info(path)
    result = repair_wav_header(path)
    assert result.before is None
    assert result.after.header_final
    assert result.after.duration_seconds == 0
    assert len(decoded(path)) == 0


@pytest.mark.parametrize(
    "content",
    [
        b"ID3\x04" + b"\x00" * 200,  # an MP3, not a WAV
        b"RIFF\x00\x00\x00\x00AVI LIST" + b"\x00" * 100,
    ],
)
def test_files_that_are_not_wavs_are_refused_not_rewritten(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "other.wav"
    path.write_bytes(content)
    with pytest.raises(WavFormatError):
        read_wav_info(path)
    with pytest.raises(WavFormatError):
        repair_wav_header(path)
    assert path.read_bytes() == content


def test_a_header_with_extra_chunks_is_read_past_them(tmp_path: Path) -> None:
    samples = audio(0.5).tobytes()
    fmt = struct.pack("<HHIIHH", 1, 1, RATE, RATE * 2, 2, 16)
    body = (
        b"WAVE"
        + b"fmt " + struct.pack("<I", len(fmt)) + fmt
        + b"LIST" + struct.pack("<I", 5) + b"INFOx\x00"  # odd size: padded to even
        + b"data" + struct.pack("<I", len(samples)) + samples
    )  # fmt: skip
    path = tmp_path / "chunks.wav"
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    info = read_wav_info(path)
    assert info.header_final
    assert info.duration_seconds == pytest.approx(0.5)
    with wave.open(io.BytesIO(path.read_bytes())) as src:
        assert src.getnframes() == 4000
