"""Live events between the process roles: LISTEN on named channels (PostgreSQL's LISTEN/
NOTIFY in `callcenter.db.notify`). Sending is `tx.cluster.notify` inside a transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

Handler = Callable[[str], None]  # takes the payload; must be quick (schedule work, set an event)


class Listener(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Listen(Protocol):
    """Makes a listener calling `handlers[channel](payload)`; `on_connect` runs after every
    (re)connect so the owner can re-read what it missed while the link was down."""

    def __call__(
        self,
        handlers: Mapping[str, Handler],
        *,
        on_connect: Callable[[], Awaitable[None]] | None = None,
    ) -> Listener: ...
