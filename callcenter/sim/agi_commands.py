"""AGI commands as res_agi.c answers them (reply texts, result codes, dead-channel rules).

Each handler gets the split command line and returns the reply line (plus channel variables
Asterisk sets after replying, such as PLAYBACKSTATUS). Timing comes from the prompts' real
lengths (`SoundLibrary`) in simulated seconds, and keys come from the simulated caller.
"""

from __future__ import annotations

import contextlib
import logging
import string
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from callcenter.sim.callerid import parse_callerid
from callcenter.sim.channels import DIGIT, HANGUP, TIMEOUT, Channel, ChannelState
from callcenter.sim.core import ChannelControl, Dialling, MediaControl, Runtime
from callcenter.sim.outcomes import STOP
from callcenter.sim.sounds import digit_files, number_files
from callcenter.sim.wav import SAMPLE_RATE, Samples, silence, write_wav


class AgiCore(Runtime, ChannelControl, Dialling, MediaControl, Protocol):
    """What AGI commands need: the channel's media and variables, and EXEC's applications."""


log = logging.getLogger(__name__)


@dataclass
class AgiReply:
    line: str = ""
    after: list[tuple[str, str]] = field(default_factory=list)  # VarSets after the reply
    failure: bool = False  # RESULT_FAILURE: AGIExecEnd reports -1 / Failure
    usage: bool = False  # RESULT_SHOWUSAGE: 520


@dataclass
class CommandContext:
    pbx: AgiCore
    chan: Channel
    dead: bool


Handler = Callable[[CommandContext, Sequence[str]], Awaitable[AgiReply]]


@dataclass
class CommandSpec:
    words: tuple[str, ...]
    handler: Handler

    @property
    def name(self) -> str:
        return " ".join(self.words)


class CommandTable:
    def __init__(self) -> None:
        self._specs: list[CommandSpec] = []

    def register(self, words: str) -> Callable[[Handler], Handler]:
        def decorator(handler: Handler) -> Handler:
            self._specs.append(CommandSpec(tuple(words.lower().split()), handler))
            self._specs.sort(key=lambda s: -len(s.words))
            return handler

        return decorator

    def find(self, argv: Sequence[str]) -> CommandSpec | None:
        lowered = [a.lower() for a in argv]
        for spec in self._specs:
            if tuple(lowered[: len(spec.words)]) == spec.words:
                return spec
        return None


COMMANDS = CommandTable()

# Commands res_agi allows on a hung-up channel (the `dead` column of `agi show commands`).
DEAD_OK = frozenset(
    {
        "asyncagi break",
        "database del",
        "database deltree",
        "database get",
        "database put",
        "exec",
        "get full variable",
        "get variable",
        "noop",
        "set variable",
        "verbose",
        "speech destroy",
        "speech unload grammar",
    }
)

ANY_DIGIT = "0123456789*#ABCD"
_ASTDB: dict[tuple[str, str], str] = {}


def usage() -> AgiReply:
    return AgiReply(usage=True)


# --- playback helpers --------------------------------------------------------------------


@dataclass
class Played:
    digit: str | None = None
    samples: int = 0  # position in the file being played when it stopped
    hungup: bool = False
    missing: str | None = None  # a file Asterisk could not open ("does not exist in any format")


async def play(ctx: CommandContext, files: Sequence[str], escape: str) -> Played:
    """Play `files`; a key in `escape` stops playback (other keys are discarded).

    A file that does not exist stops at once with `missing` set, as ast_openstream fails."""
    pbx, chan = ctx.pbx, ctx.chan
    pbx.start_media(chan)
    accept = frozenset({DIGIT}) if escape else frozenset()
    result = Played()
    for name in files:
        if not pbx.sounds.exists(name):
            log.warning("File %s does not exist in any format", name)
            result.missing = name
            return result
        length = pbx.sounds.seconds(name)
        started = pbx.clock.now()
        while True:
            remaining = length - (pbx.clock.now() - started)
            reason = await chan.wait(pbx.clock, remaining, accept)
            elapsed = min(length, pbx.clock.now() - started)
            result.samples = round(elapsed * SAMPLE_RATE)
            if reason == HANGUP:
                result.hungup = True
                return result
            if reason == DIGIT:
                digit = chan.dtmf.popleft()
                if digit in escape:
                    result.digit = digit
                    return result
                continue
            break
    if not escape:
        chan.dtmf.clear()  # keys pressed during a prompt nobody listened to are lost
    return result


async def wait_digit(ctx: CommandContext, timeout_ms: int) -> str | None:
    """ast_waitfordigit: a key, '' on timeout, None on hangup. Negative timeout: forever."""
    seconds = None if timeout_ms < 0 else timeout_ms / 1000
    reason = await ctx.chan.wait(ctx.pbx.clock, seconds, frozenset({DIGIT}))
    if reason == DIGIT:
        return ctx.chan.dtmf.popleft()
    if reason == TIMEOUT:
        return ""
    return None


def _int(text: str, default: int = 0) -> int:
    try:
        return int(text)
    except ValueError:
        return default


# --- commands ------------------------------------------------------------------------------


@COMMANDS.register("answer")
async def answer(ctx: CommandContext, argv: Sequence[str]) -> AgiReply:
    if ctx.chan.state != ChannelState.UP:
        ctx.pbx.answer(ctx.chan)
    return AgiReply("200 result=0")


@COMMANDS.register("asyncagi break")
async def asyncagi_break(ctx: CommandContext, argv: Sequence[str]) -> AgiReply:
    return AgiReply("200 result=0")


@COMMANDS.register("noop")
async def noop(ctx: CommandContext, argv: Sequence[str]) -> AgiReply:
    return AgiReply("200 result=0")


@COMMANDS.register("verbose")
async def verbose(ctx: CommandContext, argv: Sequence[str]) -> AgiReply:
    if len(argv) < 2:
        return usage()
    return AgiReply("200 result=1")


@COMMANDS.register("channel status")
async def channel_status(ctx: CommandContext, argv: Sequence[str]) -> AgiReply:
    if len(argv) == 2:
        return AgiReply(f"200 result={int(ctx.chan.state)}")
    if len(argv) == 3:
        other = ctx.pbx.find_channel(argv[2])
        return AgiReply(f"200 result={int(other.state)}" if other else "200 result=-1")
    return usage()


@COMMANDS.register("get variable")
async def get_variable(ctx: CommandContext, argv: Sequence[str]) -> AgiReply:
    if len(argv) != 3:
        return usage()
    value = ctx.pbx.lookup(ctx.chan)(argv[2])
    return AgiReply("200 result=0" if value is None else f"200 result=1 ({value})")


@COMMANDS.register("get full variable")
async def get_full_variable(ctx: CommandContext, argv: Sequence[str]) -> AgiReply:
    if len(argv) not in (4, 5):
        return usage()
    target = ctx.chan if len(argv) == 4 else ctx.pbx.find_channel(argv[4])
    if target is None:
        return AgiReply("200 result=0")
    return AgiReply(f"200 result=1 ({ctx.pbx.substitute(target, argv[3])})")


@COMMANDS.register("set variable")
async def set_variable(ctx: CommandContext, argv: Sequence[str]) -> AgiReply:
    if len(argv) != 4:
        return usage()
    ctx.pbx.set_var(ctx.chan, argv[2], argv[3])
    return AgiReply("200 result=1")


@COMMANDS.register("set callerid")
async def set_callerid(ctx: CommandContext, argv: Sequence[str]) -> AgiReply:
    if len(argv) >= 3:
        ctx.pbx.set_caller(ctx.chan, parse_callerid(argv[2]))
    return AgiReply("200 result=1")


@COMMANDS.register("set context")
async def set_context(ctx: CommandContext, argv: Sequence[str]) -> AgiReply:
    if len(argv) != 3:
        return usage()
    ctx.chan.context = argv[2]
    return AgiReply("200 result=0")


@COMMANDS.register("set extension")
async def set_extension(ctx: CommandContext, argv: Sequence[str]) -> AgiReply:
    if len(argv) != 3:
        return usage()
    ctx.chan.exten = argv[2]
    return AgiReply("200 result=0")


@COMMANDS.register("set priority")
async def set_priority(ctx: CommandContext, argv: Sequence[str]) -> AgiReply:
    if len(argv) != 3:
        return usage()
    ext = ctx.pbx.dialplan.find(ctx.chan.context, ctx.chan.exten)
    priority = ext.priority_of(argv[2]) if ext is not None else None
    if priority is None and argv[2].isdigit():
        priority = int(argv[2])
    if priority is None:
        return AgiReply("200 result=-1")
    ctx.chan.priority = priority
    return AgiReply("200 result=0")


@COMMANDS.register("set music")
async def set_music(ctx: CommandContext, argv: Sequence[str]) -> AgiReply:
    if len(argv) < 3:
        return usage()
    if argv[2].lower() == "on":
        ctx.pbx.moh_start(ctx.chan, argv[3] if len(argv) > 3 else "default")
    else:
        ctx.pbx.moh_stop(ctx.chan)
    return AgiReply("200 result=0")


@COMMANDS.register("set autohangup")
async def set_autohangup(ctx: CommandContext, argv: Sequence[str]) -> AgiReply:
    if len(argv) != 3:
        return usage()
    try:
        seconds = float(argv[2])
    except ValueError:
        return usage()
    if seconds > 0:
        pbx, chan = ctx.pbx, ctx.chan
        pbx.clock.call_later(seconds, lambda: pbx.soft_hangup(chan, 8))
    return AgiReply("200 result=0")


@COMMANDS.register("hangup")
async def hangup(ctx: CommandContext, argv: Sequence[str]) -> AgiReply:
    if len(argv) == 1:
        ctx.pbx.soft_hangup(ctx.chan, 32)
        return AgiReply("200 result=1")
    if len(argv) == 2:
        other = ctx.pbx.find_channel(argv[1])
        if other is None:
            return AgiReply("200 result=-1")
        ctx.pbx.soft_hangup(other, 32)
        return AgiReply("200 result=1")
    return usage()


@COMMANDS.register("exec")
async def exec_app(ctx: CommandContext, argv: Sequence[str]) -> AgiReply:
    if len(argv) < 2:
        return usage()
    app, data = argv[1], (argv[2] if len(argv) > 2 else "")
    if ctx.dead and app.lower() == "playback":
        return AgiReply("200 result=0", after=[("PLAYBACKSTATUS", "FAILED")])
    saved = (ctx.chan.appl, ctx.chan.data)
    outcome = await ctx.pbx.run_app(ctx.chan, app, data)
    ctx.chan.appl, ctx.chan.data = saved
    return AgiReply("200 result=-1" if outcome is STOP and ctx.chan.soft_hangup else "200 result=0")


@COMMANDS.register("stream file")
async def stream_file(ctx: CommandContext, argv: Sequence[str]) -> AgiReply:
    if len(argv) not in (4, 5):
        return usage()
    offset = _int(argv[4]) if len(argv) == 5 else 0
    played = await play(ctx, [argv[2]], argv[3])
    if played.hungup or played.missing:
        return AgiReply(
            f"200 result=-1 endpos={played.samples + offset}",
            after=[("PLAYBACKSTATUS", "FAILED")],
            failure=True,
        )
    res = ord(played.digit) if played.digit else 0
    endpos = played.samples + offset
    return AgiReply(
        f"200 result={res} endpos={endpos}",
        after=[("PLAYBACKSTATUS", "FAILED" if res else "SUCCESS")],
    )


@COMMANDS.register("control stream file")
async def control_stream_file(ctx: CommandContext, argv: Sequence[str]) -> AgiReply:
    if len(argv) < 4:
        return usage()
    played = await play(ctx, [argv[2]], argv[3])
    if played.hungup or played.missing:
        return AgiReply(f"200 result=-1 endpos={played.samples}", failure=True)
    res = ord(played.digit) if played.digit else 0
    return AgiReply(f"200 result={res} endpos={played.samples}")


@COMMANDS.register("get option")
async def get_option(ctx: CommandContext, argv: Sequence[str]) -> AgiReply:
    if len(argv) not in (4, 5):
        return usage()
    played = await play(ctx, [argv[2]], argv[3])
    if played.hungup or played.missing:
        return AgiReply(f"200 result=-1 endpos={played.samples}", failure=True)
    digit = played.digit
    if digit is None:
        timeout_ms = _int(argv[4], 5000) if len(argv) == 5 else 5000
        got = await wait_digit(ctx, timeout_ms)
        if got is None:
            return AgiReply(f"200 result=-1 endpos={played.samples}", failure=True)
        digit = got if got and got in argv[3] else None
    res = ord(digit) if digit else 0
    return AgiReply(f"200 result={res} endpos={played.samples}")


@COMMANDS.register("get data")
async def get_data(ctx: CommandContext, argv: Sequence[str]) -> AgiReply:
    if len(argv) < 3:
        return usage()
    timeout_ms = _int(argv[3]) if len(argv) >= 4 else 0
    max_digits = _int(argv[4], 1024) if len(argv) >= 5 else 1024
    first_ms, next_ms = (timeout_ms, timeout_ms) if timeout_ms > 0 else (6000, 2000)
    if timeout_ms < 0:
        first_ms = next_ms = -1
    digits = ""
    if ctx.chan.soft_hangup:
        return AgiReply("200 result=-1")
    played = await play(ctx, [argv[2]], ANY_DIGIT)
    if played.hungup or played.missing:
        return AgiReply("200 result=-1")
    pending = played.digit
    wait_ms = first_ms
    while True:
        if pending is None:
            got = await wait_digit(ctx, wait_ms)
            if got is None:
                return AgiReply("200 result=-1")
            if got == "":
                return AgiReply(f"200 result={digits} (timeout)")
            pending = got
        digit, pending = pending, None
        if digit == "#":
            return AgiReply(f"200 result={digits}")
        digits += digit
        if len(digits) >= max_digits:
            return AgiReply(f"200 result={digits}")
        wait_ms = next_ms


@COMMANDS.register("wait for digit")
async def wait_for_digit(ctx: CommandContext, argv: Sequence[str]) -> AgiReply:
    if len(argv) != 4:
        return usage()
    got = await wait_digit(ctx, _int(argv[3], -1))
    if got is None:
        return AgiReply("200 result=-1", failure=True)
    return AgiReply(f"200 result={ord(got) if got else 0}")


async def _say(ctx: CommandContext, files: list[str], escape: str) -> AgiReply:
    played = await play(ctx, files, escape)
    if played.hungup or played.missing:
        return AgiReply("200 result=-1", failure=True)
    return AgiReply(f"200 result={ord(played.digit) if played.digit else 0}")


@COMMANDS.register("say digits")
async def say_digits(ctx: CommandContext, argv: Sequence[str]) -> AgiReply:
    if len(argv) != 4 or not argv[2].lstrip("-").isdigit():
        return usage()
    return await _say(ctx, digit_files(argv[2]), argv[3])


@COMMANDS.register("say number")
async def say_number(ctx: CommandContext, argv: Sequence[str]) -> AgiReply:
    if len(argv) not in (4, 5) or not argv[2].lstrip("-").isdigit():
        return usage()
    return await _say(ctx, number_files(int(argv[2])), argv[3])


@COMMANDS.register("say alpha")
async def say_alpha(ctx: CommandContext, argv: Sequence[str]) -> AgiReply:
    if len(argv) < 4:
        return usage()
    files = [
        f"letters/{ch.lower()}" for ch in argv[2] if ch in string.ascii_letters + string.digits
    ]
    return await _say(ctx, files, argv[3])


@COMMANDS.register("say phonetic")
async def say_phonetic(ctx: CommandContext, argv: Sequence[str]) -> AgiReply:
    if len(argv) != 4:
        return usage()
    return await _say(ctx, [f"phonetic/{ch.lower()}" for ch in argv[2]], argv[3])


@COMMANDS.register("say date")
async def say_date(ctx: CommandContext, argv: Sequence[str]) -> AgiReply:
    if len(argv) != 4:
        return usage()
    return await _say(ctx, ["digits/day", "digits/mon", "digits/1", "digits/20"], argv[3])


@COMMANDS.register("say time")
async def say_time(ctx: CommandContext, argv: Sequence[str]) -> AgiReply:
    if len(argv) != 4:
        return usage()
    return await _say(ctx, ["digits/1", "digits/30", "digits/p-m"], argv[3])


@COMMANDS.register("say datetime")
async def say_datetime(ctx: CommandContext, argv: Sequence[str]) -> AgiReply:
    if len(argv) < 4:
        return usage()
    files = ["digits/day", "digits/mon", "digits/1", "digits/1", "digits/30", "digits/p-m"]
    return await _say(ctx, files, argv[3])


@COMMANDS.register("database get")
async def database_get(ctx: CommandContext, argv: Sequence[str]) -> AgiReply:
    if len(argv) != 4:
        return usage()
    value = _ASTDB.get((argv[2], argv[3]))
    return AgiReply("200 result=0" if value is None else f"200 result=1 ({value})")


@COMMANDS.register("database put")
async def database_put(ctx: CommandContext, argv: Sequence[str]) -> AgiReply:
    if len(argv) != 5:
        return usage()
    _ASTDB[(argv[2], argv[3])] = argv[4]
    return AgiReply("200 result=1")


@COMMANDS.register("database del")
async def database_del(ctx: CommandContext, argv: Sequence[str]) -> AgiReply:
    if len(argv) != 4:
        return usage()
    found = _ASTDB.pop((argv[2], argv[3]), None)
    return AgiReply("200 result=1" if found is not None else "200 result=0")


@COMMANDS.register("database deltree")
async def database_deltree(ctx: CommandContext, argv: Sequence[str]) -> AgiReply:
    if len(argv) < 3:
        return usage()
    keys = [k for k in _ASTDB if k[0] == argv[2] and (len(argv) < 4 or k[1].startswith(argv[3]))]
    for key in keys:
        del _ASTDB[key]
    return AgiReply("200 result=1" if keys else "200 result=0")


@COMMANDS.register("record file")
async def record_file(ctx: CommandContext, argv: Sequence[str]) -> AgiReply:
    """RECORD FILE file format escape timeout [offset] [BEEP] [s=silence]."""
    if len(argv) < 6:
        return usage()
    try:
        max_ms = int(argv[5])
    except ValueError:
        return usage()
    pbx, chan = ctx.pbx, ctx.chan
    escape = argv[4]
    silence_ms = 0
    for extra in argv[6:9]:
        if extra.startswith("s=") and extra[2:].isdigit():
            silence_ms = int(extra[2:]) * 1000
            break
    beep = (
        len(argv) > 6 and not argv[6].lstrip("-").isdigit() and not argv[6].startswith("s=")
    ) or (len(argv) > 7 and not argv[7].startswith("s="))
    if beep:
        played = await play(ctx, ["beep"], escape)
        if played.hungup or played.digit:
            code = -1 if played.hungup else ord(played.digit or "0")
            return AgiReply(f"200 result={code} (randomerror) endpos=0", failure=played.hungup)
    path = pbx_record_path(pbx, argv[2], argv[3])
    speech = _next_speech(chan)
    talk = speech.size / SAMPLE_RATE if speech is not None else 0.0
    limit = None if max_ms < 0 else max_ms / 1000
    # with audio flowing, silence detection ends the recording `silence` after the speech
    ends_by_silence = speech is not None and silence_ms > 0
    planned = talk + silence_ms / 1000 if ends_by_silence else None
    stop_at = min(x for x in (limit, planned) if x is not None) if (limit or planned) else None
    started = pbx.clock.now()
    outcome = "timeout"
    digit = ""
    while True:
        remaining = None if stop_at is None else stop_at - (pbx.clock.now() - started)
        reason = await chan.wait(pbx.clock, remaining, frozenset({DIGIT}))
        if reason == DIGIT:
            got = chan.dtmf.popleft()
            if got in escape:
                outcome, digit = "dtmf", got
                break
            continue
        if reason == HANGUP:
            outcome = "hangup"
        break
    elapsed = pbx.clock.now() - started
    audio = _recorded_audio(speech, elapsed)
    silence_end = (
        outcome == "timeout" and planned is not None and (limit is None or planned < limit)
    )
    result = 1  # what the last ast_waitfor returned when the time limit was reached
    if silence_end:
        # ast_stream_rewind(silence - 1000): one second of the trailing silence is kept
        audio = audio[: round((talk + 1.0) * SAMPLE_RATE)]
        result = max(1, int((limit - elapsed) * 1000)) if limit is not None else 0
    elif outcome == "dtmf":
        audio = audio[: max(0, audio.size - 200)]
    try:
        write_wav(path, audio if audio.size else None)
    except OSError:
        return AgiReply("200 result=-1 (writefile)", failure=True)
    endpos = int(audio.size)
    if outcome == "hangup":
        return AgiReply(f"200 result=-1 (hangup) endpos={endpos}", failure=True)
    if outcome == "dtmf":
        return AgiReply(f"200 result={ord(digit)} (dtmf) endpos={endpos}")
    return AgiReply(f"200 result={result} (timeout) endpos={endpos}")


def _next_speech(chan: Channel) -> Samples | None:
    take = getattr(chan.script, "next_speech", None)
    if callable(take):
        value = take()
        if isinstance(value, np.ndarray):
            return value
    return None


def _recorded_audio(speech: Samples | None, elapsed: float) -> Samples:
    """What the caller sent while recording: their speech, then silence frames; a caller
    who says nothing sends no frames at all (a Local channel has no media of its own)."""
    if speech is None:
        return np.zeros(0, dtype=np.int16)
    total = round(elapsed * SAMPLE_RATE)
    if total <= speech.size:
        return speech[:total]
    return np.concatenate([speech, silence((total - speech.size) / SAMPLE_RATE)])


def pbx_record_path(pbx: AgiCore, name: str, fmt: str) -> Path:
    """Where RECORD FILE writes: Asterisk's spool folder maps to the simulator's spool dir,
    other absolute paths are used as given, relative ones go under <spool>/sounds."""
    spool = pbx.config.spool_dir
    path = Path(name)
    prefix = Path("/var/spool/asterisk")
    if path.is_absolute():
        with contextlib.suppress(ValueError):
            path = spool / path.relative_to(prefix)
    else:
        path = spool / "sounds" / path
    return path.with_name(f"{path.name}.{fmt}")
