"""Small text helpers shared by dialplan applications."""

from __future__ import annotations


def split_args(data: str) -> list[str]:
    """Application arguments: `Queue(line1,t,,,60)` -> ['line1', 't', '', '', '60']."""
    return [part.strip() for part in data.split(",")] if data else []
