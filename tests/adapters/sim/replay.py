"""Replay a real Asterisk transcript against the simulator and compare what comes back.

Peers:
- `ScriptedAgiServer`: a FastAGI server that sends the commands the real FastAGI server sent
  in an agi-*.log transcript (its `>>` lines), one after each reply, and records every line
  the simulator sends.
- `replay_ami`: a raw-socket AMI client that sends the actions of an ami-*.log transcript
  (its `>>` frames), each once the simulator has sent as many frames as Asterisk had sent
  before that action, and records every frame it receives.

Comparison (`compare_frames`): values are first normalised (`normalise`, the documented list
below); then
1. every frame must have its counterpart: same Event (or Response), same field names in the
   same order, same normalised values;
2. within one *stream* the order must be identical. A stream is what one Asterisk thread
   produces in order: one channel (by Uniqueid), one action's reply (ActionID), one
   Originate's OriginateResponse, one device (DeviceStateChange), one bridge, one member;
3. across streams, two frames more than ORDER_WINDOW apart in the transcript must keep their
   order. Closer than that, Asterisk's own threads race (s1 and s3 show OriginateResponse on
   either side of the first Newexten, DeviceStateChange anywhere in a burst), so no order is
   defined there.

Normalised (identifiers, clocks, addresses, durations), nothing else:
- channel-name suffixes `-0000000e;1` and Uniqueid/Linkedid values (also inside values such
  as the rec-<Uniqueid>.wav file name), bridge ids, AGI CommandId, SessionID, agi_threadid:
  renamed by order of first appearance, so the *structure* (same id in the same places) is
  still compared;
- EventTV, SessionTV, Ping Timestamp, CoreStartup/Reload date and time, LoginTime, LastCall,
  LastPause (when not 0), LocalAddress, RemoteAddress, the FastAGI host:port;
- durations in seconds or ms that depend on the clock: Uptime, LastReload, HoldTime,
  TalkTime, RingTime, Holdtime, LongestHoldTime, Wait, Seconds, Duration, AnsweredTime and
  the ANSWEREDTIME/DIALEDTIME/QUEUEWAIT(_MS) variables when set.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from callcenter.pbx.frames import AmiFrame, FrameDecoder, encode_frame
from tests.support.transcripts import FROM_ASTERISK, TO_ASTERISK, read_lines

ORDER_WINDOW = 0.005  # seconds: Asterisk timestamps frames of one burst within a few ms

_UNIQUEID = re.compile(r"\b1\d{9}\.\d+\b")
_SUFFIX = re.compile(r"-([0-9a-f]{8})(?=;[12]\b|\b)")
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_AGI_ADDR = re.compile(r"agi://[^/\s]+")

TIMESTAMP_FIELDS = {
    "EventTV": "<tv>",
    "SessionTV": "<tv>",
    "Timestamp": "<ts>",
    "CoreStartupDate": "<date>",
    "CoreStartupTime": "<time>",
    "CoreReloadDate": "<date>",
    "CoreReloadTime": "<time>",
    "LocalAddress": "<addr>",
    "RemoteAddress": "<addr>",
}
EPOCH_FIELDS = {"LoginTime", "LastCall", "LastPause"}
DURATION_FIELDS = {
    "Uptime",
    "LastReload",
    "HoldTime",
    "TalkTime",
    "RingTime",
    "Holdtime",
    "LongestHoldTime",
    "Wait",
    "Seconds",
    "Duration",
    "AnsweredTime",
}
DURATION_VARIABLES = {
    "ANSWEREDTIME",
    "ANSWEREDTIME_MS",
    "DIALEDTIME",
    "DIALEDTIME_MS",
    "QUEUEWAIT",
    "QUEUEWAIT_MS",
}
ID_FIELDS = {
    "CommandId": "C",
    "SessionID": "S",
    "BridgeUniqueid": "B",
    "BridgeID": "B",
    "BridgeId": "B",
}


class Normaliser:
    """Renames identifiers so two runs can be compared.

    Channels are named after what they are, not when they were made: a Uniqueid becomes
    `<Local/human@outbound-sim;1#0>` (its channel, suffix dropped, #k-th channel of that
    name) and a name suffix `-0000000e` becomes `-<k>`, learned from the Newchannel events;
    so the comparison holds even when Asterisk created parallel calls in another order.
    Other identifiers (bridges, CommandId, SessionID) are numbered by first appearance.
    """

    _NAME = re.compile(r"^(?P<base>.+)-(?P<suffix>[0-9a-f]{8})(?P<half>;[12])?$")

    def __init__(self, racy: Sequence[str] = ()) -> None:
        self._names: dict[tuple[str, str], str] = {}
        self._counts: dict[str, int] = defaultdict(int)
        self._racy = set(racy)
        self._channel_ids: dict[str, str] = {}
        self._suffixes: dict[str, str] = {}
        self._bases: dict[str, int] = defaultdict(int)

    def learn(self, frames: Sequence[AmiFrame]) -> Normaliser:
        for frame in frames:
            if frame.event != "Newchannel":
                continue
            match = self._NAME.match(frame.get("Channel") or "")
            uniqueid = frame.get("Uniqueid") or ""
            if match is None or not uniqueid:
                continue
            base, suffix, half = (
                match.group("base"),
                match.group("suffix"),
                match.group("half") or "",
            )
            if suffix not in self._suffixes:
                self._suffixes[suffix] = str(self._bases[base])
                self._bases[base] += 1
            self._channel_ids[uniqueid] = f"<{base}{half}#{self._suffixes[suffix]}>"
        return self

    def rename(self, kind: str, value: str) -> str:
        key = (kind, value)
        if key not in self._names:
            self._counts[kind] += 1
            self._names[key] = f"<{kind}{self._counts[kind]}>"
        return self._names[key]

    def text(self, value: str) -> str:
        for uniqueid in sorted(self._channel_ids, key=len, reverse=True):
            if uniqueid in value:
                value = re.sub(
                    re.escape(uniqueid) + r"(?![\w;.])", self._channel_ids[uniqueid], value
                )
        value = _UUID.sub(lambda m: self.rename("B", m.group(0)), value)
        value = _UNIQUEID.sub(lambda m: self.rename("U", m.group(0)), value)
        value = _SUFFIX.sub(lambda m: "-" + self._suffix(m.group(1)), value)
        return _AGI_ADDR.sub("agi://<agi>", value)

    def _suffix(self, suffix: str) -> str:
        known = self._suffixes.get(suffix)
        return f"<{known}>" if known is not None else self.rename("N", suffix)

    def frame(self, frame: AmiFrame) -> tuple[tuple[str, str], ...]:
        pairs = []
        variable = frame.get("Variable")
        for key, value in frame.pairs:
            if f"{frame.event or 'Response'}.{key}" in self._racy:
                value = "<racy>"
            elif key in TIMESTAMP_FIELDS:
                value = TIMESTAMP_FIELDS[key]
            elif key in EPOCH_FIELDS and value != "0":
                value = "<epoch>"
            elif key in DURATION_FIELDS or (
                key == "Value" and variable in DURATION_VARIABLES and value != ""
            ):
                value = "<dur>"
            elif key in ID_FIELDS and value:
                value = self.rename(ID_FIELDS[key], value)
            else:
                value = self.text(value)
            pairs.append((key, value))
        return tuple(pairs)

    def agi_line(self, line: str) -> str:
        if line.startswith("agi_threadid:"):
            return "agi_threadid: <thread>"
        return self.text(line)


def stream_of(frame: AmiFrame) -> str:
    """Which Asterisk thread produced `frame` (see module docstring)."""
    if frame.response is not None or (frame.action_id and frame.event != "OriginateResponse"):
        return f"action:{frame.action_id}"
    if frame.event == "OriginateResponse":
        return f"originate:{frame.action_id}"
    if frame.event == "AgentComplete":
        # sent from app_queue's stasis subscription, not from the caller's channel thread
        return f"queue-stasis:{frame.get('Uniqueid')}"
    for key in ("Uniqueid", "DestUniqueid", "LocalOneUniqueid", "TransfererUniqueid"):
        if frame.get(key):
            return f"channel:{frame.get(key)}"
    if frame.get("BridgeUniqueid"):
        return f"bridge:{frame.get('BridgeUniqueid')}"
    if frame.get("Device"):
        return f"device:{frame.get('Device')}"
    if frame.get("Interface"):
        return f"member:{frame.get('Queue')}/{frame.get('Interface')}"
    return "global"


@dataclass
class Mismatch:
    problems: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.problems)

    def report(self) -> str:
        return "\n".join(self.problems[:60])


def _describe(pairs: Sequence[tuple[str, str]]) -> str:
    return " | ".join(f"{k}={v}" for k, v in pairs)


def compare_frames(
    expected: Sequence[tuple[float, AmiFrame]],
    actual: Sequence[AmiFrame],
    window: float = ORDER_WINDOW,
    racy: Sequence[str] = (),
) -> Mismatch:
    """Compare the transcript's frames (with times) with what the simulator sent.

    `racy` lists extra `Event.Field` values to ignore for one comparison, where the
    transcripts themselves disagree (e.g. QueueMemberStatus.InCall is 1 in s1, 0 in s9).
    """
    result = Mismatch()
    exp_norm = Normaliser(racy).learn([f for _, f in expected])
    act_norm = Normaliser(racy).learn(actual)
    exp = [(t, stream_of(f), exp_norm.frame(f)) for t, f in expected]
    act = [(stream_of(f), act_norm.frame(f)) for f in actual]
    exp_streams: dict[str, list[int]] = defaultdict(list)
    act_streams: dict[str, list[int]] = defaultdict(list)
    for i, (_, stream, _) in enumerate(exp):
        exp_streams[stream].append(i)
    for i, (stream, _) in enumerate(act):
        act_streams[stream].append(i)
    _sort_listings(exp_streams, [f for _, _, f in exp])
    _sort_listings(act_streams, [f for _, f in act])
    exp_order = sorted(exp_streams, key=lambda s: exp_streams[s][0])
    act_order = sorted(act_streams, key=lambda s: act_streams[s][0])
    exp_kinds = [s.split(":")[0] for s in exp_order]
    act_kinds = [s.split(":")[0] for s in act_order]
    mapping: dict[int, int] = {}
    pair_streams = _pair_streams(exp_order, act_order, exp_norm, act_norm)
    if pair_streams is None:
        result.problems.append(f"streams differ: transcript {exp_kinds} vs simulator {act_kinds}")
        pair_streams = list(zip(exp_order, act_order, strict=False))
    for exp_stream, act_stream in pair_streams:
        e_idx, a_idx = exp_streams[exp_stream], act_streams[act_stream]
        for k in range(max(len(e_idx), len(a_idx))):
            if k >= len(e_idx):
                result.problems.append(
                    f"[{act_stream}] extra frame from the simulator: {_describe(act[a_idx[k]][1])}"
                )
                continue
            if k >= len(a_idx):
                result.problems.append(
                    f"[{exp_stream}] missing frame #{e_idx[k]}: {_describe(exp[e_idx[k]][2])}"
                )
                continue
            want, got = exp[e_idx[k]][2], act[a_idx[k]][1]
            if want != got:
                result.problems.append(_diff(exp_stream, e_idx[k], want, got))
            mapping[e_idx[k]] = a_idx[k]
    # order across streams
    times = [t for t, _, _ in exp]
    for i in range(len(exp)):
        for j in range(i + 1, len(exp)):
            if times[j] - times[i] <= window or i not in mapping or j not in mapping:
                continue
            if mapping[i] > mapping[j]:
                result.problems.append(
                    f"order: transcript frame #{i} ({_describe(exp[i][2][:3])}) at {times[i]:.3f} "
                    f"comes before #{j} ({_describe(exp[j][2][:3])}) at {times[j]:.3f}, "
                    "the simulator sent them the other way round"
                )
    return result


# Channel listings come in the order of Asterisk's channel container (a hash table): the
# rows of one Status / CoreShowChannels reply are compared as a set, sorted by channel.
LISTING_EVENTS = {"Status", "CoreShowChannel"}


def _sort_listings(
    streams: dict[str, list[int]], frames: list[tuple[tuple[str, str], ...]]
) -> None:
    for stream, indexes in streams.items():
        if not stream.startswith("action:"):
            continue
        rows = [i for i in indexes if dict(frames[i]).get("Event") in LISTING_EVENTS]
        if len(rows) < 2:
            continue
        ordered = sorted(rows, key=lambda i: dict(frames[i]).get("Channel", ""))
        slots = iter(ordered)
        streams[stream] = [next(slots) if i in rows else i for i in indexes]


def _pair_streams(
    exp_order: list[str], act_order: list[str], exp_norm: Normaliser, act_norm: Normaliser
) -> list[tuple[str, str]] | None:
    """Pair transcript streams with simulator streams by their normalised names."""
    if len(exp_order) != len(act_order):
        return None
    by_key = {act_norm.text(stream): stream for stream in act_order}
    pairs = []
    for stream in exp_order:
        match = by_key.get(exp_norm.text(stream))
        if match is None:
            return None
        pairs.append((stream, match))
    return pairs


def _diff(
    stream: str, index: int, want: tuple[tuple[str, str], ...], got: tuple[tuple[str, str], ...]
) -> str:
    lines = [f"[{stream}] frame #{index} differs:"]
    want_keys, got_keys = [k for k, _ in want], [k for k, _ in got]
    if want_keys != got_keys:
        lines.append(f"  fields: transcript {want_keys}")
        lines.append(f"          simulator  {got_keys}")
    else:
        for (key, a), (_, b) in zip(want, got, strict=True):
            if a != b:
                lines.append(f"  {key}: transcript {a!r}, simulator {b!r}")
    return "\n".join(lines)


# --- peers ------------------------------------------------------------------------------------


def agi_commands(path: Path) -> list[bytes]:
    return [line.data for line in read_lines(path) if line.direction == TO_ASTERISK]


def agi_replies(path: Path) -> list[str]:
    return [line.data.decode() for line in read_lines(path) if line.direction == FROM_ASTERISK]


class ScriptedAgiServer:
    """FastAGI server replaying a transcript's commands; records what the simulator sends."""

    def __init__(self, commands: Sequence[bytes]) -> None:
        self.commands = list(commands)
        self.received: list[str] = []
        self.sessions = 0
        self.done = asyncio.Event()
        self._server: asyncio.base_events.Server | None = None
        self.port = 0

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.sessions += 1
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                self.received.append(line.decode())
                if line == b"\n":
                    break
            for command in self.commands:
                writer.write(command)
                await writer.drain()
                while True:
                    line = await reader.readline()
                    if not line:
                        return
                    self.received.append(line.decode())
                    if line[:3].isdigit():
                        break
        finally:
            writer.close()
            self.done.set()


def _channels(frames: Sequence[AmiFrame]) -> dict[str, tuple[str, str]]:
    """Normalised channel token -> (channel name, uniqueid), from Newchannel events."""
    norm = Normaliser().learn(frames)
    out: dict[str, tuple[str, str]] = {}
    for frame in frames:
        if frame.event == "Newchannel":
            uniqueid = frame.get("Uniqueid") or ""
            token = norm._channel_ids.get(uniqueid)
            if token is not None:
                out[token] = (frame.get("Channel") or "", uniqueid)
    return out


def _translator(
    transcript: Sequence[AmiFrame], received: Sequence[AmiFrame]
) -> Callable[[AmiFrame], list[tuple[str, str]]]:
    """Rewrite channel names / Uniqueids the transcript's client learnt from Asterisk (e.g.
    from CoreShowChannels) into the simulator's names for the same channels."""
    theirs, ours = _channels(transcript), _channels(received)
    mapping = {}
    for token, (name, uniqueid) in theirs.items():
        if token in ours:
            mapping[name] = ours[token][0]
            mapping[uniqueid] = ours[token][1]

    def translate(frame: AmiFrame) -> list[tuple[str, str]]:
        return [(key, mapping.get(value, value)) for key, value in frame.pairs]

    return translate


@dataclass
class AmiReplay:
    frames: list[AmiFrame]
    banner: str | None


async def replay_ami(port: int, transcript: Path, patience: float = 15.0) -> AmiReplay:
    """Send the transcript's actions, each when as many frames have arrived as before it in
    the transcript; return everything received until the server closes the connection."""
    incoming, outgoing = FrameDecoder(), FrameDecoder()
    seen = 0
    plan: list[tuple[int, AmiFrame]] = []
    for line in read_lines(transcript):
        if line.direction == FROM_ASTERISK:
            seen += len(list(incoming.feed(line.data)))
        else:
            plan.extend((seen, frame) for frame in outgoing.feed(line.data))
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    decoder = FrameDecoder()
    received: list[AmiFrame] = []
    arrived = asyncio.Condition()

    async def read() -> None:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            async with arrived:
                received.extend(decoder.feed(data))
                arrived.notify_all()
        async with arrived:
            arrived.notify_all()

    transcript_frames = list(
        FrameDecoder().feed(
            b"".join(
                line.data for line in read_lines(transcript) if line.direction == FROM_ASTERISK
            )
        )
    )
    # actions the transcript's client sent together (before any new reply) go in one write,
    # as that client pipelined them
    batches: list[tuple[int, list[AmiFrame]]] = []
    for needed, frame in plan:
        if batches and batches[-1][0] == needed:
            batches[-1][1].append(frame)
        else:
            batches.append((needed, [frame]))
    reading = asyncio.create_task(read())
    late = False
    try:
        for needed, frames in batches:
            if not late:
                try:
                    async with arrived:

                        def enough(n: int = needed) -> bool:
                            return len(received) >= n or reading.done()

                        await asyncio.wait_for(arrived.wait_for(enough), patience)
                except TimeoutError:
                    late = True  # the simulator sent fewer frames; the comparison will say which
            translate = _translator(transcript_frames, received)
            writer.write(b"".join(encode_frame(translate(frame)) for frame in frames))
            await writer.drain()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(reading), patience)
    finally:
        writer.close()
        reading.cancel()
    return AmiReplay(received, decoder.banner)
