"""PostgreSQL LISTEN on a dedicated asyncpg connection, reconnecting when it drops.

Handlers are plain callables taking the payload; they must be quick (schedule work, set an
event). After every (re)connect `on_connect` runs so the owner can re-read the tables for
whatever it missed while the link was down (NOTIFY is not queued for absent listeners).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

from callcenter.ports.live import Handler, Listen, Listener

log = logging.getLogger(__name__)


def asyncpg_dsn(database_url: str) -> str:
    """The SQLAlchemy URL as a DSN asyncpg understands."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _setter(event: asyncio.Event) -> Callable[[object], None]:
    return lambda _conn: event.set()


class PgListener:
    def __init__(
        self,
        database_url: str,
        handlers: Mapping[str, Handler],
        *,
        on_connect: Callable[[], Awaitable[None]] | None = None,
        retry_seconds: float = 1.0,
    ) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._handlers = dict(handlers)
        self._on_connect = on_connect
        self._retry = retry_seconds
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="pg-listen")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            conn: Any = None
            try:
                conn = await asyncpg.connect(self._dsn)
                lost = asyncio.Event()
                conn.add_termination_listener(_setter(lost))
                for channel, handler in self._handlers.items():
                    await conn.add_listener(channel, self._callback(handler))
                self.connected.set()
                if self._on_connect is not None:
                    await self._on_connect()
                while not lost.is_set():
                    # a silent network drop is noticed by the keep-alive query
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), timeout=10.0)
                    if not lost.is_set():
                        await asyncio.wait_for(conn.execute("SELECT 1"), timeout=5.0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("LISTEN connection to PostgreSQL lost: %s", exc)
            finally:
                self.connected.clear()
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(conn.close(), timeout=2.0)
            await asyncio.sleep(self._retry)

    @staticmethod
    def _callback(handler: Handler) -> Callable[..., None]:
        def on_notify(_conn: object, _pid: int, _channel: str, payload: str) -> None:
            try:
                handler(payload)
            except Exception:
                log.exception("NOTIFY handler failed")

        return on_notify


def pg_listen(database_url: str) -> Listen:
    """The `Listen` port on this database: each listener has its own connection."""

    def make(
        handlers: Mapping[str, Handler],
        *,
        on_connect: Callable[[], Awaitable[None]] | None = None,
    ) -> Listener:
        return PgListener(database_url, handlers, on_connect=on_connect)

    return make
