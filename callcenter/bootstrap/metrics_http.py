"""`GET /metrics` for a process without the HTTP API (the telephony role).

The telephony role has no web framework on its event loop, by design, but Prometheus must
still scrape it. This is the smallest HTTP/1.0 responder that does it: one request per
connection, `GET /metrics` answered with the process's exposition text, anything else 404.
It runs on the role's own loop (the collector reads live state that only that loop may touch)
and a scrape costs one pass over the registry.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST

log = logging.getLogger(__name__)

_REQUEST_LIMIT = 8 * 1024  # a request line and headers; no body is read


def _response(status: str, body: bytes, content_type: str) -> bytes:
    head = (
        f"HTTP/1.0 {status}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class MetricsServer:
    """Serves `render()` at `GET /metrics` on host:port (port 0 picks a free one)."""

    def __init__(
        self, render: Callable[[], bytes], host: str, port: int, *, read_timeout: float = 5.0
    ) -> None:
        self._render = render
        self._read_timeout = read_timeout
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the metrics server is not listening")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, self._host, self._port, limit=_REQUEST_LIMIT
        )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(self._read_timeout):
                head = await reader.readuntil(b"\r\n\r\n")
            method, _, rest = head.partition(b" ")
            path = rest.partition(b" ")[0].partition(b"?")[0]
            if method == b"GET" and path == b"/metrics":
                writer.write(_response("200 OK", self._render(), CONTENT_TYPE_LATEST))
            else:
                writer.write(_response("404 Not Found", b"not found\n", "text/plain"))
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # a slow, truncated or oversized request gets no answer
        except ConnectionError:
            pass
        except Exception:
            log.exception("metrics: scrape failed")
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
