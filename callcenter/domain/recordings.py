"""Call recordings: a recording's life cycle and what may be done to one (152-FZ access log)."""

from __future__ import annotations

from enum import StrEnum


class RecordingState(StrEnum):
    RECORDING = "recording"
    COMPLETE = "complete"
    # the call ended but no file was found where Asterisk should have written it
    MISSING = "missing"
    # the call ended before any audio was recorded (never bridged, abandoned in the queue):
    # the file is only a WAV header, kept as the record of it, with nothing to play
    EMPTY = "empty"
    ARCHIVED = "archived"
    # the file is gone (retention or an administrator); the row stays as the record of it
    DELETED = "deleted"


class RecordingAction(StrEnum):
    PLAY = "play"
    DOWNLOAD = "download"
    EXPORT = "export"
    DELETE = "delete"
    DENIED = "denied"
