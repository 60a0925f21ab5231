"""A deliberately dumb AMI client on a raw socket, for testing the simulator's server."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable

from callcenter.pbx.frames import AmiFrame, FrameDecoder, encode_frame

_ids = itertools.count(1)


class RawAmi:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.decoder = FrameDecoder()
        self.frames: list[AmiFrame] = []
        self._changed = asyncio.Condition()
        self.closed = False
        self._task = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, port: int) -> RawAmi:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def _read(self) -> None:
        try:
            while True:
                data = await self.reader.read(65536)
                if not data:
                    break
                async with self._changed:
                    self.frames.extend(self.decoder.feed(data))
                    self._changed.notify_all()
        finally:
            async with self._changed:
                self.closed = True
                self._changed.notify_all()

    @property
    def banner(self) -> str | None:
        return self.decoder.banner

    def send(self, action: str, **fields: str) -> str:
        action_id = fields.pop("ActionID", f"t{next(_ids)}")
        pairs = [("Action", action), ("ActionID", action_id), *fields.items()]
        self.writer.write(encode_frame(pairs))
        return action_id

    async def wait_for(
        self, predicate: Callable[[AmiFrame], bool], within: float = 5.0
    ) -> AmiFrame:
        async with asyncio.timeout(within):
            async with self._changed:
                while True:
                    for frame in self.frames:
                        if predicate(frame):
                            return frame
                    if self.closed:
                        raise ConnectionError("AMI connection closed")
                    await self._changed.wait()

    async def action(self, action: str, within: float = 5.0, **fields: str) -> AmiFrame:
        action_id = self.send(action, **fields)
        return await self.wait_for(
            lambda f: f.action_id == action_id and f.response is not None, within
        )

    async def action_with(self, action: str, fields: dict[str, str]) -> AmiFrame:
        action_id = self.send(action, **fields)
        return await self.wait_for(lambda f: f.action_id == action_id and f.response is not None)

    async def event(self, name: str, within: float = 5.0, **match: str) -> AmiFrame:
        return await self.wait_for(
            lambda f: f.event == name and all(f.get(k) == v for k, v in match.items()), within
        )

    async def wait_closed(self, within: float = 5.0) -> None:
        async with asyncio.timeout(within):
            async with self._changed:
                await self._changed.wait_for(lambda: self.closed)

    async def login(
        self, username: str = "lab", secret: str = "labsecret", events: str = "on"
    ) -> AmiFrame:
        return await self.action("Login", Username=username, Secret=secret, Events=events)

    async def close(self) -> None:
        self.writer.close()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await self._task

    def events_named(self, name: str) -> list[AmiFrame]:
        return [f for f in self.frames if f.event == name]
