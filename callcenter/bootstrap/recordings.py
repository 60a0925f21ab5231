"""The recording services built together from Settings (used by the composition root)."""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from callcenter.config import Settings
from callcenter.db.engine import SessionFactory
from callcenter.domain.recording_rules import RecordingPolicy, policy_from_mapping
from callcenter.recordings.access import RecordingAccess
from callcenter.recordings.registry import RecordingService
from callcenter.recordings.upkeep import RecordingUpkeep
from callcenter.recordings.voicemails import VoicemailService
from callcenter.storage.recordings import RecordingStore


@dataclass(frozen=True, slots=True)
class Recordings:
    core: RecordingService
    access: RecordingAccess
    upkeep: RecordingUpkeep
    voicemails: VoicemailService


class RecordingConfigError(ValueError):
    pass


def load_policy(settings: Settings) -> RecordingPolicy:
    """The recording policy: the rules file when set, else record all with default retention."""
    if settings.recordings_rules_file is None:
        return RecordingPolicy(
            default_retention_days=settings.recordings_retention_days,
            default_archive_after_days=settings.recordings_archive_after_days,
        )
    path = settings.recordings_rules_file
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise RecordingConfigError(f"CALLCENTER_RECORDINGS_RULES_FILE: {path}: {exc}") from None
    if not isinstance(data, dict):
        raise RecordingConfigError(f"CALLCENTER_RECORDINGS_RULES_FILE: {path}: not a mapping")
    data.setdefault("default_retention_days", settings.recordings_retention_days)
    data.setdefault("default_archive_after_days", settings.recordings_archive_after_days)
    try:
        return policy_from_mapping(data)
    except ValueError as exc:
        raise RecordingConfigError(f"CALLCENTER_RECORDINGS_RULES_FILE: {path}: {exc}") from None


def build_recordings(settings: Settings, session_factory: SessionFactory) -> Recordings:
    store = RecordingStore(
        settings.recordings_dir,
        archive_root=settings.recordings_archive_dir,
        min_free_ratio=settings.recordings_min_free_ratio,
        min_free_bytes=settings.recordings_min_free_bytes,
    )
    core = RecordingService(session_factory, store, policy=load_policy(settings))
    return Recordings(
        core=core,
        access=RecordingAccess(core, export_max_bytes=settings.recordings_export_max_bytes),
        upkeep=RecordingUpkeep(core),
        voicemails=VoicemailService(core),
    )
