"""Helpers shared by CLI commands: settings loading with one-line errors, logging."""

from __future__ import annotations

import logging
import sys
from typing import NoReturn

from callcenter import logsafe
from callcenter.config import Settings, SettingsError, load_settings


def fail(message: str, code: int = 2) -> NoReturn:
    print(f"callcenter: error: {message}", file=sys.stderr)
    raise SystemExit(code)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        fail(str(exc))


def setup_logging(level: str) -> None:
    logsafe.install()  # caller IDs, AGI script names, user names: escaped, never raw
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # Alembic announces its plugins and context on every revision check; keep its warnings only.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLevelName(level)))
