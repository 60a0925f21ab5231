"""Read the real Asterisk transcripts (tests/fixtures/asterisk) into frames and lines.

Format: one line per read/write, `SECONDS DIRECTION REPR`; `<<` is what Asterisk sent,
`>>` what the client (AMI) or the FastAGI server (AGI) sent.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from callcenter.pbx.frames import AmiFrame, FrameDecoder

FROM_ASTERISK = "<<"
TO_ASTERISK = ">>"


@dataclass(frozen=True)
class TranscriptLine:
    seconds: float
    direction: str
    data: bytes


def read_lines(path: Path) -> list[TranscriptLine]:
    out: list[TranscriptLine] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip():
            continue
        seconds, direction, rest = raw.strip().split(" ", 2)
        value = ast.literal_eval(rest)
        data = value if isinstance(value, bytes) else value.encode("utf-8")
        out.append(TranscriptLine(float(seconds), direction, data))
    return out


def read_stream(path: Path, direction: str = FROM_ASTERISK) -> bytes:
    """All bytes sent in one direction, concatenated in order."""
    return b"".join(line.data for line in read_lines(path) if line.direction == direction)


def ami_frames(path: Path, direction: str = FROM_ASTERISK) -> list[AmiFrame]:
    """Every AMI frame one side sent, decoded with the platform's own decoder."""
    return list(FrameDecoder().feed(read_stream(path, direction)))


def timed_ami_frames(path: Path) -> list[tuple[float, AmiFrame]]:
    """Frames Asterisk sent, each with the transcript time of its last line."""
    decoder = FrameDecoder()
    out: list[tuple[float, AmiFrame]] = []
    for line in read_lines(path):
        if line.direction == FROM_ASTERISK:
            out.extend((line.seconds, frame) for frame in decoder.feed(line.data))
    return out
