"""Helpers shared by CLI commands: settings loading with one-line errors, logging."""

from __future__ import annotations

import sys
from typing import NoReturn

from callcenter import log_setup, logsafe
from callcenter.config import Settings, SettingsError, load_settings


def fail(message: str, code: int = 2) -> NoReturn:
    print(f"callcenter: error: {message}", file=sys.stderr)
    raise SystemExit(code)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        fail(str(exc))


def setup_logging(level: str, *, fmt: str = "text", personal_data: bool = False) -> None:
    logsafe.install()  # caller IDs, AGI script names, user names: escaped, never raw
    log_setup.configure(level, fmt=fmt, personal_data=personal_data)
