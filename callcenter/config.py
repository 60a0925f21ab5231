"""Settings: every knob of the platform, read from `CALLCENTER_*` environment variables.

Each field here has a row in the README's settings table (a test keeps the two in step).
"""

from __future__ import annotations

import ipaddress
import os
import re
from datetime import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from callcenter.domain import dialplan

ENV_PREFIX = "CALLCENTER_"
DEV_JWT_SECRET = "dev-only-insecure-jwt-secret-change-me"  # refused in production
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/callcenter.sqlite3"
_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")

# Drivers we ship; a plain `postgresql://` or `sqlite://` URL is mapped to the async one.
_ASYNC_DRIVERS = {
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
}


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


def normalise_database_url(raw: str) -> str:
    """Return the async SQLAlchemy URL for `raw`, or raise ValueError saying what is wrong."""
    try:
        url: URL = make_url(raw)
    except ArgumentError:
        raise ValueError(
            "not a database URL; expected e.g. postgresql+asyncpg://user@host/db "
            "or sqlite+aiosqlite:///var/callcenter.sqlite3"
        ) from None
    driver = _ASYNC_DRIVERS.get(url.drivername)
    if driver is None:
        raise ValueError(
            f"unsupported database driver {url.drivername!r}; use PostgreSQL (asyncpg) or SQLite"
        )
    url = url.set(drivername=driver)
    if driver.startswith("sqlite") and not url.database:
        raise ValueError("SQLite URL needs a file path, e.g. sqlite+aiosqlite:///var/cc.sqlite3")
    return url.render_as_string(hide_password=False)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", validate_default=True, frozen=True
    )

    environment: Environment = Environment.DEVELOPMENT
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    log_personal_data: bool = False

    database_url: str = DEFAULT_DATABASE_URL

    ami_host: str = ""
    ami_port: int = Field(default=5038, ge=1, le=65535)
    ami_username: str = "callcenter"
    ami_secret: SecretStr = SecretStr("")
    ami_action_timeout: float = Field(default=10.0, gt=0)
    ami_ping_interval: float = Field(default=10.0, gt=0)
    ami_reconnect_max_delay: float = Field(default=30.0, gt=0)
    ami_event_buffer_size: int = Field(default=10_000, ge=100)

    agi_host: str = "127.0.0.1"
    agi_port: int = Field(default=4573, ge=0, le=65535)
    agi_allowed_networks: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["127.0.0.0/8", "::1/128"]
    )
    agi_session_timeout: float = Field(default=600.0, gt=0)
    agi_reply_timeout: float = Field(default=120.0, gt=0)
    agi_max_sessions: int = Field(default=1000, gt=0)
    agi_failover_queue: str = dialplan.FIRST_LINE_QUEUE

    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=0, le=65535)
    # the telephony role has no HTTP API: it serves /metrics and the /health probes on this
    # port (0: not served)
    metrics_port: int = Field(default=0, ge=0, le=65535)
    # readiness: a telephony node whose journal lags more than this is not ready
    health_max_journal_lag_seconds: float = Field(default=30.0, gt=0)
    # `serve --role api` lowers its own CPU priority by this much (nice): callers first
    api_nice: int = Field(default=5, ge=0, le=19)
    http_trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    http_max_body_bytes: int = Field(default=1024 * 1024, ge=1024)

    signin_max_failures: int = Field(default=5, gt=0)
    signin_address_max_failures: int = Field(default=20, gt=0)
    signin_lockout_seconds: float = Field(default=300.0, gt=0)
    # npm packages of the pages (Chart.js, Swagger UI, ReDoc), installed by `make install`
    web_assets_dir: Path = Path("node_modules")

    node_name: str = Field(default="", max_length=64)
    site: str = Field(default="main", min_length=1, max_length=64)
    request_timeout: float = Field(default=10.0, gt=0)

    recordings_dir: Path = Path("recordings")
    recordings_archive_dir: Path | None = None
    recordings_rules_file: Path | None = None
    recordings_retention_days: int = Field(default=1095, gt=0)
    recordings_archive_after_days: int = Field(default=30, gt=0)
    recordings_min_free_ratio: float = Field(default=0.10, ge=0, lt=1)
    recordings_min_free_bytes: int = Field(default=512 * 1024 * 1024, ge=0)
    recordings_export_max_bytes: int = Field(default=256 * 1024 * 1024, gt=0)
    recordings_sweep_interval: float = Field(default=300.0, gt=0)
    flows_dir: Path = Path("ivr_flows")
    # Asterisk resolves a relative sound name under its own sounds folder, so the platform
    # always hands out absolute paths: a relative setting is made absolute at start.
    prompts_cache_dir: Path = Path("var/prompts")
    # Where Asterisk reads the same files when it runs on another host (a shared mount);
    # None: the same path as prompts_cache_dir (Asterisk on this host).
    prompts_asterisk_dir: Path | None = None
    inbound_number: str = "88001000000"
    local_timezone: str = "Europe/Moscow"
    # ACD rules (callcenter.acd.service.AcdSettings)
    acd_wrap_up_seconds: float = Field(default=300.0, ge=0, le=3600)
    acd_max_missed_rings: int = Field(default=2, ge=0, le=20)
    acd_overflow_wait_seconds: float = Field(default=120.0, gt=0, le=3600)
    acd_overflow_all_busy_seconds: float = Field(default=60.0, gt=0, le=3600)
    acd_surge_factor: float = Field(default=3.0, gt=1, le=100)
    acd_surge_min_calls: int = Field(default=30, ge=1)
    acd_auto_emergency: bool = True
    acd_callback_enabled: bool = True
    acd_callback_offer_after_seconds: float = Field(default=60.0, ge=0, le=3600)
    acd_callback_max_attempts: int = Field(default=3, ge=1, le=10)
    acd_callback_retry_seconds: float = Field(default=120.0, gt=0, le=86400)

    admin_username: str = ""
    admin_password: SecretStr = SecretStr("")
    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    jwt_expire_minutes: int = Field(default=480, gt=0)

    tts_voice: str = "ru"
    tts_rate: int = Field(default=150, gt=0)
    vosk_model_path: Path | None = None

    demo_traffic: bool = True
    demo_wrap_up_seconds: float = Field(default=15.0, ge=0, le=600)

    flows_default: str = "main"
    flows_watch: bool = True
    ivr_lookup_timeout: float = Field(default=5.0, gt=0)

    dialer_channel: str = "Local/{national}@outbound"
    dialer_caller_id_name: str = "Energo"
    dialer_max_channels: int = Field(default=30, gt=0)

    smtp_host: str = ""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_security: str = "none"
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_sender: str = "noreply@localhost.localdomain"
    sms_gateway_url: str = ""
    sms_gateway_token: SecretStr = SecretStr("")
    sms_sender: str = "Energo"
    sms_report_token: SecretStr = SecretStr("")

    notify_worker: bool = True
    notify_sms_rate: float = Field(default=20.0, gt=0)
    notify_email_rate: float = Field(default=5.0, gt=0)
    notify_concurrency: int = Field(default=10, gt=0, le=1000)
    notify_max_attempts: int = Field(default=6, ge=1, le=50)
    notify_retry_delay: float = Field(default=30.0, gt=0)
    notify_lease: float = Field(default=60.0, ge=1)

    reports_max_connections: int = Field(default=3, ge=1, le=50)
    reports_statement_timeout: float = Field(default=30.0, gt=0)
    reports_max_concurrent: int = Field(default=2, ge=1, le=50)
    reports_refresh_seconds: float = Field(default=10.0, ge=0)
    # a comma-separated list of addresses; empty: no daily report
    reports_email_to: str = ""
    reports_email_at: time = time(7, 0)
    reports_email_report: str = ""

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return normalise_database_url(value)

    @field_validator(
        "vosk_model_path",
        "recordings_archive_dir",
        "recordings_rules_file",
        "prompts_asterisk_dir",
        mode="before",
    )
    @classmethod
    def _empty_path_is_none(cls, value: object) -> object:
        # an empty path variable means "not set", not the current directory
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("agi_failover_queue")
    @classmethod
    def _failover_queue(cls, value: str) -> str:
        # rendered into extensions.conf as CC_FAILOVER_QUEUE
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value):
            raise ValueError("must be a queue name (letters, digits, '-' or '_')")
        return value

    @field_validator("prompts_cache_dir")
    @classmethod
    def _absolute_prompts_dir(cls, value: Path) -> Path:
        return Path(os.path.abspath(value.expanduser()))

    @field_validator("prompts_asterisk_dir")
    @classmethod
    def _asterisk_prompts_dir(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_absolute():
            raise ValueError("must be an absolute path (as Asterisk sees it)")
        return value

    @field_validator("smtp_security")
    @classmethod
    def _smtp_security(cls, value: str) -> str:
        if value not in {"none", "starttls", "tls"}:
            raise ValueError("must be none, starttls or tls")
        return value

    @field_validator("sms_gateway_url")
    @classmethod
    def _sms_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with https:// (or http://)")
        return value

    @field_validator("dialer_channel")
    @classmethod
    def _dialer_channel(cls, value: str) -> str:
        if not any(f in value for f in ("{e164}", "{digits}", "{national}")):
            raise ValueError(
                "must contain {e164}, {digits} or {national}, e.g. PJSIP/{national}@trunk"
            )
        return value

    @field_validator("reports_email_to")
    @classmethod
    def _report_recipients(cls, value: str) -> str:
        for address in (a.strip() for a in value.split(",")):
            if address and not _EMAIL.match(address):
                raise ValueError(f"{address!r} is not an e-mail address")
        return value

    @property
    def report_recipients(self) -> tuple[str, ...]:
        return tuple(a.strip() for a in self.reports_email_to.split(",") if a.strip())

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("agi_allowed_networks", "http_trusted_proxies", mode="before")
    @classmethod
    def _split_networks(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("agi_allowed_networks", "http_trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for net in value:
            try:
                ipaddress.ip_network(net, strict=False)
            except ValueError:
                raise ValueError(f"{net!r} is not an IP network (e.g. 10.0.0.0/24)") from None
        return value

    @field_validator("local_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a time zone name (e.g. Europe/Moscow)") from None
        return value

    @field_validator("inbound_number")
    @classmethod
    def _inbound_number(cls, value: str) -> str:
        if not value.isdigit():
            raise ValueError("must contain digits only, e.g. 88001000000")
        return value

    @model_validator(mode="after")
    def _production_rules(self) -> Settings:
        secret = self.jwt_secret.get_secret_value()
        if self.environment is Environment.PRODUCTION and (
            secret == DEV_JWT_SECRET or len(secret) < 32
        ):
            raise ValueError(
                "JWT_SECRET: production needs a random secret of 32+ characters, "
                "not the development default"
            )
        if secret == DEV_JWT_SECRET and not self.http_is_loopback:
            raise ValueError(
                f"JWT_SECRET: the development secret is public; set a random secret of "
                f"32+ characters before serving on {self.http_host} (not a loopback address)"
            )
        if bool(self.admin_username) != bool(self.admin_password.get_secret_value()):
            raise ValueError("ADMIN_USERNAME and ADMIN_PASSWORD must be set together")
        return self

    @property
    def node(self) -> str:
        """This telephony node's name: NODE_NAME, else the site's name."""
        return self.node_name or self.site

    @property
    def http_is_loopback(self) -> bool:
        """True when the HTTP API listens only on this machine."""
        if self.http_host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.http_host).is_loopback
        except ValueError:  # a host name other than localhost may resolve anywhere
            return False

    @property
    def uses_simulator(self) -> bool:
        return not self.ami_host

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


class SettingsError(Exception):
    """A setting is invalid; the message is one line naming the variable and the problem."""


def describe_validation_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p != "__root__"]
        msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        if loc:
            parts.append(f"{ENV_PREFIX}{loc[0].upper()}: {msg}")
        else:
            # model-level rules already start with the setting's name
            parts.append(f"{ENV_PREFIX}{msg}" if ":" in msg.split()[0] else msg)
    return "; ".join(parts)


def load_settings(**overrides: object) -> Settings:
    """Build Settings from the environment (plus overrides), raising SettingsError on bad values."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(describe_validation_error(exc)) from None
