"""Render `asterisk_conf/` into a ready Asterisk configuration directory.

The shipped files hold `@@NAME@@` placeholders; Asterisk's own `${NAME}` syntax is left
alone, so the two never clash. Rendering fills every placeholder from `AsteriskConfValues`,
refuses values that would break the file they land in (a `;` starts a comment, a newline a
new setting), fails when a placeholder is left unfilled, and writes the music-on-hold file
that res_musiconhold needs at load time (without one it disables itself until reloaded).

    values, generated = values_from_settings(settings)
    written = render_conf(values, Path("/etc/asterisk"))
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import os
import re
import secrets
import string
import sys
import wave
from array import array
from collections.abc import Mapping
from pathlib import Path

from callcenter.config import Settings
from callcenter.domain.acd import CALLBACK_DIGIT
from callcenter.domain.dialplan import SHIPPED_CONF_DIR

__all__ = [
    "DEFAULT_SOURCE_DIR",
    "HOLD_FILE",
    "NOTICE_FILE",
    "AsteriskConfValues",
    "ConfRenderError",
    "render_conf",
    "values_from_settings",
    "write_hold_tone",
]

DEFAULT_SOURCE_DIR = SHIPPED_CONF_DIR
HOLD_FILE = Path("moh") / "callcenter-hold.wav"
# Played by the dialplan when the IVR cannot run (extensions.conf, CC_NOTICE); optional.
NOTICE_FILE = Path("sounds") / "recording-notice.wav"
DEFAULT_EVENTS_USERNAME = "callcenter-events"
DEFAULT_SIP_BIND = "0.0.0.0:5060"

# Where Asterisk keeps its state when no runtime directory is given (the usual packaging).
SYSTEM_DIRS: Mapping[str, str] = {
    "SPOOL_DIR": "/var/spool/asterisk",
    "RUN_DIR": "/var/run/asterisk",
    "LOG_DIR": "/var/log/asterisk",
    "DB_DIR": "/var/lib/asterisk",
    "CACHE_DIR": "/var/cache/asterisk",
}
# The same directories under --runtime-dir, for an unprivileged Asterisk (tests, laptops).
RUNTIME_SUBDIRS: Mapping[str, str] = {
    "SPOOL_DIR": "spool",
    "RUN_DIR": "run",
    "LOG_DIR": "log",
    "DB_DIR": "lib",
    "CACHE_DIR": "cache",
}
# Files holding secrets are not world-readable.
SECRET_FILES = frozenset({"manager.conf", "voicemail.conf"})

_PLACEHOLDER = re.compile(r"@@([A-Z0-9_]+)@@")
_PATH = re.compile(r"/[A-Za-z0-9_./-]*")
_USERNAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_HOSTNAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,252})")
# Printable ASCII without spaces, `;` (starts a comment), `$` and `\` (escapes elsewhere).
_SECRET_CHARS = frozenset(string.printable[:94]) - {";", "$", "\\"}
_MIN_SECRET = 12
_QUEUE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SIP_BIND = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(?P<port>[0-9]{1,5})")


class ConfRenderError(ValueError):
    """The configuration cannot be rendered; the message names the value and the problem."""


@dataclasses.dataclass(frozen=True)
class AsteriskConfValues:
    """Everything the shipped files leave open, one field per placeholder family."""

    inbound_number: str  # the 8-800 number as the trunk delivers it, e.g. 88001000000
    agi_host: str  # where Asterisk reaches the platform's FastAGI server
    agi_port: int
    recordings_dir: Path  # absolute; MixMonitor writes <dir>/YYYY/MM/DD/<call uuid>.wav
    ami_port: int
    ami_username: str  # the platform's AMI user (actions and events)
    ami_secret: str
    ami_events_username: str  # a read-only AMI user
    ami_events_secret: str
    voicemail_pin: str
    sip_bind: str = DEFAULT_SIP_BIND  # PJSIP UDP transport, host:port
    runtime_dir: Path | None = None  # None: Asterisk's usual /var directories
    failover_queue: str = "line1"  # CALLCENTER_AGI_FAILOVER_QUEUE: when the IVR cannot run
    callback_digit: str = CALLBACK_DIGIT  # the key a waiting caller books a callback with


def render_conf(
    values: AsteriskConfValues,
    out_dir: Path,
    *,
    source_dir: Path = DEFAULT_SOURCE_DIR,
) -> list[Path]:
    """Write the filled-in copy of `source_dir`'s *.conf files into `out_dir`.

    Also writes the hold-music file and, with a runtime directory, creates the directories
    Asterisk writes to. Returns the written files, sorted. Files already in `out_dir` that
    are not rendered (a site's pjsip_site.conf, say) are left as they are.
    """
    source_dir = source_dir.resolve()
    out_dir = out_dir.resolve()
    if not source_dir.is_dir():
        raise ConfRenderError(f"{source_dir}: no such configuration directory to render")
    if out_dir == source_dir:
        raise ConfRenderError(f"{out_dir}: refusing to render over the shipped files")
    templates = sorted(source_dir.glob("*.conf"))
    if not templates:
        raise ConfRenderError(f"{source_dir}: no *.conf files to render")

    mapping = _placeholder_values(values, out_dir)
    rendered = {
        path.name: _fill(path.name, path.read_text(encoding="utf-8"), mapping) for path in templates
    }

    out_dir.mkdir(parents=True, exist_ok=True)
    written = [
        _write(out_dir / name, text, secret=name in SECRET_FILES) for name, text in rendered.items()
    ]
    hold = out_dir / HOLD_FILE
    hold.parent.mkdir(parents=True, exist_ok=True)
    write_hold_tone(hold)
    written.append(hold)
    (out_dir / NOTICE_FILE).parent.mkdir(parents=True, exist_ok=True)
    if values.runtime_dir is not None:
        for key in RUNTIME_SUBDIRS:
            Path(mapping[key]).mkdir(parents=True, exist_ok=True)
    return sorted(written)


def values_from_settings(
    settings: Settings,
    *,
    events_username: str = DEFAULT_EVENTS_USERNAME,
    events_secret: str = "",
    sip_bind: str = DEFAULT_SIP_BIND,
    runtime_dir: Path | None = None,
) -> tuple[AsteriskConfValues, dict[str, str]]:
    """Values from the platform's settings; secrets that are not set are generated.

    Returns the values and the generated secrets by environment variable name, so that the
    caller can show them once (the platform needs the AMI secret to log in).
    """
    generated: dict[str, str] = {}
    ami_secret = settings.ami_secret.get_secret_value()
    if not ami_secret:
        ami_secret = generated["CALLCENTER_AMI_SECRET"] = _new_secret()
    if not events_secret:
        events_secret = generated["CALLCENTER_AMI_EVENTS_SECRET"] = _new_secret()
    values = AsteriskConfValues(
        inbound_number=settings.inbound_number,
        agi_host=_connect_address(settings.agi_host),
        agi_port=settings.agi_port,
        recordings_dir=settings.recordings_dir.resolve(),
        ami_port=settings.ami_port,
        ami_username=settings.ami_username,
        ami_secret=ami_secret,
        ami_events_username=events_username,
        ami_events_secret=events_secret,
        voicemail_pin="".join(secrets.choice(string.digits) for _ in range(8)),
        sip_bind=sip_bind,
        runtime_dir=runtime_dir.resolve() if runtime_dir is not None else None,
        failover_queue=settings.agi_failover_queue,
    )
    return values, generated


def write_hold_tone(path: Path, *, seconds: float = 6.0) -> None:
    """A soft repeating chime as 8 kHz 16-bit mono WAV: what Asterisk plays without transcoding."""
    rate = 8000
    notes = (523.25, 659.25, 783.99, 659.25)  # C5 E5 G5 E5
    note_len = 0.5
    cycle = len(notes) * note_len * 1.5  # the arpeggio, then a rest half as long
    samples = array("h")
    for i in range(int(seconds * rate)):
        t = i / rate
        index, within = divmod(t % cycle, note_len)
        if index >= len(notes):
            samples.append(0)
            continue
        envelope = math.sin(math.pi * within / note_len) ** 2  # no clicks at note edges
        samples.append(int(4000 * envelope * math.sin(2 * math.pi * notes[int(index)] * t)))
    if sys.byteorder == "big":  # WAV data is little-endian
        samples.byteswap()
    tmp = path.with_name(path.name + ".tmp")
    with wave.open(str(tmp), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    os.replace(tmp, path)


# --- placeholders ---------------------------------------------------------------------


def _placeholder_values(values: AsteriskConfValues, out_dir: Path) -> dict[str, str]:
    _check(values)
    if values.runtime_dir is None:
        dirs = dict(SYSTEM_DIRS)
    else:
        dirs = {key: str(values.runtime_dir / sub) for key, sub in RUNTIME_SUBDIRS.items()}
    mapping = {
        "CONF_DIR": str(out_dir),
        "MOH_DIR": str(out_dir / HOLD_FILE.parent),
        **dirs,
        "INBOUND_NUMBER": values.inbound_number,
        "AGI_HOST": f"[{values.agi_host}]" if ":" in values.agi_host else values.agi_host,
        "AGI_PORT": str(values.agi_port),
        "RECORDINGS_DIR": str(values.recordings_dir),
        "AMI_PORT": str(values.ami_port),
        "AMI_USERNAME": values.ami_username,
        "AMI_SECRET": values.ami_secret,
        "AMI_EVENTS_USERNAME": values.ami_events_username,
        "AMI_EVENTS_SECRET": values.ami_events_secret,
        "VOICEMAIL_PIN": values.voicemail_pin,
        "SIP_BIND": values.sip_bind,
        "FAILOVER_QUEUE": values.failover_queue,
        "CALLBACK_DIGIT": values.callback_digit,
    }
    for key in ("CONF_DIR", "MOH_DIR", *dirs):
        _require_path(key, mapping[key])
    return mapping


def _fill(name: str, text: str, mapping: Mapping[str, str]) -> str:
    unknown = sorted({m.group(1) for m in _PLACEHOLDER.finditer(text)} - mapping.keys())
    if unknown:
        raise ConfRenderError(f"{name}: no value for placeholder(s) {', '.join(unknown)}")
    filled = _PLACEHOLDER.sub(lambda m: mapping[m.group(1)], text)
    if "@@" in filled:
        line = filled[: filled.index("@@")].count("\n") + 1
        raise ConfRenderError(f"{name}, line {line}: malformed placeholder left after rendering")
    return filled


def _write(path: Path, text: str, *, secret: bool) -> Path:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.chmod(tmp, 0o640 if secret else 0o644)
    os.replace(tmp, path)
    return path


# --- validation -----------------------------------------------------------------------


def _check(values: AsteriskConfValues) -> None:
    if not (values.inbound_number.isdigit() and len(values.inbound_number) <= 20):
        raise ConfRenderError(
            f"INBOUND_NUMBER: {values.inbound_number!r} must be digits only, e.g. 88001000000"
        )
    _require_host("AGI_HOST", values.agi_host)
    if _is_wildcard(values.agi_host):
        raise ConfRenderError(
            f"AGI_HOST: {values.agi_host!r} is a listen-everywhere address; Asterisk needs an "
            "address to connect to, e.g. 127.0.0.1"
        )
    _require_port("AGI_PORT", values.agi_port)
    _require_port("AMI_PORT", values.ami_port)
    _require_path("RECORDINGS_DIR", str(values.recordings_dir))
    if values.runtime_dir is not None:
        _require_path("runtime directory", str(values.runtime_dir))
    for key, name in (
        ("AMI_USERNAME", values.ami_username),
        ("AMI_EVENTS_USERNAME", values.ami_events_username),
    ):
        if not _USERNAME.fullmatch(name) or name.lower() == "general":
            raise ConfRenderError(
                f"{key}: {name!r} must be 1-64 letters, digits, '.', '_' or '-' (not 'general')"
            )
    if values.ami_username.lower() == values.ami_events_username.lower():
        raise ConfRenderError("AMI_USERNAME and AMI_EVENTS_USERNAME must differ")
    _require_secret("AMI_SECRET", values.ami_secret)
    _require_secret("AMI_EVENTS_SECRET", values.ami_events_secret)
    if not (values.voicemail_pin.isdigit() and 4 <= len(values.voicemail_pin) <= 16):
        raise ConfRenderError("VOICEMAIL_PIN must be 4-16 digits")
    if not _QUEUE.fullmatch(values.failover_queue):
        raise ConfRenderError(
            f"FAILOVER_QUEUE: {values.failover_queue!r} must be a queue name "
            "(letters, digits, '-' or '_')"
        )
    if not (len(values.callback_digit) == 1 and values.callback_digit.isdigit()):
        raise ConfRenderError(f"CALLBACK_DIGIT: {values.callback_digit!r} must be one digit")
    bind = _SIP_BIND.fullmatch(values.sip_bind)
    if bind is None:
        raise ConfRenderError(f"SIP_BIND: {values.sip_bind!r} must be host:port, e.g. 0.0.0.0:5060")
    _require_port("SIP_BIND", int(bind.group("port")))


def _require_port(key: str, port: int) -> None:
    if not 1 <= port <= 65535:
        raise ConfRenderError(
            f"{key}: {port} is not a port Asterisk can use (1-65535; 0 picks a random port, "
            "which a configuration file cannot name)"
        )


def _require_path(key: str, value: str) -> None:
    if not _PATH.fullmatch(value):
        raise ConfRenderError(
            f"{key}: {value!r} must be an absolute path of letters, digits and . _ - / only "
            "(other characters change the meaning of a dialplan line)"
        )


def _require_host(key: str, host: str) -> None:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not _HOSTNAME.fullmatch(host):
            raise ConfRenderError(
                f"{key}: {host!r} is neither an IP address nor a host name"
            ) from None


def _require_secret(key: str, secret: str) -> None:
    bad = sorted(set(secret) - _SECRET_CHARS)
    if bad:
        raise ConfRenderError(
            f"{key}: contains characters a configuration file cannot hold: {''.join(bad)!r} "
            "(use printable ASCII without spaces, ';', '$' or '\\')"
        )
    if len(secret) < _MIN_SECRET:
        raise ConfRenderError(f"{key}: too short, use at least {_MIN_SECRET} characters")
    if "@@" in secret:
        raise ConfRenderError(f"{key}: must not contain '@@'")


def _is_wildcard(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def _connect_address(listen_host: str) -> str:
    """The address Asterisk connects to for a server listening on `listen_host`."""
    if not _is_wildcard(listen_host):
        return listen_host
    return "::1" if ipaddress.ip_address(listen_host).version == 6 else "127.0.0.1"


def _new_secret() -> str:
    return secrets.token_urlsafe(24)
