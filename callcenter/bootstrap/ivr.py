"""The IVR built from Settings, for the composition root.

    ivr = build_ivr(settings, session_factory, voicemails=recordings)  # Recordings, optional
    await ivr.start()                          # flows loaded, watcher and ASR started
    agi_server.add_route("ivr", ivr.handler)
    ...
    await ivr.stop()

A flow that fails its checks at start is logged and left out (calls then use the others; with
no default flow the AGI server sends callers to the fail-over queue). The meter-reading
recogniser loads only when CALLCENTER_VOSK_MODEL_PATH is set; without it readings are keyed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from callcenter.asterisk.agi import AgiHandler
from callcenter.config import Settings
from callcenter.db.engine import SessionFactory
from callcenter.inbound.flows import (
    DEFAULT_FLOW,
    FlowLoader,
    FlowRegistry,
    ReloadReport,
    default_queues,
)
from callcenter.inbound.ivr import IvrService, OutcomeSink
from callcenter.inbound.self_service import IvrSelfService
from callcenter.recordings.registry import RecordingService
from callcenter.recordings.voicemails import VoicemailService
from callcenter.speech.asr import open_meter_reader
from callcenter.speech.tts import PromptRenderer

log = logging.getLogger(__name__)

SPEECH_SUBDIR = "ivr-speech"  # under the recordings folder, which Asterisk shares already


class RecordingsSuite(Protocol):
    """`callcenter.bootstrap.recordings.Recordings` as far as the IVR uses it."""

    @property
    def core(self) -> RecordingService: ...

    @property
    def voicemails(self) -> VoicemailService: ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class IvrSuite:
    settings: Settings
    flows: FlowRegistry
    renderer: PromptRenderer
    service: IvrService
    watch: bool

    @property
    def handler(self) -> AgiHandler:
        """The FastAGI handler of the "ivr" script."""
        return self.service.handle

    async def start(self) -> ReloadReport:
        report = await self.flows.reload()
        if self.flows.default_flow not in self.flows.names:
            log.error(
                "IVR: the default flow %r is not loaded; callers go to the fail-over queue",
                self.flows.default_flow,
            )
        reader = await open_meter_reader(self.settings.vosk_model_path)
        if reader is not None:
            speech_dir = self.settings.recordings_dir / SPEECH_SUBDIR
            self.service.enable_voice(reader, speech_dir)
        if self.watch:
            self.flows.start_watching()
        return report

    async def stop(self) -> None:
        await self.flows.stop_watching()


def build_ivr(
    settings: Settings,
    session_factory: SessionFactory,
    *,
    recordings: RecordingsSuite | None = None,
    clock: Callable[[], datetime] = _utcnow,
    default_flow: str = DEFAULT_FLOW,
    watch: bool = True,
    on_outcome: OutcomeSink | None = None,
    queues_conf: Path | None = None,
    lookup_timeout: float = 5.0,
) -> IvrSuite:
    """Everything the IVR needs; `recordings` lets voice messages become playable recordings.

    Until Settings has them: `default_flow` (CALLCENTER_FLOWS_DEFAULT), `watch`
    (CALLCENTER_FLOWS_WATCH), `lookup_timeout` (CALLCENTER_IVR_LOOKUP_TIMEOUT), `queues_conf`
    (CALLCENTER_FLOWS_QUEUES_CONF; default: the shipped asterisk_conf/queues.conf).
    """
    from callcenter.inbound.flows import queues_from_conf

    renderer = PromptRenderer(
        settings.prompts_cache_dir,
        voice=settings.tts_voice,
        rate=settings.tts_rate,
        asterisk_dir=settings.prompts_asterisk_dir,
    )
    queues = queues_from_conf(queues_conf) if queues_conf is not None else default_queues()
    flows = FlowRegistry(
        settings.flows_dir, FlowLoader(renderer, known_queues=queues), default_flow=default_flow
    )
    self_service = IvrSelfService(
        session_factory,
        clock=clock,
        recordings_dir=settings.recordings_dir,
        voicemail_paths=recordings.core if recordings is not None else None,
        voicemails=recordings.voicemails if recordings is not None else None,
    )
    service = IvrService(
        flows,
        renderer,
        self_service,
        clock=clock,
        lookup_timeout=lookup_timeout,
        on_outcome=on_outcome,
    )
    return IvrSuite(settings, flows, renderer, service, watch)
