"""AGI(agi://host:port/script): the simulator connects to the platform's FastAGI server.

As res_agi.c does: connect (AGISTATUS=FAILURE if nobody listens), send the environment
(agi_network, agi_network_script, agi_request, agi_channel ... agi_threadid, blank line), then
answer one command per line, publishing AGIExecStart/AGIExecEnd around each. When the
channel hangs up, a lone `HANGUP` line is sent and the session goes "dead": commands that
need a live channel answer `511 Command Not Permitted on a dead channel or intercept
routine`. The session ends when the server closes the connection; AGISTATUS is then
SUCCESS, or HANGUP if the channel hung up meanwhile (the dialplan then stops).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shlex
from dataclasses import dataclass
from urllib.parse import urlsplit

from callcenter.sim import events as ev
from callcenter.sim.agi_commands import COMMANDS, DEAD_OK, AgiCore, AgiReply, CommandContext
from callcenter.sim.channels import Channel
from callcenter.sim.outcomes import CONTINUE, STOP, Outcome
from callcenter.sim.text import split_args

log = logging.getLogger(__name__)

NOT_PERMITTED = "Command Not Permitted on a dead channel or intercept routine"
UNKNOWN_COMMAND = "Invalid or unknown command"
DEFAULT_PORT = 4573


@dataclass
class AgiTarget:
    host: str
    port: int
    script: str
    request: str
    args: list[str]


def parse_agi_data(data: str) -> AgiTarget | None:
    args = split_args(data)
    if not args or not args[0].lower().startswith("agi://"):
        return None
    url = urlsplit(args[0])
    host = url.hostname or "127.0.0.1"
    port = url.port or DEFAULT_PORT
    script = url.path.lstrip("/")
    if url.query:
        script = f"{script}?{url.query}"
    return AgiTarget(host, port, script, args[0], args[1:])


def environment(pbx: AgiCore, chan: Channel, target: AgiTarget, thread_id: int) -> list[str]:
    lines = ["agi_network: yes"]
    if target.script:
        lines.append(f"agi_network_script: {target.script}")
    lines += [
        f"agi_request: {target.request}",
        f"agi_channel: {chan.name}",
        f"agi_language: {chan.language}",
        f"agi_type: {chan.tech}",
        f"agi_uniqueid: {chan.uniqueid}",
        "agi_version: 22-lts-ref",
        f"agi_callerid: {chan.caller.num or 'unknown'}",
        f"agi_calleridname: {chan.caller.name or 'unknown'}",
        "agi_callingpres: 0",
        "agi_callingani2: 0",
        "agi_callington: 0",
        "agi_callingtns: 0",
        "agi_dnid: unknown",
        "agi_rdnis: unknown",
        f"agi_context: {chan.context}",
        f"agi_extension: {chan.exten}",
        f"agi_priority: {chan.priority}",
        "agi_enhanced: 0.0",
        f"agi_accountcode: {chan.accountcode}",
        f"agi_threadid: {thread_id}",
    ]
    lines += [f"agi_arg_{i}: {value}" for i, value in enumerate(target.args, start=1)]
    return lines


def parse_command(line: str) -> list[str]:
    """Split an AGI command line like res_agi's parse_args (quotes group, backslash escapes)."""
    try:
        return shlex.split(line, posix=True)
    except ValueError:
        return line.split()


class AgiSession:
    def __init__(
        self,
        pbx: AgiCore,
        chan: Channel,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.pbx = pbx
        self.chan = chan
        self.reader = reader
        self.writer = writer
        self.dead = False
        self.hangup_sent = False
        self.hung_up_during = False

    def send(self, text: str) -> None:
        if not self.writer.is_closing():
            self.writer.write(text.encode("utf-8"))

    def _note_hangup(self) -> None:
        """run_agi: once the channel is gone, tell the server with a lone HANGUP line."""
        if self.chan.soft_hangup and not self.hangup_sent:
            self.hangup_sent = True
            self.dead = True
            self.hung_up_during = True
            self.send("HANGUP\n")

    async def run(self, target: AgiTarget) -> None:
        for line in environment(self.pbx, self.chan, target, self.pbx.ids.thread_id()):
            self.send(line + "\n")
        self.send("\n")
        try:
            await self.writer.drain()
        except ConnectionError:
            return
        while True:
            self._note_hangup()
            read = asyncio.ensure_future(self.reader.readline())
            try:
                # waiting for the platform's next command: time stands still on a test's
                # virtual clock until it comes
                with self.pbx.clock.outside():
                    if not self.hangup_sent:
                        # idle: a hangup now is reported at once, not at the next command
                        hung = asyncio.ensure_future(self.chan.hangup_requested.wait())
                        await asyncio.wait({read, hung}, return_when=asyncio.FIRST_COMPLETED)
                        hung.cancel()
                        if not read.done():
                            self._note_hangup()
                            with contextlib.suppress(ConnectionError):
                                await self.writer.drain()
                    raw = await read
            except (ConnectionError, asyncio.IncompleteReadError):
                break
            finally:
                if not read.done():
                    read.cancel()
            # no clock.sync() here: the server's round trip is not the caller's time; within
            # the clock's tolerance the command starts when the previous reply was sent
            if not raw:
                break  # the server closed the connection: the script is done
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if not line.strip():
                continue
            await self.handle(line)
            try:
                await self.writer.drain()
            except ConnectionError:
                break
        self._note_hangup()
        self.send("HANGUP\n")  # res_agi always tells a FastAGI server when it is done

    async def handle(self, line: str) -> None:
        pbx, chan = self.pbx, self.chan
        command_id = pbx.ids.command_id()
        pbx.emit(ev.agi_exec_start(chan, command_id, line))
        argv = parse_command(line)
        spec = COMMANDS.find(argv)
        if spec is None:
            self.send(f"510 {UNKNOWN_COMMAND}\n")
            pbx.emit(ev.agi_exec_end(chan, command_id, line, 510, UNKNOWN_COMMAND))
            return
        if self.dead and spec.name not in DEAD_OK:
            self.send(f"511 {NOT_PERMITTED}\n")
            pbx.emit(ev.agi_exec_end(chan, command_id, line, 511, NOT_PERMITTED))
            return
        context = CommandContext(pbx, chan, self.dead)
        reply: AgiReply = await spec.handler(context, argv)
        if reply.usage:
            self.send("520 Invalid command syntax.  Proper usage not available.\n")
            pbx.emit(ev.agi_exec_end(chan, command_id, line, 520, "Usage"))
            return
        self.send(reply.line + "\n")
        for name, value in reply.after:
            pbx.set_var(chan, name, value)
        if reply.failure:
            pbx.emit(ev.agi_exec_end(chan, command_id, line, -1, "Failure"))
        else:
            pbx.emit(ev.agi_exec_end(chan, command_id, line, 200, "Success"))


async def run_agi(pbx: AgiCore, chan: Channel, data: str) -> Outcome:
    target = parse_agi_data(data)
    if target is None:
        pbx.set_var(chan, "AGISTATUS", "FAILURE")
        return CONTINUE
    try:
        async with asyncio.timeout(pbx.config.fastagi_connect_timeout):
            reader, writer = await asyncio.open_connection(target.host, target.port)
    except (OSError, TimeoutError):
        pbx.set_var(chan, "AGISTATUS", "FAILURE")
        return CONTINUE
    session = AgiSession(pbx, chan, reader, writer)
    try:
        await session.run(target)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()
    if session.hung_up_during or chan.soft_hangup:
        pbx.set_var(chan, "AGISTATUS", "HANGUP")
        return STOP
    pbx.set_var(chan, "AGISTATUS", "SUCCESS")
    return CONTINUE
