"""The AGI environment: the `agi_*: value` lines Asterisk sends before the first command.

Reading is bounded (bytes and lines) because anything can connect to the AGI port, and the
caller-id fields come from the calling party, so they are kept raw but also offered in a
sanitised form that is safe to look customers up by.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from urllib.parse import parse_qsl, urlsplit

from callcenter.asterisk.agi_protocol import clean
from callcenter.pbx.agi_errors import AgiProtocolError

MAX_ENVIRONMENT_BYTES = 64 * 1024  # a real one is ~600 bytes plus the AGI() arguments
MAX_ENVIRONMENT_LINES = 200  # 22 fixed lines plus agi_arg_N (Asterisk allows 127 args)
MAX_CALLERID_DIGITS = 20  # E.164 is at most 15 digits; leave room for trunk prefixes
MAX_CALLERID_NAME = 64

_KEY = re.compile(r"agi_[a-z0-9_]+")
_ARG_KEY = re.compile(r"agi_arg_(\d{1,3})")
# A number as carriers write it: digits with optional separators and one leading "+".
_PHONE = re.compile(r"\+?[0-9][0-9 ().-]*")
_NOT_SET = "unknown"  # what Asterisk sends for an absent caller number / name


def sanitise_callerid(raw: str) -> str:
    """Digits (with a leading + if the raw number had one), or "" when it is not a number.

    Anything that is not plainly a phone number (a SIP URI, letters, too many digits) gives ""
    rather than a digit soup, so it can never match some other customer's number.
    """
    text = raw.strip()
    if not _PHONE.fullmatch(text):
        return ""
    digits = "".join(ch for ch in text if "0" <= ch <= "9")
    if len(digits) > MAX_CALLERID_DIGITS:
        return ""
    return ("+" if text.startswith("+") else "") + digits


def sanitise_callerid_name(raw: str) -> str:
    """Printable, single-spaced, bounded display name; "" when Asterisk had none."""
    text = " ".join(clean(raw).split())
    if text == _NOT_SET:
        return ""
    return text[:MAX_CALLERID_NAME]


@dataclass(frozen=True, slots=True)
class AgiEnvironment:
    """Typed view of the AGI environment; `variables` keeps every `agi_*` line as sent."""

    variables: Mapping[str, str]
    request: str  # agi_request, e.g. "agi://127.0.0.1:4573/ivr?lang=ru"
    script: str  # request path without slashes or query: "ivr", "dialer"
    query: Mapping[str, str]  # query arguments of the request (first value of each)
    args: tuple[str, ...]  # agi_arg_1, agi_arg_2, ... in order
    channel: str
    uniqueid: str
    language: str
    context: str
    extension: str
    priority: str
    callerid_raw: str  # untrusted, exactly as sent
    calleridname_raw: str  # untrusted, exactly as sent

    @property
    def callerid(self) -> str:
        """Sanitised caller number: digits with an optional leading +, or ""."""
        return sanitise_callerid(self.callerid_raw)

    @property
    def calleridname(self) -> str:
        """Sanitised caller name (printable, at most 64 characters), or ""."""
        return sanitise_callerid_name(self.calleridname_raw)

    def get(self, key: str, default: str = "") -> str:
        """Any environment value by name, with or without the `agi_` prefix."""
        name = key if key.startswith("agi_") else f"agi_{key}"
        return self.variables.get(name, default)


def _script_and_query(request: str, network_script: str) -> tuple[str, dict[str, str]]:
    target = request if "://" in request else network_script
    if "://" in target:
        parts = urlsplit(target)
        path, query = parts.path, parts.query
    else:
        path, _, query = target.partition("?")
    pairs = parse_qsl(query, keep_blank_values=True)
    first: dict[str, str] = {}
    for key, value in pairs:
        first.setdefault(key, value)
    return path.strip("/"), first


def parse_environment(lines: Sequence[str]) -> AgiEnvironment:
    """Build the environment from its lines (without newlines or the closing blank line).

    The first occurrence of a key wins: Asterisk sends agi_request before any caller-supplied
    value, so a forged `agi_request` inside a caller name cannot redirect the session.
    """
    variables: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.partition(":")
        key = key.strip()
        if not sep or not _KEY.fullmatch(key):
            continue
        variables.setdefault(key, value.removeprefix(" "))
    if "agi_request" not in variables and "agi_network_script" not in variables:
        raise AgiProtocolError("AGI environment has neither agi_request nor agi_network_script")
    numbered = sorted(
        (int(m[1]), value) for key, value in variables.items() if (m := _ARG_KEY.fullmatch(key))
    )
    request = variables.get("agi_request", "")
    script, query = _script_and_query(request, variables.get("agi_network_script", ""))
    return AgiEnvironment(
        variables=MappingProxyType(variables),
        request=request,
        script=script,
        query=MappingProxyType(query),
        args=tuple(value for _, value in numbered),
        channel=variables.get("agi_channel", ""),
        uniqueid=variables.get("agi_uniqueid", ""),
        language=variables.get("agi_language", ""),
        context=variables.get("agi_context", ""),
        extension=variables.get("agi_extension", ""),
        priority=variables.get("agi_priority", ""),
        callerid_raw=variables.get("agi_callerid", ""),
        calleridname_raw=variables.get("agi_calleridname", ""),
    )


async def read_environment(
    reader: asyncio.StreamReader,
    *,
    max_bytes: int = MAX_ENVIRONMENT_BYTES,
    max_lines: int = MAX_ENVIRONMENT_LINES,
) -> AgiEnvironment:
    """Read lines up to the blank line; AgiProtocolError on EOF, overlong or oversized input.

    The caller bounds the time this may take (a peer sending a byte a second).
    """
    lines: list[str] = []
    total = 0
    while True:
        try:
            raw = await reader.readline()
        except ValueError:  # the StreamReader's line limit was exceeded
            raise AgiProtocolError("AGI environment line too long") from None
        if not raw.endswith(b"\n"):
            raise AgiProtocolError("connection closed before the end of the AGI environment")
        total += len(raw)
        if total > max_bytes:
            raise AgiProtocolError(f"AGI environment larger than {max_bytes} bytes")
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if not line:
            return parse_environment(lines)
        if len(lines) >= max_lines:
            raise AgiProtocolError(f"AGI environment longer than {max_lines} lines")
        lines.append(line)
