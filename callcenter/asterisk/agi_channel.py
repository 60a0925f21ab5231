"""AgiChannel: the typed AGI command API a handler drives one call with.

Rules that hold for every method:
- Every value is written sanitised and quoted when needed (see agi_protocol).
- A `HANGUP` line or a `511` reply raises AgiHangupError, and from then on no command is
  sent at all (each method raises at once).
- `result=-1` from a media command (STREAM FILE, GET DATA, SAY ...) is ambiguous on the wire:
  Asterisk answers it both when the caller hung up and when the file cannot be played. The
  channel then asks `CHANNEL STATUS`: after a hang-up Asterisk sends its `HANGUP` line before
  reading any further command (res_agi.c `run_agi`), so that answer is `HANGUP` + `511`
  (AgiHangupError); a live channel answers `200`, and the method raises AgiNotPlayedError
  naming the file: the call goes on.
- A command waits at most `reply_timeout` (+ its own timeout, e.g. GET DATA's) for the reply;
  past that, or after garbage, the session is out of step and unusable (AgiTimeoutError /
  AgiProtocolError). Commands are serialised, so a background task may share the channel.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Sequence

from callcenter.asterisk.agi_environment import AgiEnvironment
from callcenter.asterisk.agi_metrics import AGI_TURNAROUND
from callcenter.asterisk.agi_protocol import (
    AgiReply,
    arg,
    command_line,
    parse_reply,
    quote,
)
from callcenter.asterisk.agi_protocol import escape_digits as _escape
from callcenter.asterisk.agi_transport import HANGUP_LINE, AgiTransport
from callcenter.pbx.agi_errors import (
    AgiCommandError,
    AgiConnectionLostError,
    AgiHangupError,
    AgiNotPlayedError,
    AgiProtocolError,
    AgiTimeoutError,
)
from callcenter.pbx.channel import RecordOutcome, RecordResult

DEFAULT_REPLY_TIMEOUT = 120.0  # a prompt plays for at most 15 s (SPEC); leave a wide margin
MAX_USAGE_LINES = 200  # a 520 usage text is ~10 lines

_VAR_NAME = re.compile(r"_{0,2}[A-Za-z][A-Za-z0-9_]*(?:\([^()\s\"\\]*\))?")
_APP_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_SAY_DIGITS = re.compile(r"[0-9*#]+")
_FORMAT = re.compile(r"[a-z0-9]+")
_GENDERS = frozenset({"m", "f", "n", "c"})


def _digit(code: int) -> str | None:
    if code == 0:
        return None
    if not 0 < code < 128:
        raise AgiProtocolError(f"result {code} is not a key code")
    return chr(code)


def _timeout_s(timeout_ms: int) -> float | None:
    """Extra reply time for a command with its own timeout; None when it waits forever."""
    return None if timeout_ms < 0 else timeout_ms / 1000


class AgiChannel:
    def __init__(
        self,
        environment: AgiEnvironment,
        transport: AgiTransport,
        *,
        reply_timeout: float = DEFAULT_REPLY_TIMEOUT,
    ) -> None:
        self.env = environment
        self._replied_at: float | None = None  # monotonic time of the last reply read
        self._transport = transport
        self._reply_timeout = reply_timeout
        self._lock = asyncio.Lock()
        self._dead: str | None = None
        self._broken: str | None = None

    # --- state --------------------------------------------------------------------------

    @property
    def hung_up(self) -> bool:
        """The channel is gone (or we hung it up): no command will be sent any more."""
        return self._dead is not None or self._transport.hangup_seen or self._transport.at_eof

    @property
    def usable(self) -> bool:
        """Commands can still be sent: not hung up, and replies are still in step."""
        return not self.hung_up and self._broken is None

    async def wait_hangup(self) -> None:
        """Return when Asterisk reports the hang-up or closes the connection."""
        await self._transport.wait_gone()

    def _mark_dead(self, reason: str) -> AgiHangupError:
        if self._dead is None:
            self._dead = reason
        return AgiHangupError(reason)

    def _check_usable(self) -> None:
        if self._dead is not None:
            raise AgiHangupError(self._dead)
        if self._broken is not None:
            raise AgiProtocolError(self._broken)
        if self._transport.hangup_seen:
            raise self._mark_dead("caller hung up")
        if self._transport.has_pending:
            self._broken = "Asterisk sent a line no command asked for"
            raise AgiProtocolError(self._broken)
        if self._transport.at_eof:
            self._mark_dead("connection closed by Asterisk")
            raise AgiConnectionLostError("connection closed by Asterisk")

    # --- the command round trip ---------------------------------------------------------

    async def command(
        self, verb: str, *args: object, extra_timeout: float | None = 0.0
    ) -> AgiReply:
        """Send any AGI command (args quoted as needed) and return its `200` reply.

        `extra_timeout` is added to the reply timeout; None waits until the session deadline.
        """
        return await self._execute(command_line(verb, *(arg(a) for a in args)), extra_timeout)

    async def _execute(self, data: bytes, extra_timeout: float | None = 0.0) -> AgiReply:
        text = data.decode("utf-8").rstrip("\n")
        timeout = None if extra_timeout is None else self._reply_timeout + extra_timeout
        async with self._lock:
            self._check_usable()
            try:
                async with asyncio.timeout(timeout):
                    if self._replied_at is not None:
                        AGI_TURNAROUND.observe(time.monotonic() - self._replied_at)
                    try:
                        await self._transport.send(data)
                    except OSError:
                        self._mark_dead("connection lost")
                        raise AgiConnectionLostError("connection lost while sending") from None
                    reply = await self._read_reply(text)
                    self._replied_at = time.monotonic()
                    return reply
            except (AgiCommandError, AgiHangupError):
                raise  # a complete reply was read: still in step
            except TimeoutError:
                self._broken = f"no reply to {text[:60]!r} within {timeout} s"
                raise AgiTimeoutError(self._broken) from None
            except BaseException as exc:
                # cancelled or garbage while a reply was due: later replies would be misread
                self._broken = self._broken or f"interrupted waiting for a reply: {exc!r}"
                raise

    async def _next_line(self) -> str:
        line = await self._transport.next_line()
        if line is None:
            self._mark_dead("connection closed by Asterisk")
            raise AgiConnectionLostError("connection closed by Asterisk")
        if line == HANGUP_LINE:
            raise self._mark_dead("caller hung up")
        return line

    async def _read_reply(self, command: str) -> AgiReply:
        reply = parse_reply(await self._next_line())
        while reply.code == 100:  # "100 result=0 Trying..." precedes the real reply
            reply = parse_reply(await self._next_line())
        if reply.continued:
            usage = [reply.text]
            for _ in range(MAX_USAGE_LINES):
                line = await self._next_line()
                if line.startswith(f"{reply.code} "):
                    break
                usage.append(line)
            else:
                raise AgiProtocolError("multi-line reply without its closing line")
            raise AgiCommandError(reply.code, "\n".join(usage), command)
        if reply.code == 511:
            raise self._mark_dead(f"511 {reply.text}")
        if reply.code != 200:
            raise AgiCommandError(reply.code, reply.text, command)
        return reply

    def _result_or_hangup(self, reply: AgiReply, what: str) -> int:
        value = reply.result_int
        if value == -1:
            raise self._mark_dead(f"{what}: result=-1 (hang-up)")
        return value

    async def _media_result(self, reply: AgiReply, command: str, file: str) -> int:
        """The result of a media command; `-1` is told apart: hang-up or file not played."""
        if reply.result != "-1":
            return reply.result_int
        if self.hung_up:
            raise self._mark_dead(f"{command}: caller hung up")
        # raises AgiHangupError when Asterisk reports the hang-up (HANGUP line, then 511)
        await self._execute(command_line("CHANNEL STATUS"))
        raise AgiNotPlayedError(reply.text, command, file)

    # --- typed commands -----------------------------------------------------------------

    async def answer(self) -> None:
        reply = await self._execute(command_line("ANSWER"))
        self._result_or_hangup(reply, "ANSWER")

    async def hangup(self) -> None:
        """Hang the call up; a no-op when it is already gone."""
        if self.hung_up:
            return
        await self._execute(command_line("HANGUP"))
        self._mark_dead("hung up by the server")

    async def stream_file(self, name: str, escape_digits: str = "") -> tuple[str | None, int]:
        """Play a prompt; returns (key pressed or None, end position in samples)."""
        if not name:
            raise ValueError("prompt file name is empty")
        data = command_line("STREAM FILE", arg(name), _escape(escape_digits))
        reply = await self._execute(data)
        code = await self._media_result(reply, data.decode("utf-8").rstrip("\n"), name)
        return _digit(code), reply.endpos or 0

    async def get_data(self, file: str, timeout_ms: int = 5000, max_digits: int = 1) -> str | None:
        """Play `file` and collect up to `max_digits` keys.

        Returns the digits (possibly fewer than asked, if the caller stopped typing), "" when
        the caller only pressed #, and None when nothing was pressed before the timeout.
        """
        if not file:
            raise ValueError("prompt file name is empty")
        if timeout_ms < 0 or not 1 <= max_digits <= 1024:
            raise ValueError("timeout_ms must be >= 0 and max_digits within 1..1024")
        data = command_line("GET DATA", arg(file), str(int(timeout_ms)), str(int(max_digits)))
        reply = await self._execute(data, extra_timeout=timeout_ms * max_digits / 1000)
        if reply.result == "-1":
            await self._media_result(reply, data.decode("utf-8").rstrip("\n"), file)
        if not reply.result and reply.data == "timeout":
            return None
        return reply.result

    async def wait_for_digit(self, timeout_ms: int) -> str | None:
        """Wait for one key; None on timeout. `timeout_ms=-1` waits until the deadline."""
        reply = await self._execute(
            command_line("WAIT FOR DIGIT", str(int(timeout_ms))),
            extra_timeout=_timeout_s(timeout_ms),
        )
        return _digit(self._result_or_hangup(reply, "WAIT FOR DIGIT"))

    async def record_file(
        self,
        path: str,
        fmt: str = "wav",
        escape_digits: str = "#",
        timeout_ms: int = 120_000,
        *,
        beep: bool = False,
        silence_s: int | None = None,
    ) -> RecordResult:
        """Record the caller to `path`.`fmt` until a key, the time limit, silence or hang-up.

        `timeout_ms` is the maximum length (-1: none, only the session deadline applies);
        `silence_s` ends the recording after that many seconds of silence.

        A hang-up is a result here, not an error: a voice message normally ends that way.
        The channel is dead afterwards all the same. A beep Asterisk cannot play raises
        AgiNotPlayedError (nothing was recorded; the caller is still there).
        """
        if not path or not _FORMAT.fullmatch(fmt):
            raise ValueError("record_file needs a path and a format such as 'wav'")
        args = [arg(path), fmt, _escape(escape_digits), str(int(timeout_ms)), "0"]
        if beep:
            args.append("BEEP")
        if silence_s is not None:
            if silence_s < 1:
                raise ValueError("silence_s must be at least 1 second")
            args.append(f"s={int(silence_s)}")
        data = command_line("RECORD FILE", *args)
        reply = await self._execute(data, extra_timeout=_timeout_s(timeout_ms))
        code = reply.result_int
        endpos = reply.endpos or 0
        if reply.data == "writefile":
            raise AgiCommandError(reply.code, reply.text, data.decode("utf-8").rstrip("\n"))
        if code == -1 and reply.data == "randomerror":
            # the beep could not be played (no "beep" sound), or the caller hung up during it
            await self._media_result(reply, data.decode("utf-8").rstrip("\n"), "beep")
        if code == -1 or reply.data == "hangup":
            self._mark_dead("caller hung up during RECORD FILE")
            return RecordResult(RecordOutcome.HANGUP, endpos)
        if reply.data in ("dtmf", "randomerror") and code > 0:
            return RecordResult(RecordOutcome.DTMF, endpos, _digit(code))
        if reply.data == "timeout":
            return RecordResult(RecordOutcome.TIMEOUT, endpos)
        raise AgiCommandError(reply.code, reply.text, data.decode("utf-8").rstrip("\n"))

    async def say_digits(self, digits: str | int, escape_digits: str = "") -> str | None:
        """Say each digit; returns the escape key pressed, if any."""
        text = str(digits)
        if not _SAY_DIGITS.fullmatch(text):
            raise ValueError(f"SAY DIGITS takes 0-9 * #, got {text!r}")
        data = command_line("SAY DIGITS", text, _escape(escape_digits))
        reply = await self._execute(data)
        return _digit(await self._media_result(reply, data.decode().rstrip("\n"), text))

    async def say_number(
        self, number: int, escape_digits: str = "", gender: str | None = None
    ) -> str | None:
        """Say a whole number in the channel language; gender m/f/n/c for Russian agreement."""
        if isinstance(number, bool) or not isinstance(number, int):
            raise TypeError("say_number takes an int")
        args = [str(number), _escape(escape_digits)]
        if gender is not None:
            if gender not in _GENDERS:
                raise ValueError("gender must be one of m, f, n, c")
            args.append(gender)
        data = command_line("SAY NUMBER", *args)
        reply = await self._execute(data)
        return _digit(await self._media_result(reply, data.decode().rstrip("\n"), str(number)))

    async def set_variable(self, name: str, value: object) -> None:
        await self._execute(command_line("SET VARIABLE", _var_name(name), arg(value)))

    async def get_variable(self, name: str) -> str | None:
        """The variable's value, or None when it is not set."""
        reply = await self._execute(command_line("GET VARIABLE", _var_name(name)))
        return (reply.data or "") if reply.result == "1" else None

    async def get_full_variable(self, expression: str) -> str | None:
        """Evaluate a dialplan expression such as `${CALLERID(name)}`.

        Asterisk evaluates it: never build the expression from caller-supplied data.
        """
        reply = await self._execute(command_line("GET FULL VARIABLE", quote(expression)))
        return (reply.data or "") if reply.result == "1" else None

    async def exec(
        self, app: str, args: str | Sequence[str] = "", *, extra_timeout: float | None = 0.0
    ) -> int:
        """Run a dialplan application; returns its result code.

        A sequence of arguments is joined with commas (an element holding a comma is refused,
        it would shift every later argument). Long-running apps need `extra_timeout`.
        """
        if not _APP_NAME.fullmatch(app):
            raise ValueError(f"not an application name: {app!r}")
        if not isinstance(args, str):
            if any("," in part for part in args):
                raise ValueError("an EXEC argument may not contain a comma")
            args = ",".join(args)
        parts = [app, arg(args)] if args else [app]
        data = command_line("EXEC", *parts)
        reply = await self._execute(data, extra_timeout=extra_timeout)
        code = self._result_or_hangup(reply, f"EXEC {app}")
        if code == -2:
            raise AgiCommandError(reply.code, f"application {app} not found", app)
        return code

    async def verbose(self, message: str, level: int = 1) -> None:
        """Write a line to the Asterisk console/log at verbosity `level` (1-4)."""
        if not 1 <= level <= 4:
            raise ValueError("verbose level must be 1..4")
        await self._execute(command_line("VERBOSE", quote(message), str(level)))

    async def channel_status(self) -> int:
        """Asterisk channel state: 4 ringing, 6 up (answered), ... (AST_STATE_*)."""
        reply = await self._execute(command_line("CHANNEL STATUS"))
        return reply.result_int


def _var_name(name: str) -> str:
    if not _VAR_NAME.fullmatch(name):
        raise ValueError(f"not a channel variable name: {name!r}")
    return name
