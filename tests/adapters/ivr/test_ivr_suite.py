"""The IVR as the composition root builds it from Settings."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from callcenter.bootstrap.ivr import build_ivr
from callcenter.bootstrap.recordings import build_recordings
from callcenter.config import load_settings
from callcenter.db.engine import create_engine, create_session_factory
from tests.unit.ivr.support import MAIN_FLOW_FILE


@pytest.fixture(scope="module")
def prompt_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("prompts")


@pytest.mark.parametrize("with_recordings", [True, False])
async def test_the_ivr_starts_from_settings_and_stops(
    tmp_path: Path, prompt_cache: Path, with_recordings: bool
) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    shutil.copy(MAIN_FLOW_FILE, flows / "main.yaml")
    (flows / "broken.yaml").write_text("name: broken\n", "utf-8")
    settings = load_settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'unused.sqlite3'}",
        flows_dir=flows,
        prompts_cache_dir=prompt_cache,
        recordings_dir=tmp_path / "recordings",
        vosk_model_path=None,
    )
    engine = create_engine(settings.database_url)  # starting the IVR reads no data
    sessions = create_session_factory(engine)
    recordings = build_recordings(settings, sessions) if with_recordings else None
    ivr = build_ivr(settings, sessions, recordings=recordings)
    report = await ivr.start()
    try:
        assert report.loaded == ["main"]
        assert [e.file.name for e in report.errors][:1] == ["broken.yaml"]
        assert ivr.flows.names == ["main"]
        assert ivr.handler == ivr.service.handle
        assert not ivr.service.voice_available  # no Vosk model configured: keypad only
        assert ivr.flows.get().longest is not None  # prompts rendered ahead of calls
    finally:
        await ivr.stop()
        await engine.dispose()
