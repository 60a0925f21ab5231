"""How long prompts take to play, so simulated playback lasts as long as the real one.

A prompt that exists as a WAV file (absolute path, or under one of the sound folders) plays
for the file's real length; Asterisk's own core sounds used by the lab have their measured
lengths (hello-world is 11360 samples, as `endpos=11360` in the transcripts shows); anything
else plays for `default_seconds`.

A file that real Asterisk could not open is missing here too (`exists`): an absolute path
with no file behind it, or a relative name in a folder that is neither one of Asterisk's core
sound folders nor found under the library's folders (Asterisk resolves a relative name under
its own sounds directory, so `var/prompts/x` is not the platform's `var/prompts/x.wav`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from callcenter.sim.wav import SAMPLE_RATE, wav_duration

# Measured from the transcripts (AGIExecStart -> AGIExecEnd) and Asterisk's en core sounds.
KNOWN_SECONDS: dict[str, float] = {
    "hello-world": 1.42,
    "beep": 0.445,
    "vm-intro": 2.8,
    "queue-thankyou": 1.6,
    "queue-youarenext": 1.3,
    "queue-thereare": 0.9,
    "queue-callswaiting": 1.2,
    "queue-holdtime": 1.7,
    "queue-minutes": 0.6,
    "digits/hundred": 0.7,
    "digits/thousand": 0.8,
    "digits/million": 0.8,
    "digits/minus": 0.5,
    "digits/star": 0.6,
    "digits/pound": 0.6,
}
# Folders of Asterisk's core sounds: names under them are taken as installed.
CORE_FOLDERS = frozenset(
    {"digits", "silence", "letters", "phonetic", "dictate", "followme", "ha", "queue-", "vm"}
)
DIGIT_SECONDS = 0.841  # digits/0 .. digits/19
TENS_SECONDS = 0.881  # digits/20 .. digits/90


class SoundLibrary:
    def __init__(self, dirs: Iterable[Path] = (), default_seconds: float = 1.5) -> None:
        self.dirs = [Path(d) for d in dirs]
        self.default_seconds = default_seconds
        self._cache: dict[str, float] = {}

    def seconds(self, name: str) -> float:
        """Playback length of one sound (Asterisk names carry no extension)."""
        cached = self._cache.get(name)
        if cached is not None:
            return cached
        value = self._measure(name)
        self._cache[name] = value
        return value

    def exists(self, name: str) -> bool:
        """Whether Asterisk would find this sound (see the module's note)."""
        path = Path(name)
        if path.is_absolute():
            return self._find_file(name) is not None
        if len(path.parts) > 1 and path.parts[0] not in CORE_FOLDERS:
            return self._find_file(name) is not None
        return True

    def total(self, names: Sequence[str]) -> float:
        return sum(self.seconds(n) for n in names)

    def samples(self, name: str) -> int:
        return round(self.seconds(name) * SAMPLE_RATE)

    def _measure(self, name: str) -> float:
        found = self._find_file(name)
        if found is not None:
            try:
                return wav_duration(found)
            except (OSError, EOFError, ValueError):
                pass  # unreadable file: fall back to the table / default
        if name in KNOWN_SECONDS:
            return KNOWN_SECONDS[name]
        if name.startswith("silence/"):
            tail = name.removeprefix("silence/")
            if tail.isdigit():
                return float(tail)
        if name.startswith("digits/"):
            tail = name.removeprefix("digits/")
            if tail.isdigit():
                return DIGIT_SECONDS if int(tail) < 20 else TENS_SECONDS
        return self.default_seconds

    def _find_file(self, name: str) -> Path | None:
        candidates: list[Path] = []
        path = Path(name)
        names = [path] if path.suffix.lower() == ".wav" else [path.with_name(path.name + ".wav")]
        for candidate in names:
            if candidate.is_absolute():
                candidates.append(candidate)
            else:
                candidates.extend(d / candidate for d in self.dirs)
        for candidate in candidates:
            if candidate.is_file():
                return candidate
        return None


def digit_files(digits: str) -> list[str]:
    """Files SAY DIGITS plays for a digit string."""
    names = {"*": "digits/star", "#": "digits/pound", "-": "digits/minus"}
    return [names.get(ch, f"digits/{ch}") for ch in digits if ch.isdigit() or ch in names]


def number_files(number: int) -> list[str]:
    """Files SAY NUMBER plays in English (Asterisk's ast_say_number_full_en)."""
    if number == 0:
        return ["digits/0"]
    files: list[str] = []
    if number < 0:
        files.append("digits/minus")
        number = -number
    for size, word in ((1_000_000, "digits/million"), (1000, "digits/thousand")):
        if number >= size:
            files.extend(number_files(number // size))
            files.append(word)
            number %= size
    if number >= 100:
        files.extend([f"digits/{number // 100}", "digits/hundred"])
        number %= 100
    if number >= 20:
        files.append(f"digits/{number - number % 10}")
        number %= 10
    if number:
        files.append(f"digits/{number}")
    return files
