"""Text to speech: Russian prompts rendered once into Asterisk-ready WAV files.

pyttsx3 drives espeak-ng (through libespeak-ng) with the configured voice and rate; its 22 050 Hz
output is resampled with soxr to what Asterisk plays without transcoding: 8 kHz, 16-bit, mono
WAV. Every rendering goes into a cache directory under a name derived from the spoken text, the
voice settings and the engine version, so each prompt is synthesised once; its duration is known
from the file (the IVR keeps each menu prompt within 15 s).

Blocking work (synthesis, resampling, file writes) runs in a worker thread; espeak-ng is one
engine per process, so syntheses are serialised by a process-wide lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import os
import re
import tempfile
import threading
import wave
import weakref
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import soxr

from callcenter.speech.numbers_ru import speakable_text

ASTERISK_SAMPLE_RATE = 8000
MAX_TEXT_CHARS = 2000  # a prompt, not a book: keeps a hostile or mistaken text from tying up TTS
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
SYNTHESIS_TIMEOUT = 30.0  # seconds; espeak-ng renders a prompt in well under one
_FILE_FORMAT = "wav/8000/s16le/mono/v1"  # part of the cache key: change it when the output changes


class TtsError(Exception):
    """A text could not be rendered; the message says why."""


class TtsUnavailable(TtsError):
    """The speech engine cannot run here (espeak-ng missing, unknown voice)."""


@dataclass(frozen=True)
class RenderedPrompt:
    """An Asterisk-ready prompt file and how long it takes to say."""

    path: Path
    duration_seconds: float
    asterisk_dir: Path | None = None  # the folder as Asterisk sees it, when not the same

    @property
    def asterisk_name(self) -> str:
        """The name Asterisk's STREAM FILE / Playback take: the path without its extension.

        Always absolute: Asterisk looks a relative name up under its own sounds folder."""
        path = self.path if self.asterisk_dir is None else self.asterisk_dir / self.path.name
        return str(path.absolute().with_suffix(""))


@dataclass(frozen=True)
class Audio:
    """Mono signed 16-bit little-endian samples."""

    pcm: bytes
    sample_rate: int


class SpeechEngine(Protocol):
    """A blocking synthesiser (called from a worker thread)."""

    def version(self) -> str:
        """Changes whenever the same text and settings may sound different."""
        ...

    def synthesize(self, text: str, *, voice: str, rate: int) -> Audio: ...


# espeak-ng keeps one global state per process (pyttsx3 initialises it once): one engine, used by
# one thread at a time.
_ESPEAK_LOCK = threading.Lock()
_process_engine: _Pyttsx3Espeak | None = None


def _discard_print(*args: object, **kwargs: object) -> None:
    return None


class _Pyttsx3Espeak:
    """The process's pyttsx3 engine on its espeak driver (libespeak-ng). Call under _ESPEAK_LOCK."""

    def __init__(self) -> None:
        try:
            import pyttsx3
            import pyttsx3.drivers._espeak as libespeak
            import pyttsx3.drivers.espeak as espeak_driver

            self._engine: Any = pyttsx3.init("espeak")
        except (ImportError, RuntimeError, OSError) as exc:
            raise TtsUnavailable(
                f"espeak-ng cannot be used ({exc}); install it with `make system-deps` "
                "or `apt-get install espeak-ng`"
            ) from exc
        self._errors: list[BaseException] = []
        self._finished = threading.Event()
        # The driver prints "Audio saved to ..." on stdout after every file; the CLI's stdout is
        # for its own output, so silence that one module's print.
        espeak_driver.print = _discard_print
        # pyttsx3 queues property changes and reports their failures as "error" events instead
        # of raising them (an unknown voice would silently speak English).
        self._engine.connect("error", self._on_error)
        # libespeak-ng synthesises on its own thread: pyttsx3's runAndWait may return before the
        # file is written (seen on the first call of a process: "Error saving WAV file" from the
        # callback after the caller had moved on), so wait for the end-of-utterance event.
        self._engine.connect("finished-utterance", self._on_finished)
        try:
            wrapper = version("pyttsx3")
        except PackageNotFoundError:
            wrapper = "unknown"
        self.version = f"pyttsx3 {wrapper}; espeak-ng {libespeak.Info().decode('ascii', 'replace')}"

    def _on_error(self, exception: BaseException | None = None, **_: object) -> None:
        if exception is not None:
            self._errors.append(exception)

    def _on_finished(self, completed: bool = False, **_: object) -> None:
        if completed:
            self._finished.set()

    def synthesize(self, text: str, *, voice: str, rate: int) -> Audio:
        with tempfile.TemporaryDirectory(prefix="callcenter-tts-") as tmp:
            self._errors.clear()
            self._finished.clear()
            self._engine.setProperty("voice", voice)
            target = Path(tmp) / "speech.wav"
            # The rate goes in-band, as espeak-ng's embedded speed command (words per minute,
            # like pyttsx3's "rate"): a rate set with setProperty reaches espeak-ng's own thread
            # late and is applied to some later utterance instead (seen: 110 and 220 wpm giving
            # the same length). Control characters are removed so no text can embed commands.
            spoken = _CONTROL_CHARS.sub(" ", text)
            self._engine.save_to_file(f"\x01{int(rate)}S{spoken}", str(target))
            self._engine.runAndWait()
            if not self._finished.wait(timeout=SYNTHESIS_TIMEOUT):
                raise TtsError(f"espeak-ng did not finish within {SYNTHESIS_TIMEOUT:.0f} s")
            for error in self._errors:
                if isinstance(error, ValueError) and "voice" in str(error).lower():
                    raise TtsUnavailable(
                        f"espeak-ng has no voice {voice!r} (CALLCENTER_TTS_VOICE); "
                        "`espeak-ng --voices` lists the installed ones"
                    )
                raise TtsError(f"espeak-ng failed: {error}")
            if not target.exists():
                raise TtsError(f"espeak-ng produced no audio for {text[:60]!r}")
            with wave.open(str(target), "rb") as wav:
                return Audio(wav.readframes(wav.getnframes()), wav.getframerate())


def _espeak() -> _Pyttsx3Espeak:
    global _process_engine  # one engine per process, as espeak-ng demands
    if _process_engine is None:
        _process_engine = _Pyttsx3Espeak()
    return _process_engine


class EspeakEngine:
    """pyttsx3 on espeak-ng, rendering to a file rather than a sound card (blocking)."""

    def version(self) -> str:
        with _ESPEAK_LOCK:
            return _espeak().version

    def synthesize(self, text: str, *, voice: str, rate: int) -> Audio:
        with _ESPEAK_LOCK:
            return _espeak().synthesize(text, voice=voice, rate=rate)


_KNOWN_PROMPTS = 4096  # rendered prompts remembered in memory (texts with call data vary)


class PromptRenderer:
    """Renders texts to cached Asterisk-ready WAV files (one synthesis per distinct prompt)."""

    def __init__(
        self,
        cache_dir: Path,
        *,
        voice: str,
        rate: int,
        engine: SpeechEngine | None = None,
        asterisk_dir: Path | None = None,
    ) -> None:
        """`asterisk_dir`: where Asterisk reads the cache's files when it runs on another host
        (a shared mount); None: the cache's own path."""
        self._cache_dir = cache_dir
        self._asterisk_dir = asterisk_dir
        self._voice = voice
        self._rate = rate
        self._engine: SpeechEngine = engine if engine is not None else EspeakEngine()
        self._engine_version: str | None = None
        # one lock per prompt being rendered, so that concurrent requests synthesise it once
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        # prompts already rendered, with the size and mtime their file had then: a menu prompt
        # is asked for on every call, and checking the file again (a thread hop and a WAV
        # header read) was most of an IVR step's turnaround under load
        self._known: dict[tuple[str, bool], tuple[RenderedPrompt, int, int]] = {}

    @property
    def cache_dir(self) -> Path:
        return self._cache_dir

    @staticmethod
    def spoken_text(text: str, *, normalise: bool = True) -> str:
        """What the voice will say: numbers worded, whitespace collapsed."""
        spoken = speakable_text(text) if normalise else text
        return " ".join(spoken.split())

    async def render(self, text: str, *, normalise: bool = True) -> RenderedPrompt:
        """The prompt file for `text`, synthesised now unless it is already in the cache."""
        known = self._known.get((text, normalise))
        if known is not None:
            rendered, size, mtime_ns = known
            try:
                # one stat of a local cache file (no data read): cheaper than the hop to a thread
                facts = os.stat(rendered.path)
            except OSError:
                facts = None
            if facts is not None and (facts.st_size, facts.st_mtime_ns) == (size, mtime_ns):
                return self._for_asterisk(rendered)
            del self._known[(text, normalise)]  # changed or gone: check and render as before
        spoken = self.spoken_text(text, normalise=normalise)
        if not spoken:
            raise TtsError("nothing to say: the text is empty")
        if len(spoken) > MAX_TEXT_CHARS:
            raise TtsError(f"text too long for a prompt: {len(spoken)} > {MAX_TEXT_CHARS} chars")
        if self._engine_version is None:
            self._engine_version = await asyncio.to_thread(self._engine.version)
        key = self._key(spoken, self._engine_version)
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        async with lock:
            rendered, facts = await asyncio.to_thread(self._cached_or_rendered_facts, spoken, key)
        if facts is not None:
            if len(self._known) >= _KNOWN_PROMPTS:
                del self._known[next(iter(self._known))]  # the oldest
            self._known[(text, normalise)] = (rendered, facts.st_size, facts.st_mtime_ns)
        return self._for_asterisk(rendered)

    def _for_asterisk(self, rendered: RenderedPrompt) -> RenderedPrompt:
        if self._asterisk_dir is not None:
            return dataclasses.replace(rendered, asterisk_dir=self._asterisk_dir)
        return rendered

    def _cached_or_rendered_facts(
        self, spoken: str, key: str
    ) -> tuple[RenderedPrompt, os.stat_result | None]:
        rendered = self._cached_or_rendered(spoken, key)
        try:
            return rendered, os.stat(rendered.path)
        except OSError:
            return rendered, None

    def _key(self, spoken: str, engine_version: str) -> str:
        material = json.dumps(
            [spoken, self._voice, self._rate, engine_version, _FILE_FORMAT], ensure_ascii=False
        )
        return hashlib.sha256(material.encode("utf-8")).hexdigest()

    def _cached_or_rendered(self, spoken: str, key: str) -> RenderedPrompt:
        path = self._cache_dir / f"{key}.wav"
        cached = _read_prompt(path)
        if cached is not None:
            return cached
        audio = self._engine.synthesize(spoken, voice=self._voice, rate=self._rate)
        samples = _to_asterisk_rate(audio)
        if samples.size == 0:
            raise TtsError(f"the engine produced no audio for {spoken[:60]!r}")
        self._cache_dir.mkdir(parents=True, exist_ok=True)
        _write_atomically(path, samples)
        return RenderedPrompt(path, samples.size / ASTERISK_SAMPLE_RATE)


def _to_asterisk_rate(audio: Audio) -> np.ndarray[Any, np.dtype[np.int16]]:
    samples = np.frombuffer(audio.pcm, dtype="<i2")
    if audio.sample_rate == ASTERISK_SAMPLE_RATE or samples.size == 0:
        return samples.astype(np.int16)
    resampled = soxr.resample(samples, audio.sample_rate, ASTERISK_SAMPLE_RATE)
    return np.asarray(resampled, dtype=np.int16)


def _read_prompt(path: Path) -> RenderedPrompt | None:
    """A cached prompt, or None when it is missing or unreadable (then it is rendered again)."""
    try:
        with wave.open(str(path), "rb") as wav:
            frames, rate = wav.getnframes(), wav.getframerate()
    except (FileNotFoundError, wave.Error, EOFError):
        return None
    if rate != ASTERISK_SAMPLE_RATE or frames == 0:
        return None
    return RenderedPrompt(path, frames / rate)


def _write_atomically(path: Path, samples: np.ndarray[Any, np.dtype[np.int16]]) -> None:
    """Write the WAV beside its final name and rename it into place: readers (Asterisk, another
    process sharing the cache) never see half a file."""
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as raw, wave.open(raw, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(ASTERISK_SAMPLE_RATE)
            wav.writeframes(samples.astype("<i2").tobytes())
        tmp.chmod(0o644)  # mkstemp makes it 0600; Asterisk runs as another user
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def read_duration(path: Path) -> float:
    """Duration in seconds of a WAV file (any rate), for tools and checks."""
    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getnframes() / wav.getframerate()
    except (OSError, wave.Error, EOFError) as exc:
        raise TtsError(f"{path}: not a readable WAV file ({exc})") from exc
