"""Russian prompts through the real pyttsx3 + espeak-ng engine into Asterisk-ready files."""

from __future__ import annotations

import asyncio
import threading
import wave
from pathlib import Path

import numpy as np
import pytest

from callcenter.speech.tts import (
    MAX_TEXT_CHARS,
    Audio,
    EspeakEngine,
    PromptRenderer,
    TtsError,
    TtsUnavailable,
)


class CountingEngine:
    """The real engine, counting how often it is asked to synthesise."""

    def __init__(self) -> None:
        self.inner = EspeakEngine()
        self.texts: list[str] = []

    def version(self) -> str:
        return self.inner.version()

    def synthesize(self, text: str, *, voice: str, rate: int) -> Audio:
        self.texts.append(text)
        return self.inner.synthesize(text, voice=voice, rate=rate)


@pytest.fixture
def engine() -> CountingEngine:
    return CountingEngine()


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "prompts"


def _listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def _wav_facts(path: Path) -> tuple[int, int, int, float, float]:
    with wave.open(str(path), "rb") as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
        rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))
        return (
            wav.getframerate(),
            wav.getnchannels(),
            wav.getsampwidth(),
            wav.getnframes() / wav.getframerate(),
            rms,
        )


async def test_russian_prompt_becomes_an_8khz_16bit_mono_wav_of_known_duration(
    cache_dir: Path, engine: CountingEngine
) -> None:
    renderer = PromptRenderer(cache_dir, voice="ru", rate=150, engine=engine)
    prompt = await renderer.render("Ваша задолженность 1234,56 руб. Оплатите до 15.03.2025.")

    rate, channels, width, seconds, rms = _wav_facts(prompt.path)
    assert (rate, channels, width) == (8000, 1, 2)
    assert prompt.duration_seconds == pytest.approx(seconds)
    assert 4.0 < prompt.duration_seconds < 15.0  # about 25 words at 150 words a minute
    assert rms > 500  # speech, not silence
    assert prompt.path.parent == cache_dir
    assert prompt.asterisk_name == str(prompt.path.with_suffix(""))
    # the voice was given words, not digits
    assert engine.texts == [
        "Ваша задолженность одна тысяча двести тридцать четыре рубля пятьдесят шесть копеек. "
        "Оплатите до пятнадцатого марта две тысячи двадцать пятого года."
    ]


async def test_each_prompt_is_synthesised_once(cache_dir: Path, engine: CountingEngine) -> None:
    renderer = PromptRenderer(cache_dir, voice="ru", rate=150, engine=engine)
    first = await renderer.render("Здравствуйте!")
    again = await renderer.render("  Здравствуйте! ")
    # a new process (a new renderer) finds the file too
    later = await PromptRenderer(cache_dir, voice="ru", rate=150, engine=engine).render(
        "Здравствуйте!"
    )
    assert first == again == later
    assert engine.texts == ["Здравствуйте!"]


async def test_concurrent_requests_for_one_prompt_synthesise_it_once(
    cache_dir: Path, engine: CountingEngine
) -> None:
    renderer = PromptRenderer(cache_dir, voice="ru", rate=150, engine=engine)
    results = await asyncio.gather(*(renderer.render("Ожидайте ответа.") for _ in range(6)))
    assert len({r.path for r in results}) == 1
    assert engine.texts == ["Ожидайте ответа."]
    # written atomically and readable by Asterisk (another user): no temp files, mode 0644
    assert _listing(cache_dir) == [results[0].path.name]
    assert results[0].path.stat().st_mode & 0o777 == 0o644


async def test_voice_settings_are_part_of_the_cache_key(
    cache_dir: Path, engine: CountingEngine
) -> None:
    text = "Оператор ответит вам в ближайшее время."
    slow = await PromptRenderer(cache_dir, voice="ru", rate=110, engine=engine).render(text)
    fast = await PromptRenderer(cache_dir, voice="ru", rate=220, engine=engine).render(text)
    assert slow.path != fast.path
    assert fast.duration_seconds < slow.duration_seconds * 0.8
    assert len(engine.texts) == 2


async def test_a_damaged_cache_file_is_rendered_again(
    cache_dir: Path, engine: CountingEngine
) -> None:
    renderer = PromptRenderer(cache_dir, voice="ru", rate=150, engine=engine)
    prompt = await renderer.render("Спасибо за звонок.")
    prompt.path.write_bytes(prompt.path.read_bytes()[:20])  # e.g. a disk filled up mid-copy
    again = await renderer.render("Спасибо за звонок.")
    assert again.path == prompt.path
    assert again.duration_seconds == pytest.approx(prompt.duration_seconds, abs=0.05)
    assert len(engine.texts) == 2
    assert _wav_facts(again.path)[0] == 8000


async def test_unknown_voice_names_the_setting(cache_dir: Path) -> None:
    renderer = PromptRenderer(cache_dir, voice="no-such-voice", rate=150)
    with pytest.raises(TtsUnavailable, match="CALLCENTER_TTS_VOICE"):
        await renderer.render("Проверка")
    # the engine is still usable with a proper voice afterwards
    good = await PromptRenderer(cache_dir, voice="ru", rate=150).render("Проверка")
    assert good.duration_seconds > 0.3


@pytest.mark.parametrize("text", ["", "   \n "])
async def test_nothing_to_say_is_an_error(cache_dir: Path, text: str) -> None:
    with pytest.raises(TtsError, match="empty"):
        await PromptRenderer(cache_dir, voice="ru", rate=150).render(text)


async def test_a_text_too_long_for_a_prompt_is_refused(cache_dir: Path) -> None:
    engine = CountingEngine()
    with pytest.raises(TtsError, match="too long"):
        await PromptRenderer(cache_dir, voice="ru", rate=150, engine=engine).render(
            "слово " * MAX_TEXT_CHARS
        )
    assert engine.texts == []


class HeldEngine:
    """Synthesises only once the test releases it: proves the event loop stays free meanwhile."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()

    def version(self) -> str:
        return "held 1"

    def synthesize(self, text: str, *, voice: str, rate: int) -> Audio:
        self.started.set()
        if not self.release.wait(timeout=5):
            raise TimeoutError("never released: synthesis blocked the event loop")
        # one second of a 440 Hz tone at 16 kHz: resampled to 8 kHz on the way out
        tone = (np.sin(np.arange(16000) * 2 * np.pi * 440 / 16000) * 8000).astype("<i2")
        return Audio(tone.tobytes(), 16000)


async def test_synthesis_runs_off_the_event_loop(cache_dir: Path) -> None:
    engine = HeldEngine()
    task = asyncio.create_task(
        PromptRenderer(cache_dir, voice="ru", rate=150, engine=engine).render("Тон")
    )
    assert await asyncio.to_thread(engine.started.wait, 5)
    engine.release.set()  # only possible because the loop is not stuck inside the engine
    prompt = await asyncio.wait_for(task, timeout=5)
    rate, _, _, seconds, _ = _wav_facts(prompt.path)
    assert rate == 8000
    assert seconds == pytest.approx(1.0, abs=0.01)
