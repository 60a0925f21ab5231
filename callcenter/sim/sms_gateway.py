"""A local SMS gateway that misbehaves on purpose (tests, `make bench-notify`).

It speaks the HTTP contract of `callcenter.notify.sms` (JSON POST, `Idempotency-Key`, a JSON
reply with the gateway's id) over real HTTP/1.1 with keep-alive, and keeps a "handset log":
which numbers actually received which text, so a test can count duplicates and losses as a
customer would. What it does wrong, as told:

- `delay`: answers every request this many seconds late;
- `temporary_failure_rate`: answers 503 to that share of requests (seeded), sending nothing;
- `script`: per-request actions taken in order before the random behaviour applies:
  "ok", "fail" (503), "refuse" (400), "stall" (takes the message, sends it, and does not
  answer until `release()`: the client sees a timeout or a dead connection);
- a repeated idempotency key is answered with the first reply and sends nothing (the
  contract); `honour_keys=False` makes it a careless gateway that sends again;
- `blocked` numbers are refused (400), `failing` ones always get 503;
- delivery reports: when `report` is set, every accepted message is reported to it
  (delivered, or failed for numbers in `undeliverable`), twice when `duplicate_reports`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

ReportSink = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass
class HandsetMessage:
    phone: str
    text: str
    key: str
    gateway_id: str


@dataclass
class SmsGatewaySim:
    delay: float = 0.0
    temporary_failure_rate: float = 0.0
    seed: int = 1
    script: list[str] = field(default_factory=list)
    honour_keys: bool = True
    report: ReportSink | None = None
    duplicate_reports: bool = False
    undeliverable: set[str] = field(default_factory=set)
    blocked: set[str] = field(default_factory=set)  # numbers refused at once (400)
    failing: set[str] = field(default_factory=set)  # numbers always answered 503
    token: str = ""  # when set, requests need "Authorization: Bearer <token>"

    port: int = 0
    requests: int = 0
    repeated_keys: int = 0  # requests whose key was seen before (answered from memory)
    handset: list[HandsetMessage] = field(default_factory=list)
    stalled: int = 0
    _replies: dict[str, str] = field(default_factory=dict)
    _rng: random.Random = field(init=False)
    _server: asyncio.Server | None = None
    _released: asyncio.Event = field(default_factory=asyncio.Event)
    _stall_seen: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _next_id: int = 0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/send"

    def received_by(self) -> Counter[str]:
        """How many messages each number received."""
        return Counter(m.phone for m in self.handset)

    @property
    def duplicates(self) -> int:
        return sum(n - 1 for n in self.received_by().values() if n > 1)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self.release()
        if self._server is not None:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    def release(self) -> None:
        """Let stalled requests go (their connections may be gone by then)."""
        self._released.set()

    async def wait_stalled(self, count: int = 1) -> None:
        while self.stalled < count:
            self._stall_seen.clear()
            await self._stall_seen.wait()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                status, body = await self._handle(*request)
                data = json.dumps(body).encode()
                writer.write(
                    f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(data)}\r\n\r\n".encode()
                    + data
                )
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    async def _handle(self, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, Any]]:
        self.requests += 1
        if self.token and headers.get("authorization") != f"Bearer {self.token}":
            return 401, {"error": "bad token"}
        try:
            payload = json.loads(raw)
            phone, text = str(payload["to"]), str(payload["text"])
        except (ValueError, KeyError, TypeError):
            return 400, {"error": "bad request"}
        key = headers.get("idempotency-key", "") or str(payload.get("client_ref") or "")
        action = self.script.pop(0) if self.script else "ok"
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.honour_keys and key and key in self._replies:
            self.repeated_keys += 1
            return 200, {"id": self._replies[key]}
        if phone in self.blocked:
            return 400, {"error": "number blocked"}
        if phone in self.failing:
            return 503, {"error": "operator network down"}
        if action == "fail" or (
            action == "ok" and self._rng.random() < self.temporary_failure_rate
        ):
            return 503, {"error": "try later"}
        if action == "refuse":
            return 400, {"error": "number blocked"}
        self._next_id += 1
        gateway_id = f"gw-{self._next_id}"
        if key:
            self._replies[key] = gateway_id
        self.handset.append(HandsetMessage(phone, text, key, gateway_id))
        if self.report is not None:
            self._spawn(self._send_reports(phone, key, gateway_id))
        if action == "stall":
            self.stalled += 1
            self._stall_seen.set()
            await self._released.wait()
        return 200, {"id": gateway_id}

    def _spawn(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send_reports(self, phone: str, key: str, gateway_id: str) -> None:
        assert self.report is not None
        failed = phone in self.undeliverable
        report = {
            "id": gateway_id,
            "client_ref": key,
            "status": "undelivered" if failed else "delivered",
            "reason": "абонент недоступен" if failed else "",
        }
        for _ in range(2 if self.duplicate_reports else 1):
            await self.report(report)


async def _read_request(reader: asyncio.StreamReader) -> tuple[dict[str, str], bytes] | None:
    line = await reader.readline()
    if not line:
        return None
    headers: dict[str, str] = {}
    while (header := (await reader.readline()).decode("latin-1").strip()) != "":
        key, _, value = header.partition(":")
        headers[key.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return headers, body
