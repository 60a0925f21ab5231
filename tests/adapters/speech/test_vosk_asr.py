"""The real Vosk engine on audio the tests synthesise.

Russian accuracy needs vosk-model-small-ru (see the README); the registries only ship a Korean
model, so loading, streaming and grammar limits are proven on Korean speech. One test runs the
Russian meter-reading path end to end when CALLCENTER_TEST_VOSK_RU_MODEL points at a Russian model.
"""

from __future__ import annotations

import logging
import os
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
import soxr

from callcenter.config import load_settings
from callcenter.speech.asr import (
    AsrError,
    AsrUnavailable,
    MeterReadingRecognizer,
    Recognition,
    SpeechRecognizer,
    VoskModel,
    open_meter_reader,
    read_pcm,
)
from callcenter.speech.tts import PromptRenderer
from tests.adapters.speech.samples import KOREAN_MODEL_DIR, NATIVE_DIGITS, SINO_DIGITS, write_wav


def test_grammar_limited_recognition_hears_the_synthesised_words(
    korean_model: VoskModel, korean_speech_wav: Path
) -> None:
    recognizer = SpeechRecognizer(korean_model, grammar=[*SINO_DIGITS, "[unk]"])
    assert recognizer.recognise_file(korean_speech_wav).text == "사 오"


def test_the_grammar_limits_what_can_be_heard(
    korean_model: VoskModel, korean_speech_wav: Path
) -> None:
    # the same audio through a grammar without "사" or "오": only that grammar's words come out
    heard = SpeechRecognizer(korean_model, grammar=NATIVE_DIGITS).recognise_file(korean_speech_wav)
    assert heard.words
    assert set(heard.words) <= set(NATIVE_DIGITS)


async def test_streamed_chunks_are_recognised_as_they_arrive(
    korean_model: VoskModel, korean_speech_wav: Path
) -> None:
    recognizer = SpeechRecognizer(korean_model, grammar=SINO_DIGITS)
    pcm, rate = read_pcm(korean_speech_wav)
    assert rate == 8000

    stream = recognizer.stream()
    partials = set()
    for offset in range(0, len(pcm), 320):  # 20 ms of 8 kHz audio, as RTP would bring it
        stream.accept(pcm[offset : offset + 320])
        partials.add(stream.partial)
    assert "사 오" in partials  # heard before the end of the utterance
    assert stream.finish() == Recognition("사 오")

    async def chunks() -> AsyncIterator[bytes]:
        for offset in range(0, len(pcm), 320):
            yield pcm[offset : offset + 320]

    assert (await recognizer.recognise_stream(chunks())).text == "사 오"


async def test_silence_and_empty_recordings_are_heard_as_nothing(
    korean_model: VoskModel, tmp_path: Path
) -> None:
    recognizer = SpeechRecognizer(korean_model, grammar=SINO_DIGITS)
    silence = write_wav(tmp_path / "silence.wav", bytes(2 * 8000 * 2))
    # RECORD FILE that timed out with endpos=0 leaves a header-only WAV
    empty = write_wav(tmp_path / "empty.wav", b"")
    assert (await recognizer.recognise_file_async(silence)).text == ""
    assert (await recognizer.recognise_file_async(empty)).text == ""


def test_the_name_given_to_record_file_is_enough(
    korean_model: VoskModel, korean_speech_wav: Path, tmp_path: Path
) -> None:
    # `RECORD FILE /spool/rec-42 wav ...` writes /spool/rec-42.wav
    recorded = tmp_path / "rec-42.wav"
    recorded.write_bytes(korean_speech_wav.read_bytes())
    heard = SpeechRecognizer(korean_model, grammar=SINO_DIGITS).recognise_file(tmp_path / "rec-42")
    assert heard.text == "사 오"


def test_stereo_wideband_audio_is_mixed_down_and_recognised(
    korean_model: VoskModel, korean_speech_wav: Path, tmp_path: Path
) -> None:
    pcm, _ = read_pcm(korean_speech_wav)
    wide = soxr.resample(np.frombuffer(pcm, dtype="<i2"), 8000, 16000).astype("<i2")
    stereo = write_wav(
        tmp_path / "stereo.wav", np.stack([wide, wide], axis=1).tobytes(), rate=16000, channels=2
    )
    heard = SpeechRecognizer(korean_model, grammar=SINO_DIGITS).recognise_file(stereo)
    assert heard.text == "사 오"


def test_audio_that_is_not_16_bit_pcm_is_refused(korean_model: VoskModel, tmp_path: Path) -> None:
    path = tmp_path / "ulaw-ish.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(1)
        wav.setframerate(8000)
        wav.writeframes(bytes(800))
    recognizer = SpeechRecognizer(korean_model)
    with pytest.raises(AsrError, match="16-bit PCM"):
        recognizer.recognise_file(path)
    with pytest.raises(AsrError, match="no such recording"):
        recognizer.recognise_file(tmp_path / "missing.wav")
    (tmp_path / "text.wav").write_text("not audio")
    with pytest.raises(AsrError, match="not a PCM WAV"):
        recognizer.recognise_file(tmp_path / "text.wav")


def test_grammar_words_the_model_does_not_know_are_dropped_with_a_warning(
    korean_model: VoskModel, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        recognizer = SpeechRecognizer(korean_model, grammar=["사", "오", "ноль"])
    assert recognizer.grammar == ("사", "오")
    assert "ноль" in caplog.text


def test_a_model_of_another_language_cannot_hear_russian_meter_readings(
    korean_model: VoskModel,
) -> None:
    with pytest.raises(AsrUnavailable, match="knows none of the grammar words") as caught:
        MeterReadingRecognizer(korean_model)
    assert str(KOREAN_MODEL_DIR) in str(caught.value)
    assert "CALLCENTER_VOSK_MODEL_PATH" in str(caught.value)


def test_an_empty_model_setting_means_recognition_is_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CALLCENTER_VOSK_MODEL_PATH", "")
    with pytest.raises(AsrUnavailable, match="speech recognition is off"):
        VoskModel.load(load_settings().vosk_model_path)


@pytest.mark.parametrize("where", ["unset", "missing", "archive", "empty_dir", "broken"])
def test_an_unusable_model_path_says_what_is_wrong(where: str, tmp_path: Path) -> None:
    paths = {
        "unset": None,
        "missing": tmp_path / "vosk-model-small-ru-0.22",
        "archive": tmp_path / "vosk-model-small-ru-0.22.zip",
        "empty_dir": tmp_path,
        "broken": tmp_path,
    }
    if where == "archive":
        (tmp_path / "vosk-model-small-ru-0.22.zip").write_bytes(b"PK\x03\x04")
    if where == "broken":
        (tmp_path / "am").mkdir()
        (tmp_path / "am" / "final.mdl").write_text("not a model")
        (tmp_path / "conf").mkdir()
        (tmp_path / "conf" / "model.conf").write_text("--beam=10\n")
    path = paths[where]
    with pytest.raises(AsrUnavailable, match="CALLCENTER_VOSK_MODEL_PATH") as caught:
        VoskModel.load(path)
    if path is not None:
        assert str(path) in str(caught.value)


async def test_without_a_model_the_ivr_gets_no_meter_reader_and_the_log_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        assert await open_meter_reader(tmp_path / "no-model") is None
    assert "keypad only" in caplog.text
    assert str(tmp_path / "no-model") in caplog.text


@pytest.mark.parametrize(
    ("heard", "digits"),
    [
        ("триста пятьдесят семь", "357"),
        ("один два три", "123"),
        ("три [unk] пять", None),
        ("", None),
    ],
)
def test_a_meter_reading_is_the_digits_of_the_words_heard(heard: str, digits: str | None) -> None:
    reading = MeterReadingRecognizer.reading(Recognition(heard))
    assert (reading.text, reading.digits) == (heard, digits)


RUSSIAN_MODEL = os.environ.get("CALLCENTER_TEST_VOSK_RU_MODEL")


@pytest.mark.skipif(
    not RUSSIAN_MODEL, reason="set CALLCENTER_TEST_VOSK_RU_MODEL to a vosk-model-small-ru directory"
)
async def test_russian_meter_reading_end_to_end(tmp_path: Path) -> None:
    assert RUSSIAN_MODEL is not None
    reader = await open_meter_reader(Path(RUSSIAN_MODEL))
    assert reader is not None
    said = await PromptRenderer(tmp_path, voice="ru", rate=120).render("триста пятьдесят семь")
    reading = await reader.read_file(said.path)
    assert reading.digits == "357", reading.text
