"""Speech fixtures: the real Korean Vosk model, and Korean speech made by our own TTS path."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from callcenter.speech.asr import VoskModel
from callcenter.speech.tts import PromptRenderer
from tests.adapters.speech.samples import KOREAN_MODEL_DIR, KOREAN_SPEECH


@pytest.fixture(scope="session")
def korean_model() -> VoskModel:
    return VoskModel.load(KOREAN_MODEL_DIR)  # ~2 s: once per test run


@pytest.fixture(scope="session")
def korean_speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An 8 kHz telephone-format WAV of espeak-ng's Korean voice saying "사 오"."""
    renderer = PromptRenderer(tmp_path_factory.mktemp("ko-prompts"), voice="ko", rate=150)
    return asyncio.run(renderer.render(KOREAN_SPEECH, normalise=False)).path
