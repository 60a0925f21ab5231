"""Knowledge-base search text rules for when PostgreSQL full-text search is not there (pure).

The SQLite fallback matches query words by *word prefix* after cutting one common Russian
inflection ending off each query word ("счетчики", "счётчика" -> "счетчик"), so different
forms of a word find each other. It is deliberately crude next to PostgreSQL's Snowball
stemmer ('russian' configuration): no suffix derivation, no stop words, no query syntax
(quotes, "or", "-word" are ignored), but it needs no extension, no migration and no index.
Both backends treat "ё" as "е".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

MIN_STEM = 3
MIN_WORD = 2

# inflection endings of nouns and adjectives, tried longest first; only one is cut
_ENDINGS = tuple(
    sorted(
        {
            "иями", "ями", "ами", "ией", "ием", "иях", "ого", "его", "ому", "ему", "ыми", "ими",
            "ях", "ах", "ов", "ев", "ей", "ой", "ий", "ый", "ая", "яя", "ое", "ее", "ие", "ые",
            "ом", "ем", "ам", "ям", "ию", "ия", "ии", "ье", "ья", "ью", "ьи", "ую", "юю", "ых",
            "их", "ым", "им",
            "а", "я", "о", "е", "ы", "и", "у", "ю", "ь", "й",
        },
        key=len,
        reverse=True,
    )
)  # fmt: skip

_WORD = re.compile(r"\w+", re.UNICODE)

TITLE_WEIGHT = 3


def normalise(text: str) -> str:
    return text.casefold().replace("ё", "е")


def words(text: str) -> list[str]:
    """Searchable words of a query: case-folded, "ё" as "е", punctuation dropped."""
    return [w for w in _WORD.findall(normalise(text)) if len(w) >= MIN_WORD]


def stem(word: str) -> str:
    """Cut one inflection ending when at least MIN_STEM letters remain."""
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= MIN_STEM:
            return word[: -len(ending)]
    return word


def query_stems(query: str) -> list[str]:
    """The distinct stems of a query, in order."""
    return list(dict.fromkeys(stem(w) for w in words(query)))


def _prefix_pattern(stem_: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(stem_), re.UNICODE)


@dataclass(frozen=True, slots=True)
class Match:
    score: float


def match(stems: Sequence[str], title: str, text: str) -> Match | None:
    """None unless every stem starts a word of the title or text; else a score where title
    hits weigh TITLE_WEIGHT times a hit in the text."""
    if not stems:
        return None
    title_n = normalise(title)
    text_n = normalise(text)
    score = 0.0
    for s in stems:
        pattern = _prefix_pattern(s)
        title_hits = len(pattern.findall(title_n))
        text_hits = len(pattern.findall(text_n))
        if not title_hits and not text_hits:
            return None
        score += TITLE_WEIGHT * title_hits + text_hits
    return Match(score=score)


def snippet(stems: Sequence[str], body: str, *, width: int = 200) -> str:
    """The part of `body` around the first word a stem matches (the body's start if none)."""
    body_n = normalise(body)  # same length as body: casefold of Cyrillic/Latin keeps lengths
    first = None
    for s in stems:
        found = _prefix_pattern(s).search(body_n)
        if found is not None and (first is None or found.start() < first):
            first = found.start()
    if len(body_n) != len(body):  # exotic case folding changed lengths: positions are off
        first = None
    start = 0 if first is None else max(0, first - width // 4)
    piece = body[start : start + width].strip()
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + width < len(body) else ""
    return f"{prefix}{piece}{suffix}"
