"""MixMonitor: call recordings as real WAV files.

Asterisk records into the file named in the dialplan; the simulator writes the file under the
recordings folder it was given, as `YYYY/MM/DD/<call uuid>.wav` (the CALL_UUID channel
variable when the platform set one, else the channel's Uniqueid; the date is the simulated
UTC date the recording started). With the `b` option only bridged time is recorded, so a
call that never reached an operator leaves a 44-byte, header-only WAV, as in Asterisk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from callcenter.sim.channels import Channel
from callcenter.sim.wav import conversation, silence, write_wav


@dataclass(eq=False)
class Recording:
    channel: Channel
    requested_file: str
    bridged_only: bool
    started: float
    started_epoch: float
    segments: list[tuple[float, float]] = field(default_factory=list)
    bridged_since: float | None = None
    path: Path | None = None  # where the file goes, once stopped
    stopped: float = 0.0

    def bridge_changed(self, bridged: bool, now: float) -> None:
        if bridged and self.bridged_since is None:
            self.bridged_since = now
        elif not bridged and self.bridged_since is not None:
            self.segments.append((self.bridged_since, now))
            self.bridged_since = None


def recording_path(recordings_dir: Path, call_uuid: str, started_epoch: float) -> Path:
    day = datetime.fromtimestamp(started_epoch, tz=UTC)
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in call_uuid)
    return recordings_dir / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}" / f"{safe}.wav"


def render(recording: Recording, stopped: float) -> np.ndarray:
    """Audio for the recording: conversation while bridged; silence otherwise (unless `b`)."""
    recording.bridge_changed(False, stopped)
    seed = abs(hash(recording.channel.uniqueid)) % (2**32)
    if recording.bridged_only:
        parts = [
            conversation(end - start, seed + i) for i, (start, end) in enumerate(recording.segments)
        ]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)
    parts = []
    cursor = recording.started
    for i, (start, end) in enumerate(recording.segments):
        parts.append(silence(start - cursor))
        parts.append(conversation(end - start, seed + i))
        cursor = end
    parts.append(silence(stopped - cursor))
    return np.concatenate(parts)


def finish(recording: Recording, recordings_dir: Path, stopped: float) -> Path:
    """Name the file now (the call's variables may change later) and write it."""
    path = close(recording, recordings_dir, stopped)
    write(recording, path)
    return path


def close(recording: Recording, recordings_dir: Path, stopped: float) -> Path:
    """The recording stops: decide its path; `write` produces the file (in any thread)."""
    call_uuid = recording.channel.variables.get("CALL_UUID") or recording.channel.uniqueid
    recording.path = recording_path(recordings_dir, call_uuid, recording.started_epoch)
    recording.bridge_changed(False, stopped)
    recording.stopped = stopped
    return recording.path


def write(recording: Recording, path: Path) -> Path:
    samples = render(recording, recording.stopped)
    write_wav(path, samples if samples.size else None)
    return path
