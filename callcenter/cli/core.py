"""Core commands: serve, migrate, seed-demo, check-config."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from datetime import UTC, datetime
from enum import StrEnum
from functools import partial
from typing import Annotated

import typer
import uvicorn
from pydantic import SecretStr
from sqlalchemy.exc import SQLAlchemyError

from callcenter.cli.common import fail, settings_or_exit, setup_logging
from callcenter.config import DEV_JWT_SECRET, Settings

log = logging.getLogger("callcenter")


def _database_error(exc: BaseException) -> str:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"CALLCENTER_DATABASE_URL: cannot use the database: {first}"


class Role(StrEnum):
    ALL = "all"
    TELEPHONY = "telephony"
    API = "api"


_ROLE_OPTION = typer.Option(
    "--role",
    help=(
        "telephony: FastAGI, AMI, journal, ACD, dialer (one per Asterisk); api: HTTP and "
        "WebSockets (any number); all: both (one process on SQLite, two supervised "
        "processes on PostgreSQL)"
    ),
)


def serve(role: Annotated[Role, _ROLE_OPTION] = Role.ALL) -> None:
    """Run the platform, or one of its process roles."""
    settings = settings_or_exit()
    setup_logging(
        settings.log_level, fmt=settings.log_format, personal_data=settings.log_personal_data
    )
    if role is not Role.ALL and settings.is_sqlite:
        fail(
            f"--role {role.value} needs PostgreSQL: roles in separate processes share state "
            "through it (set CALLCENTER_DATABASE_URL); on SQLite run `callcenter serve`"
        )
    _use_uvloop()
    if role is Role.ALL and not settings.is_sqlite:
        from callcenter.bootstrap.supervisor import supervise

        asyncio.run(_check_database(settings))
        raise typer.Exit(asyncio.run(supervise()))
    if role is Role.TELEPHONY:
        asyncio.run(_serve_telephony(settings))
        return
    if role is Role.API:
        _yield_cpu(settings.api_nice)
    asyncio.run(_serve(settings, role))


def _yield_cpu(increment: int) -> None:
    """An API process makes way for telephony on the same machine: HTTP bursts (sign-ins,
    exports, reports) wait for the CPU rather than callers waiting for their next prompt."""
    if increment <= 0:
        return
    try:
        os.nice(increment)
    except (AttributeError, OSError) as exc:  # not POSIX, or forbidden
        log.warning("the API role keeps its CPU priority: %s", exc)


def _settle_heap() -> None:
    """Tune the cyclic garbage collector for a long-running node once it has started.

    Every AMI frame allocates a few dozen short-lived objects, so with Python's default
    threshold (700) the collector ran hundreds of times a second and each full pass walked
    every module, class and cache loaded at start-up (about 6 % of the telephony role's CPU
    under load). `gc.freeze()` moves what start-up made out of the collector's sight, and a
    higher first threshold lets short-lived frames die by reference counting before a pass.
    """
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


def _use_uvloop() -> None:
    """uvloop when installed: a faster event loop for FastAGI and AMI."""
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


async def _check_database(settings: Settings) -> None:
    from callcenter.db.engine import create_engine
    from callcenter.db.migrate import DatabaseNotMigratedError, ensure_at_head

    engine = create_engine(settings.database_url)
    try:
        await ensure_at_head(engine)
    except DatabaseNotMigratedError as exc:
        fail(str(exc))
    except (OSError, SQLAlchemyError) as exc:
        fail(_database_error(exc))
    finally:
        await engine.dispose()


async def _serve_telephony(settings: Settings) -> None:
    import signal

    from callcenter.bootstrap import build_platform
    from callcenter.bootstrap.health import health_probe
    from callcenter.bootstrap.metrics_http import MetricsServer

    await _check_database(settings)
    platform = build_platform(settings, role="telephony")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await platform.start()
    _settle_heap()
    metrics: MetricsServer | None = None
    if settings.metrics_port:
        metrics = MetricsServer(
            platform.metrics_text,
            settings.http_host,
            settings.metrics_port,
            refresh=platform.refresh_metrics,
            health=partial(health_probe, platform),
        )
        await metrics.start()
        log.info("metrics on http://%s:%s/metrics", settings.http_host, metrics.port)
    log.info("telephony node %s (site %s) running", settings.node, settings.site)
    try:
        await stop.wait()
    finally:
        if metrics is not None:
            await metrics.stop()
        await platform.stop()


async def _serve(settings: Settings, role: Role) -> None:
    from callcenter.accounts.users import ensure_admin
    from callcenter.api.app import create_app
    from callcenter.bootstrap import build_api_platform, build_platform
    from callcenter.db.migrate import DatabaseNotMigratedError, ensure_at_head

    platform = build_api_platform(settings) if role is Role.API else build_platform(settings)
    try:
        await ensure_at_head(platform.engine)
        if settings.admin_username:
            await ensure_admin(
                platform.session_factory,
                settings.admin_username,
                settings.admin_password.get_secret_value(),
            )
    except DatabaseNotMigratedError as exc:
        await platform.engine.dispose()
        fail(str(exc))
    except (OSError, SQLAlchemyError) as exc:
        await platform.engine.dispose()
        fail(_database_error(exc))
    config = http_server_config(settings, create_app(platform))
    log.info("HTTP API on http://%s:%s (docs at /docs)", settings.http_host, settings.http_port)
    await uvicorn.Server(config).serve()


def http_server_config(settings: Settings, app: object) -> uvicorn.Config:
    """The HTTP server: forwarded headers (X-Forwarded-For) are believed only when they come
    from one of CALLCENTER_HTTP_TRUSTED_PROXIES; otherwise the socket's peer is the address
    that sign-in throttling and the audit log see."""
    proxies = settings.http_trusted_proxies
    return uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=list(proxies) if proxies else [],
        server_header=False,
    )


def migrate() -> None:
    """Bring the database schema to the latest migration."""
    from callcenter.db.migrate import head_revision, upgrade_to_head

    settings = settings_or_exit()
    setup_logging("WARNING")
    try:
        upgrade_to_head(settings.database_url)
    except (OSError, SQLAlchemyError) as exc:
        fail(_database_error(exc))
    typer.echo(f"database is at the latest migration ({head_revision()})")


def seed_demo(
    if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing when data exists."),
) -> None:
    """Fill the database with a realistic demo data set."""
    settings = settings_or_exit()
    setup_logging("WARNING")
    report = asyncio.run(_seed(settings, if_empty))
    typer.echo(report)


async def _seed(settings: Settings, if_empty: bool) -> str:
    from callcenter.db.engine import create_engine, create_session_factory
    from callcenter.db.migrate import DatabaseNotMigratedError, ensure_at_head
    from callcenter.db.seed import seed_demo as run_seed

    engine = create_engine(settings.database_url)
    try:
        await ensure_at_head(engine)
        result = await run_seed(
            create_session_factory(engine), now=datetime.now(UTC), if_empty=if_empty
        )
    except DatabaseNotMigratedError as exc:
        fail(str(exc))
    except (OSError, SQLAlchemyError) as exc:
        fail(_database_error(exc))
    finally:
        await engine.dispose()
    return str(result)


def check_config() -> None:
    """Validate the settings and print them (secrets masked)."""
    settings = settings_or_exit()
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            shown = "(set)" if value.get_secret_value() else "(empty)"
        else:
            shown = str(value)
        typer.echo(f"CALLCENTER_{name.upper()}={shown}")
    if settings.jwt_secret.get_secret_value() == DEV_JWT_SECRET:
        print(
            "callcenter: warning: CALLCENTER_JWT_SECRET is the public development secret: "
            "anyone can sign tokens with it; it is refused on a non-loopback "
            "CALLCENTER_HTTP_HOST and in production",
            file=sys.stderr,
        )
    for warning in prompt_path_warnings(settings):
        print(f"callcenter: warning: {warning}", file=sys.stderr)
    typer.echo("configuration is valid")


LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def prompt_path_warnings(settings: Settings) -> list[str]:
    """Reasons Asterisk may not find the prompts under the path the platform gives it."""
    warnings: list[str] = []
    cache = settings.prompts_cache_dir
    remote = settings.ami_host and settings.ami_host not in LOCAL_HOSTS
    if remote and settings.prompts_asterisk_dir is None:
        warnings.append(
            f"Asterisk runs on {settings.ami_host} but is told to play prompts from {cache} "
            "on this host: share that directory with Asterisk's host (or render it there with "
            "`callcenter prompts build --out DIR`) and set CALLCENTER_PROMPTS_ASTERISK_DIR to "
            "the path Asterisk sees"
        )
    if settings.prompts_asterisk_dir is None and cache.is_dir():
        for folder in (cache, *cache.parents):
            try:
                searchable = bool(folder.stat().st_mode & 0o001)
            except OSError:
                continue
            if not searchable:
                warnings.append(
                    f"{folder} is not searchable by other users: Asterisk (which runs as its "
                    f"own user) cannot read the prompts in {cache}"
                )
                break
    return warnings


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(migrate)
    app.command("seed-demo")(seed_demo)
    app.command("check-config")(check_config)
