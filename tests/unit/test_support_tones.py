"""The test audio of the SIP end-to-end tests: A-law tones in RTP captures, found again.

The end-to-end test trusts these helpers to say "both voices are in the recording"; here they
are checked against an independent codec (sox) and against mixtures with a known answer.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.support.real_asterisk import Tone, write_tone_capture
from tests.support.tones import RATE, alaw, find_tone, sine

SOX = shutil.which("sox")
needs_sox = pytest.mark.skipif(SOX is None, reason="needs sox (an independent G.711 codec)")


def _sox(args: list[str], data: bytes) -> bytes:
    assert SOX is not None
    return subprocess.run([SOX, *args], input=data, capture_output=True, check=True).stdout


@needs_sox
def test_alaw_is_g711_as_sox_decodes_it_for_every_16_bit_value() -> None:
    every = np.arange(-32768, 32768, dtype="<i2")
    ours = alaw(every.astype(np.float64) / 32768)
    back = np.frombuffer(
        _sox(
            ["-t", "raw", "-r", "8000", "-e", "a-law", "-c", "1", "-",
             "-t", "raw", "-e", "signed", "-b", "16", "-"],
            ours,
        ),
        dtype="<i2",
    ).astype(np.int64)  # fmt: skip
    # within half a step of the value's segment (steps double from 16 to 1024 units), plus
    # the 3 low bits G.711 drops
    error = np.abs(back - every.astype(np.int64))
    assert np.all(error <= np.maximum(16, np.abs(every.astype(np.int64)) // 32) + 8)
    # and sox's own encoder, which rounds where this one truncates, agrees on nearly all
    theirs = _sox(
        ["-D", "-t", "raw", "-r", "8000", "-e", "signed", "-b", "16", "-c", "1", "-",
         "-t", "raw", "-e", "a-law", "-"],
        every.tobytes(),
    )  # fmt: skip
    same = np.frombuffer(ours, np.uint8) == np.frombuffer(theirs, np.uint8)
    assert same.mean() > 0.98


def _rtp_packets(capture: bytes) -> list[tuple[float, bytes]]:
    """(time, RTP packet) of each record of a little-endian Ethernet/IPv4/UDP capture."""
    magic, _, _, _, _, _, link = struct.unpack_from("<IHHiIII", capture)
    assert (magic, link) == (0xA1B2C3D4, 1)
    out = []
    offset = 24
    while offset < len(capture):
        seconds, micros, length, _ = struct.unpack_from("<IIII", capture, offset)
        frame = capture[offset + 16 : offset + 16 + length]
        assert frame[12:14] == b"\x08\x00"
        (udp_length,) = struct.unpack_from("!H", frame, 14 + 20 + 4)
        out.append((seconds + micros / 1e6, frame[14 + 20 + 8 : 14 + 20 + udp_length]))
        offset += 16 + length
    return out


@needs_sox
def test_a_tone_capture_holds_the_tone_as_20_ms_pcma_packets(tmp_path: Path) -> None:
    target = tmp_path / "tone.pcap"
    write_tone_capture(target, Tone(600, 1.0, 0.3), order=3)
    packets = _rtp_packets(target.read_bytes())
    assert len(packets) == 50
    assert [round(t, 3) for t, _ in packets[:3]] == [0.0, 0.02, 0.04]
    payload = b""
    for index, (_, rtp) in enumerate(packets):
        first, kind, seq, stamp = struct.unpack_from("!BBHI", rtp)
        assert first == 0x80
        assert kind & 0x7F == 8  # PCMA
        assert seq == 3000 + index
        assert stamp == 3 * 160_000 + index * 160
        payload += rtp[12:]
    # decoded by sox, the payload is the tone again
    linear = _sox(
        ["-t", "raw", "-r", "8000", "-e", "a-law", "-c", "1", "-",
         "-t", "raw", "-e", "signed", "-b", "16", "-"],
        payload,
    )  # fmt: skip
    samples = np.frombuffer(linear, dtype="<i2").astype(np.float64) / 32768
    found = find_tone(samples, 600)
    assert found.seconds == pytest.approx(1.0)
    assert found.level_dbfs == pytest.approx(20 * np.log10(0.3) - 3, abs=0.2)
    assert found.share > 0.99


def test_two_tones_apart_are_found_each_where_it_is() -> None:
    rng = np.random.default_rng(7)
    noise = rng.normal(0, 0.01, RATE * 10)  # a quiet line
    mixed = noise.copy()
    mixed[RATE * 2 : RATE * 5] += sine(600, 3, level=0.3)
    mixed[RATE * 6 : RATE * 9] += sine(1900, 3, level=0.1)
    caller = find_tone(mixed, 600)
    operator = find_tone(mixed, 1900)
    assert (caller.first, caller.last, caller.seconds) == pytest.approx((2.0, 5.0, 3.0))
    assert (operator.first, operator.last) == pytest.approx((6.0, 9.0))
    assert caller.level_dbfs == pytest.approx(-13.5, abs=0.2)
    assert operator.level_dbfs == pytest.approx(-23.0, abs=0.2)
    assert caller.elsewhere == operator.elsewhere == 0


def test_a_tone_that_is_not_there_is_absent_even_under_speech_like_sound() -> None:
    rng = np.random.default_rng(11)
    # a buzz rich in harmonics of 120 Hz (like a voiced vowel) plus noise, no 1900 Hz sine
    t = np.arange(RATE * 4) / RATE
    buzz = sum(np.sin(2 * np.pi * 120 * k * t) / k for k in range(1, 30))
    sound = 0.05 * buzz + rng.normal(0, 0.02, t.size)
    assert find_tone(sound, 1900).frames == 0
    assert find_tone(np.zeros(RATE), 600).frames == 0  # digital silence too
