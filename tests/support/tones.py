"""Steady tones for telling the parties of a call apart in its recording.

The SIP end-to-end test gives the caller one frequency and the operator's phone another, then
looks for both in the call's one mixed recording: each tone comes in on its own leg (the
caller's on the caller's channel, the operator's through the bridge), so a file that holds
both holds both directions of the call, and where each tone lies says when that party spoke.

A tone is found frame by frame with a single-bin DFT (what the Goertzel filter computes) over
frames holding a whole number of its periods, so the bin sits on the tone and nothing leaks
whatever the phase. A frame "carries" a tone when the tone holds most of the frame's power:
speech, music on hold and the other tone hold their power elsewhere.
"""

from __future__ import annotations

import io
import math
import wave
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

RATE = 8000  # G.711 and Asterisk's .wav (signed linear, 8 kHz, mono)
FULL_SCALE = 32768.0
FRAME_SECONDS = 0.1  # 800 samples: a whole number of periods of any multiple of 10 Hz

Samples = npt.NDArray[np.float64]


def sine(frequency: float, seconds: float, *, level: float, rate: int = RATE) -> Samples:
    """A sine of peak `level` (a fraction of full scale) as floats in [-1, 1]."""
    n = np.arange(round(seconds * rate))
    return level * np.sin(2 * np.pi * frequency * n / rate)


def alaw(samples: Samples) -> bytes:
    """ITU-T G.711 A-law: floats in [-1, 1] to one byte per sample (even bits inverted).

    13-bit magnitude, segment = how many doublings above 32 (0 for the linear bottom
    segment), 4 mantissa bits below the segment's leading one; the sign bit set for
    positive values."""
    linear = np.clip(np.round(samples * FULL_SCALE), -32768, 32767).astype(np.int32) >> 3
    positive = linear >= 0
    magnitude = np.where(positive, linear, -linear - 1)  # 0..4095
    segment = np.zeros_like(magnitude)
    for bound in (32, 64, 128, 256, 512, 1024, 2048):
        segment += magnitude >= bound
    shift = np.where(segment < 2, 1, segment)
    code = (segment << 4) | ((magnitude >> shift) & 0x0F)
    code = np.where(positive, code | 0x80, code)
    return bytes((code ^ 0x55).astype(np.uint8))


def read_wav(data: bytes) -> tuple[Samples, int]:
    """A 16-bit mono WAV's samples as floats in [-1, 1], and its rate."""
    with wave.open(io.BytesIO(data)) as reader:
        assert reader.getsampwidth() == 2, "a 16-bit WAV (Asterisk's .wav is signed linear)"
        assert reader.getnchannels() == 1
        rate = reader.getframerate()
        frames = reader.readframes(reader.getnframes())
    return np.frombuffer(frames, dtype="<i2").astype(np.float64) / FULL_SCALE, rate


def dbfs(mean_square: float) -> float:
    """A mean square (of floats in [-1, 1]) in dB relative to full scale's."""
    return 10 * math.log10(max(mean_square, 1e-12))


@dataclass(frozen=True)
class ToneSpan:
    """Where one tone carries the recording: its longest stretch (gaps of one frame, a lost
    packet or two, are bridged), and how many frames elsewhere it carries too."""

    frequency: float
    frames: int  # frames of the stretch that the tone carries
    first: float  # start of the stretch, seconds into the file (0 when there is none)
    last: float  # its end
    level_dbfs: float  # the tone's own power over those frames (a sine's is peak - 3 dB)
    share: float  # the tone's mean share of those frames' power (1.0: nothing else)
    elsewhere: int  # frames outside the stretch that the tone carries

    @property
    def seconds(self) -> float:
        return self.frames * FRAME_SECONDS

    def __str__(self) -> str:
        if not self.frames:
            return f"{self.frequency:g} Hz: absent"
        return (
            f"{self.frequency:g} Hz: {self.seconds:.1f} s between {self.first:.1f} and "
            f"{self.last:.1f} s, {self.level_dbfs:.1f} dBFS, {self.share:.0%} of the power, "
            f"{self.elsewhere} frames elsewhere"
        )


def tone_power(samples: Samples, frequency: float, rate: int = RATE) -> Samples:
    """Per frame, the mean square the tone contributes (a sine of peak a: a**2 / 2)."""
    size = round(FRAME_SECONDS * rate)
    count = len(samples) // size
    frames = samples[: count * size].reshape(count, size)
    n = np.arange(size)
    basis = np.exp(-2j * np.pi * frequency * n / rate)
    spectrum = frames @ basis
    return np.asarray(2 * np.abs(spectrum) ** 2 / size**2, dtype=np.float64)


def find_tone(
    samples: Samples, frequency: float, *, rate: int = RATE, min_share: float = 0.6
) -> ToneSpan:
    """The longest stretch of frames where `frequency` holds at least `min_share` of the
    power."""
    size = round(FRAME_SECONDS * rate)
    count = len(samples) // size
    total = np.mean(samples[: count * size].reshape(count, size) ** 2, axis=1)
    power = tone_power(samples, frequency, rate)
    share = np.divide(power, total, out=np.zeros_like(power), where=total > 1e-9)
    carried = np.flatnonzero(share >= min_share)
    if carried.size == 0:
        return ToneSpan(frequency, 0, 0.0, 0.0, dbfs(0.0), 0.0, 0)
    # stretches: split where more than one frame in a row is not carried
    stretches = np.split(carried, np.flatnonzero(np.diff(carried) > 2) + 1)
    best = max(stretches, key=len)
    return ToneSpan(
        frequency,
        int(best.size),
        float(best[0] * FRAME_SECONDS),
        float((best[-1] + 1) * FRAME_SECONDS),
        dbfs(float(np.mean(power[best]))),
        float(np.mean(share[best])),
        int(carried.size - best.size),
    )
