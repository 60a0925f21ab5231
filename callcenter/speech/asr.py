"""Speech recognition with Vosk: what a caller said, and meter readings said in Russian.

Audio is what Asterisk records: `RECORD FILE <name> wav ...` writes `<name>.wav`, 8 kHz 16-bit
mono (an empty recording is a 44-byte header, `endpos=0`), or raw 16-bit mono chunks from a
stream. Meter readings use a grammar of Russian number words only, so the recogniser cannot hear
anything else, and the words are turned into digits.

The model is a directory (CALLCENTER_VOSK_MODEL_PATH), for Russian vosk-model-small-ru. Without a
usable model `AsrUnavailable` says why at start, and the IVR takes meter readings by keypad only.
Loading (seconds) and recognising (CPU-bound) run in worker threads.
"""

from __future__ import annotations

import asyncio
import json
import logging
import wave
from collections.abc import AsyncIterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import vosk

from callcenter.speech.numbers_ru import NUMBER_WORDS, words_to_digits

log = logging.getLogger(__name__)

MODEL_HINT = (
    "set CALLCENTER_VOSK_MODEL_PATH to an unpacked Vosk model directory "
    "(for Russian: vosk-model-small-ru-0.22, see the README)"
)
TELEPHONE_SAMPLE_RATE = 8000
UNKNOWN_WORD = "[unk]"  # Vosk's token for "something outside the grammar"
METER_GRAMMAR_RU: tuple[str, ...] = NUMBER_WORDS


class AsrError(Exception):
    """Audio could not be recognised (unreadable file, wrong format); the message says why."""


class AsrUnavailable(AsrError):
    """No usable recognition model: the IVR falls back to keypad entry."""


@dataclass(frozen=True)
class Recognition:
    """What the recogniser heard: grammar words (or [unk]) separated by spaces; "" for nothing."""

    text: str

    @property
    def words(self) -> list[str]:
        return self.text.split()


@dataclass(frozen=True)
class MeterReading:
    """A meter reading said by voice: the words heard and their digits (None: not a number)."""

    text: str
    digits: str | None


class VoskModel:
    """A loaded Vosk model (shared by every recogniser: Vosk models are thread-safe)."""

    def __init__(self, path: Path, model: Any) -> None:
        self.path = path
        self._model = model

    @classmethod
    def load(cls, path: Path | None) -> VoskModel:
        """Load the model at `path` (blocking, seconds); AsrUnavailable says what is wrong."""
        # an empty CALLCENTER_VOSK_MODEL_PATH arrives as Path("."): it means "not set" too
        if path is None or str(path) in ("", "."):
            raise AsrUnavailable(f"speech recognition is off: {MODEL_HINT}")
        if not path.exists():
            raise AsrUnavailable(
                f"no Vosk model at {path}: the directory does not exist; {MODEL_HINT}"
            )
        if not path.is_dir():
            raise AsrUnavailable(
                f"{path} is a file, not a model directory (unpack the model archive); {MODEL_HINT}"
            )
        vosk.SetLogLevel(-1)  # Kaldi's progress logging would flood the platform's log
        try:
            model = vosk.Model(str(path))
        except Exception as exc:  # vosk raises a bare Exception("Failed to create a model")
            raise AsrUnavailable(
                f"{path} is not a usable Vosk model ({exc}); {MODEL_HINT}"
            ) from exc
        return cls(path, model)

    @classmethod
    async def open(cls, path: Path | None) -> VoskModel:
        return await asyncio.to_thread(cls.load, path)

    def knows(self, word: str) -> bool:
        return int(self._model.vosk_model_find_word(word)) >= 0

    @property
    def handle(self) -> Any:
        return self._model


class RecognitionStream:
    """One utterance fed in chunks of 16-bit mono PCM (blocking calls; one thread at a time)."""

    def __init__(self, recognizer: Any) -> None:
        self._recognizer = recognizer
        self._texts: list[str] = []
        self._finished = False

    def accept(self, pcm: bytes) -> None:
        if self._finished:
            raise AsrError("the stream is finished")
        try:
            phrase_ended = self._recognizer.AcceptWaveform(pcm)
        except Exception as exc:  # vosk raises a bare Exception("Failed to process waveform")
            raise AsrError(f"the recogniser refused the audio: {exc}") from exc
        if phrase_ended:
            # Vosk found the end of a phrase (a pause): keep it, the caller may go on
            self._take(self._recognizer.Result())

    @property
    def partial(self) -> str:
        """The words of the phrase being said now, before its end is heard."""
        return str(json.loads(self._recognizer.PartialResult()).get("partial", ""))

    def finish(self) -> Recognition:
        if not self._finished:
            self._finished = True
            self._take(self._recognizer.FinalResult())
        return Recognition(" ".join(self._texts))

    def _take(self, result_json: str) -> None:
        text = str(json.loads(result_json).get("text", "")).strip()
        if text:
            self._texts.append(text)


class SpeechRecognizer:
    """Recognises audio at one sample rate, optionally limited to a grammar of phrases."""

    def __init__(
        self,
        model: VoskModel,
        *,
        grammar: Sequence[str] | None = None,
        sample_rate: int = TELEPHONE_SAMPLE_RATE,
    ) -> None:
        self._model = model
        self.sample_rate = sample_rate
        self.grammar = self._checked_grammar(grammar) if grammar is not None else None
        # Vosk reads the grammar as raw UTF-8: with \u escapes (json.dumps' default) every
        # non-ASCII word is "missing in vocabulary" and silently dropped.
        self._grammar_json = (
            json.dumps(list(self.grammar), ensure_ascii=False) if self.grammar else None
        )

    def _checked_grammar(self, grammar: Sequence[str]) -> tuple[str, ...]:
        known: list[str] = []
        unknown: list[str] = []
        for phrase in grammar:
            words = phrase.split()
            (known if all(self._model.knows(w) for w in words) else unknown).append(phrase)
        real_words = [p for p in known if p != UNKNOWN_WORD]
        if not real_words:
            raise AsrUnavailable(
                f"the Vosk model at {self._model.path} knows none of the grammar words "
                f"({', '.join(grammar[:5])}...): is it a model of the right language? {MODEL_HINT}"
            )
        unknown_words = [p for p in unknown if p != UNKNOWN_WORD]
        if unknown_words:
            log.warning(
                "Vosk model %s does not know %d grammar words, they cannot be heard: %s",
                self._model.path,
                len(unknown_words),
                ", ".join(unknown_words),
            )
        return tuple(known)

    def stream(self, sample_rate: int | None = None) -> RecognitionStream:
        """A new utterance (blocking: builds the decoder, ~30 ms with a grammar). Vosk adapts
        any sample rate to the model's; telephone audio is 8 kHz."""
        rate = sample_rate or self.sample_rate
        if self._grammar_json is None:
            recognizer = vosk.KaldiRecognizer(self._model.handle, rate)
        else:
            recognizer = vosk.KaldiRecognizer(self._model.handle, rate, self._grammar_json)
        return RecognitionStream(recognizer)

    def recognise_pcm(
        self, pcm: bytes, *, sample_rate: int | None = None, chunk_bytes: int = 3200
    ) -> Recognition:
        """Blocking: a whole 16-bit mono PCM buffer (at this recogniser's rate unless given),
        fed in chunks as a stream would be."""
        stream = self.stream(sample_rate)
        for offset in range(0, len(pcm), chunk_bytes):
            stream.accept(pcm[offset : offset + chunk_bytes])
        return stream.finish()

    def recognise_file(self, path: Path) -> Recognition:
        """Blocking: a WAV file, e.g. what `RECORD FILE <name> wav` wrote (`<name>.wav`)."""
        pcm, rate = read_pcm(path)
        return self.recognise_pcm(pcm, sample_rate=rate)

    async def recognise_file_async(self, path: Path) -> Recognition:
        return await asyncio.to_thread(self.recognise_file, path)

    async def recognise_stream(self, chunks: AsyncIterable[bytes]) -> Recognition:
        """Audio arriving in chunks (16-bit mono at this recogniser's rate), e.g. from a socket."""
        stream = await asyncio.to_thread(self.stream)
        async for chunk in chunks:
            if chunk:
                await asyncio.to_thread(stream.accept, chunk)
        return await asyncio.to_thread(stream.finish)


def read_pcm(path: Path) -> tuple[bytes, int]:
    """16-bit mono PCM and its sample rate from a WAV file (stereo is mixed down). The bare name
    Asterisk's RECORD FILE was given (without `.wav`) is accepted too."""
    if not path.exists() and Path(f"{path}.wav").exists():
        path = Path(f"{path}.wav")
    try:
        with wave.open(str(path), "rb") as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except FileNotFoundError:
        raise AsrError(f"{path}: no such recording") from None
    except (OSError, wave.Error, EOFError) as exc:
        raise AsrError(f"{path}: not a PCM WAV file ({exc}); record in the `wav` format") from None
    if width != 2:
        raise AsrError(f"{path}: {8 * width}-bit audio; 16-bit PCM is expected")
    if channels == 1:
        return frames, rate
    samples = np.frombuffer(frames, dtype="<i2").reshape(-1, channels)
    return samples.mean(axis=1).astype("<i2").tobytes(), rate


class MeterReadingRecognizer:
    """Hears a meter reading said in Russian words and gives its digits."""

    def __init__(self, model: VoskModel, *, sample_rate: int = TELEPHONE_SAMPLE_RATE) -> None:
        grammar = [*METER_GRAMMAR_RU, UNKNOWN_WORD]
        self.recognizer = SpeechRecognizer(model, grammar=grammar, sample_rate=sample_rate)

    @staticmethod
    def reading(recognition: Recognition) -> MeterReading:
        return MeterReading(recognition.text, words_to_digits(recognition.words))

    async def read_file(self, path: Path) -> MeterReading:
        return self.reading(await self.recognizer.recognise_file_async(path))

    async def read_stream(self, chunks: AsyncIterable[bytes]) -> MeterReading:
        return self.reading(await self.recognizer.recognise_stream(chunks))


async def open_meter_reader(
    model_path: Path | None, *, sample_rate: int = TELEPHONE_SAMPLE_RATE
) -> MeterReadingRecognizer | None:
    """The meter-reading recogniser, or None (logged once, with the reason) when ASR cannot run:
    the IVR then asks for the reading on the keypad only."""
    try:
        model = await VoskModel.open(model_path)
        return await asyncio.to_thread(MeterReadingRecognizer, model, sample_rate=sample_rate)
    except AsrUnavailable as exc:
        log.warning("meter readings by voice are off, keypad only: %s", exc)
        return None
