"""WAV files as Asterisk writes them for telephony: 8 kHz, 16-bit, mono PCM.

A WAV with no audio is exactly 44 bytes (the RIFF header), which is what Asterisk's MixMonitor
leaves with the `b` option when the call was never bridged.
"""

from __future__ import annotations

import wave
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 8000
SAMPLE_WIDTH = 2  # bytes
HEADER_BYTES = 44

Samples = npt.NDArray[np.int16]


def write_wav(path: Path, samples: Samples | None = None) -> Path:
    """Write `samples` (int16, 8 kHz mono) to `path`, creating parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = b"" if samples is None else np.asarray(samples, dtype="<i2").tobytes()
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(SAMPLE_WIDTH)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(data)
    return path


def wav_duration(path: Path) -> float:
    """Length of a WAV file in seconds (any rate or channel count)."""
    with wave.open(str(path), "rb") as src:
        rate = src.getframerate()
        return src.getnframes() / rate if rate else 0.0


def read_wav_8k(path: Path) -> Samples:
    """Samples of `path` converted to 8 kHz mono int16 (speech files may come at any rate)."""
    with wave.open(str(path), "rb") as src:
        channels = src.getnchannels()
        width = src.getsampwidth()
        rate = src.getframerate()
        raw = src.readframes(src.getnframes())
    if width == 1:
        data = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) * 256.0
    elif width == 2:
        data = np.frombuffer(raw, dtype="<i2").astype(np.float32)
    elif width == 4:
        data = np.frombuffer(raw, dtype="<i4").astype(np.float32) / 65536.0
    else:
        raise ValueError(f"{path}: unsupported sample width {width} bytes")
    if channels > 1:
        data = data.reshape(-1, channels).mean(axis=1)
    if rate != SAMPLE_RATE and data.size:
        import soxr

        data = np.asarray(soxr.resample(data, rate, SAMPLE_RATE), dtype=np.float32)
    samples: Samples = np.clip(data, -32768, 32767).astype(np.int16)
    return samples


def silence(seconds: float) -> Samples:
    return np.zeros(max(0, round(seconds * SAMPLE_RATE)), dtype=np.int16)


def conversation(seconds: float, seed: int = 0) -> Samples:
    """A plausible two-party call: alternating voiced turns over low background noise.

    Made by repeating one precomputed 8.8 s pattern (cheap even for long calls), starting
    at a seed-dependent offset so recordings differ; clearly not silence, and as long as the
    bridged time.
    """
    count = max(0, round(seconds * SAMPLE_RATE))
    pattern = _voice_pattern()
    if count == 0:
        return np.zeros(0, dtype=np.int16)
    offset = (seed * 7919) % pattern.size
    reps = (offset + count) // pattern.size + 1
    out: Samples = np.tile(pattern, reps)[offset : offset + count]
    return out


@lru_cache(maxsize=1)
def _voice_pattern() -> Samples:
    count = round(8.8 * SAMPLE_RATE)
    rng = np.random.default_rng(0)
    t = np.arange(count, dtype=np.float32) / SAMPLE_RATE
    turn = (t // 2.2).astype(np.int64)  # 2.2 s turns, two voices
    pitch = np.where(turn % 2 == 0, 140.0, 210.0).astype(np.float32)
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 3.0 * t)  # syllable rhythm
    envelope *= (t % 2.2) < 1.9  # pause at the end of each turn
    voice = np.sin(2 * np.pi * pitch * t) + 0.4 * np.sin(2 * np.pi * 2 * pitch * t)
    noise = rng.normal(0.0, 0.02, count)
    signal = 6000.0 * envelope * voice + 32767.0 * noise
    pattern: Samples = np.clip(signal, -32768, 32767).astype(np.int16)
    pattern.setflags(write=False)
    return pattern
