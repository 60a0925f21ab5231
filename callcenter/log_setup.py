"""Log output: one line per event, text for people or JSON for machines
(`CALLCENTER_LOG_FORMAT`), the call id on every line that concerns a call, and phone numbers
masked unless `CALLCENTER_LOG_PERSONAL_DATA` says otherwise.
"""

from __future__ import annotations

import logging
import re
import sys

from pythonjsonlogger.json import JsonFormatter

from callcenter.ports.call_context import CALL_ID

TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(call_id)s]: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(call_id)s %(message)s"

# a phone number as it appears in our logs: +79157001122, 89157001122, 8 (800) 100-00-00
_PHONE = re.compile(r"(?<![\w.])\+?\d(?:[\s()\-]?\d){6,14}(?![\w.])")


def mask_phone(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return f"{'+' if match.group(0).startswith('+') else ''}{'*' * (len(digits) - 2)}{digits[-2:]}"


class CallIdFilter(logging.Filter):
    """Adds `call_id` ("-" outside a call) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.call_id = CALL_ID.get() or "-"
        return True


class PersonalDataFilter(logging.Filter):
    """Masks phone numbers in messages at INFO and above (DEBUG is for a configured hunt)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.INFO:
            message = record.getMessage()
            masked = _PHONE.sub(mask_phone, message)
            if masked != message:
                record.msg, record.args = masked, None
        return True


def configure(level: str, *, fmt: str = "text", personal_data: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(
            JsonFormatter(
                JSON_FIELDS,
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                json_ensure_ascii=False,
            )
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    handler.addFilter(CallIdFilter())
    if not personal_data:
        handler.addFilter(PersonalDataFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Alembic announces its plugins and context on every revision check; keep its warnings only.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLevelName(level)))
