"""A real Asterisk (22, with PJSIP) and SIPp for the tests marked `asterisk` and `make bench-sip`.

Asterisk runs unprivileged-style from a temporary directory with the rendered `asterisk_conf/`
plus a test `pjsip_site.conf`: a provider trunk identified by the caller's address (SIPp binds
127.0.0.2, so nothing else on 127.0.0.1 is taken for the trunk) and operator phones 101-107
whose static contacts are SIPp user agents (UAS) on 127.0.0.1. Every port is a free one.

SIPp plays the caller (UAC: audio from a capture, DTMF as RFC 4733 packets from the captures
Debian's sip-tester ships in /usr/share/sip-tester, tones from captures written at test time)
and the operators' phones (UAS: ring, answer after a while or never, talk with audio from a
capture or a tone, take the caller's BYE).
Scenario files are written from the small builders below, so each test says its timeline.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import socket
import struct
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

from callcenter.asterisk.conf_render import AsteriskConfValues, render_conf
from tests.support.tones import RATE, alaw, sine

ASTERISK = shutil.which("asterisk")
SIPP = shutil.which("sipp")
SIPP_MEDIA = Path(os.environ.get("CALLCENTER_SIPP_MEDIA_DIR", "/usr/share/sip-tester"))
CALLER_IP = "127.0.0.2"  # the trunk (the provider) is identified by this address
PHONES_IP = "127.0.0.1"
BOOT_TIMEOUT = 60.0
OPERATORS = ("101", "102", "103", "104", "105", "106", "107")


def modules_dir() -> Path | None:
    """Asterisk's module folder, found from the binary (/usr/sbin -> /usr/lib/asterisk)."""
    if ASTERISK is None:
        return None
    prefix = Path(ASTERISK).resolve().parent.parent
    for candidate in (prefix / "lib" / "asterisk" / "modules", prefix / "lib64" / "asterisk"):
        if candidate.is_dir():
            return candidate
    return None


def missing_for_sip() -> str | None:
    """Why the SIP end-to-end tests cannot run here, or None when they can."""
    if ASTERISK is None:
        return "needs an asterisk binary on PATH"
    modules = modules_dir()
    if modules is None or not (modules / "chan_pjsip.so").exists():
        return "needs Asterisk with chan_pjsip"
    if SIPP is None:
        return "needs SIPp (Debian: sip-tester)"
    if not (SIPP_MEDIA / "dtmf_2833_0.pcap").exists() or not (SIPP_MEDIA / "g711a.pcap").exists():
        return f"needs SIPp's RTP captures in {SIPP_MEDIA}"
    return None


def free_port(kind: socket.SocketKind = socket.SOCK_STREAM, host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class PhonePorts:
    """The SIP port each operator phone (a SIPp UAS) listens on."""

    by_extension: dict[str, int]


def site_conf(phones: PhonePorts) -> str:
    """pjsip_site.conf: the trunk and the operators' phones for one test run."""
    lines = [
        "; written by tests/support/real_asterisk.py",
        "[trunk](trunk-endpoint)",
        "aors = trunk",
        "[trunk](trunk-aor)",
        "[trunk](trunk-identify)",
        "endpoint = trunk",
        f"match = {CALLER_IP}/32",
    ]
    for extension, port in phones.by_extension.items():
        lines += [
            f"[{extension}](operator-endpoint)",
            f"aors = {extension}",
            f"[{extension}](operator-aor)",
            f"contact = sip:{extension}@{PHONES_IP}:{port}",
            "qualify_frequency = 0",  # SIPp phones would take OPTIONS for a call
        ]
    return "\n".join(lines) + "\n"


@dataclass
class RealAsterisk:
    values: AsteriskConfValues
    root: Path
    phones: PhonePorts
    process: subprocess.Popen[bytes]

    @property
    def sip_port(self) -> int:
        return int(self.values.sip_bind.rsplit(":", 1)[1])

    @property
    def log_dir(self) -> Path:
        return self.root / "state" / "log"

    def messages(self) -> str:
        path = self.log_dir / "messages.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


async def _wait_fully_booted(values: AsteriskConfValues, process: subprocess.Popen[bytes]) -> None:
    async with asyncio.timeout(BOOT_TIMEOUT):
        while True:
            if process.poll() is not None:
                raise AssertionError(f"asterisk exited during start-up ({process.returncode})")
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", values.ami_port)
            except OSError:
                await asyncio.sleep(0.2)  # polling a port that is not open yet
                continue
            try:
                await reader.readline()  # banner
                writer.write(
                    (
                        f"Action: Login\r\nUsername: {values.ami_username}\r\n"
                        f"Secret: {values.ami_secret}\r\n\r\n"
                    ).encode()
                )
                await writer.drain()
                while True:
                    line = await reader.readline()
                    if not line:
                        raise ConnectionError("AMI closed during start-up")
                    if line.strip() == b"Event: FullyBooted":
                        return
            finally:
                writer.close()


def loopback_conf_values(root: Path) -> AsteriskConfValues:
    """A configuration for an Asterisk that talks only to this host: free ports, fresh
    secrets, recordings and runtime state under `root` (no SIP site: no phones)."""
    return AsteriskConfValues(
        inbound_number="88001000000",
        agi_host="127.0.0.1",
        agi_port=free_port(),
        recordings_dir=root / "recordings",
        ami_port=free_port(),
        ami_username="callcenter",
        ami_secret=secrets.token_urlsafe(18),
        ami_events_username="callcenter-events",
        ami_events_secret=secrets.token_urlsafe(18),
        voicemail_pin="24681357",
        sip_bind=f"127.0.0.1:{free_port(socket.SOCK_DGRAM)}",
        runtime_dir=root / "state",
    )


def start_asterisk(
    root: Path,
    *,
    agi_port: int,
    ami_port: int,
    ami_secret: str,
    recordings_dir: Path,
    inbound_number: str = "88001000000",
) -> RealAsterisk:
    """Render the configuration under `root` and start Asterisk; returns once fully booted."""
    assert ASTERISK is not None
    phones = PhonePorts({ext: free_port(socket.SOCK_DGRAM) for ext in OPERATORS})
    values = AsteriskConfValues(
        inbound_number=inbound_number,
        agi_host="127.0.0.1",
        agi_port=agi_port,
        recordings_dir=recordings_dir.resolve(),
        ami_port=ami_port,
        ami_username="callcenter",
        ami_secret=ami_secret,
        ami_events_username="callcenter-events",
        ami_events_secret=secrets.token_urlsafe(18),
        voicemail_pin="24681357",
        sip_bind=f"0.0.0.0:{free_port(socket.SOCK_DGRAM, '0.0.0.0')}",
        runtime_dir=root / "state",
    )
    conf_dir = root / "etc"
    render_conf(values, conf_dir)
    (conf_dir / "pjsip_site.conf").write_text(site_conf(phones), encoding="utf-8")
    with (root / "stdout.log").open("wb") as console:
        process = subprocess.Popen(
            [ASTERISK, "-C", str(conf_dir / "asterisk.conf"), "-f", "-n"],
            stdin=subprocess.DEVNULL,
            stdout=console,
            stderr=subprocess.STDOUT,
        )
    running = RealAsterisk(values, root, phones, process)
    try:
        asyncio.run(_wait_fully_booted(values, process))
    except BaseException:
        running.stop()
        raise
    return running


# --- SIPp -----------------------------------------------------------------------------------

_DTMF_NAMES = {"*": "star", "#": "pound"}


@dataclass(frozen=True)
class Pause:
    seconds: float


@dataclass(frozen=True)
class Keys:
    """RFC 4733 digits, one capture each, `gap` seconds apart.

    Each key is sent from a copy of the shipped capture renumbered to follow the keys before
    it (see `write_dtmf_capture`)."""

    digits: str
    gap: float = 0.6


@dataclass(frozen=True)
class Speak:
    """Speech from SIPp's G.711 capture (7 s); plays in the background."""


@dataclass(frozen=True)
class Tone:
    """A steady sine of `frequency` Hz for `seconds` (peak `level` of full scale), sent as
    G.711 A-law RTP from a capture written for the test (see `write_tone_capture`); plays in
    the background, so follow it with a Pause at least as long as `duration`.

    `silence_before` and `silence_after` send RTP silence around it, as a phone without
    silence suppression does all call long. A party that sends nothing between captures is
    not what MixMonitor expects: while neither leg carries audio it writes nothing, and the
    file comes out shorter than the call."""

    frequency: float
    seconds: float
    level: float = 0.3
    silence_before: float = 0.0
    silence_after: float = 0.0

    @property
    def duration(self) -> float:
        return self.silence_before + self.seconds + self.silence_after


CallerStep = Pause | Keys | Speak | Tone


def _pcap(name: str) -> str:
    path = SIPP_MEDIA / name  # an absolute name stays as it is
    return f'<nop><action><exec play_pcap_audio="{escape(str(path))}"/></action></nop>'


def _steps_xml(steps: Sequence[CallerStep], work: Path, name: str) -> list[str]:
    out: list[str] = []
    sent = 0  # captures written so far: each one's RTP numbering follows the one before
    for step in steps:
        if isinstance(step, Pause):
            out.append(f'<pause milliseconds="{round(step.seconds * 1000)}"/>')
        elif isinstance(step, Speak):
            out.append(_pcap("g711a.pcap"))
        elif isinstance(step, Tone):
            sent += 1
            capture = work / f"{name}-tone-{sent}.pcap"
            write_tone_capture(capture, step, order=sent)
            out.append(_pcap(str(capture)))
        else:
            for digit in step.digits:
                sent += 1
                capture = work / f"{name}-dtmf-{sent}.pcap"
                source = SIPP_MEDIA / f"dtmf_2833_{_DTMF_NAMES.get(digit, digit)}.pcap"
                write_dtmf_capture(source, capture, order=sent)
                out.append(_pcap(str(capture)))
                out.append(f'<pause milliseconds="{round(step.gap * 1000)}"/>')
    return out


_PCAP_HEADER = 24
_RECORD_HEADER = 16
_RTP_AT = 14 + 20 + 8  # Ethernet, IPv4 (no options), UDP
_UDP_CHECKSUM_AT = 14 + 20 + 6


def write_dtmf_capture(source: Path, target: Path, *, order: int) -> None:
    """A copy of an RFC 4733 capture whose RTP timestamps and sequence numbers come after
    those of every capture with a lower `order`.

    The shipped captures carry fixed timestamps (digit 1 the lowest, # the highest), and
    Asterisk ignores an event whose timestamp is not later than the last one's: without this,
    "4 then 1" or "1 then 1" would lose the second key. (The UDP checksum is cleared, which
    IPv4 allows.)"""
    data = bytearray(source.read_bytes())
    offset = _PCAP_HEADER
    first: tuple[int, int] | None = None
    while offset + _RECORD_HEADER <= len(data):
        (length,) = struct.unpack_from("<I", data, offset + 8)
        packet = offset + _RECORD_HEADER
        rtp = packet + _RTP_AT
        seq, stamp = struct.unpack_from("!HI", data, rtp + 2)
        if first is None:
            first = (seq, stamp)
        new_seq = (seq - first[0] + order * 1000) & 0xFFFF
        new_stamp = (stamp - first[1] + order * 160_000) & 0xFFFFFFFF
        struct.pack_into("!HI", data, rtp + 2, new_seq, new_stamp)
        struct.pack_into("!H", data, packet + _UDP_CHECKSUM_AT, 0)
        offset = packet + length
    target.write_bytes(bytes(data))


_PTIME = 0.02  # 20 ms of audio per packet, as the SDP offers
_PCMA = 8  # RTP payload type of G.711 A-law


def write_tone_capture(target: Path, tone: Tone, *, order: int) -> None:
    """A capture of `tone` as PCMA RTP, one packet every 20 ms, for SIPp's play_pcap_audio.

    SIPp sends each packet's UDP payload from the call's media port to the far end's (the
    capture's own addresses and ports are replaced), at the capture's pace. The framing is
    the one of SIPp's own g711a.pcap: Ethernet, IPv4 without options, UDP. Sequence numbers
    and timestamps follow those of lower `order`, as `write_dtmf_capture` numbers keys."""
    payload = alaw(
        np.concatenate(
            [
                np.zeros(round(tone.silence_before * RATE)),
                sine(tone.frequency, tone.seconds, level=tone.level),
                np.zeros(round(tone.silence_after * RATE)),
            ]
        )
    )
    size = round(_PTIME * RATE)
    ssrc = 0x70000000 + order
    records = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]  # Ethernet
    for index in range(len(payload) // size):
        rtp = (
            struct.pack(
                "!BBHII",
                0x80,  # version 2, no padding, extension or CSRC
                _PCMA | (0x80 if index == 0 else 0),  # marker on a talk spurt's first packet
                (order * 1000 + index) & 0xFFFF,
                (order * 160_000 + index * size) & 0xFFFFFFFF,
                ssrc,
            )
            + payload[index * size : (index + 1) * size]
        )
        udp = struct.pack("!HHHH", 5000, 2006, 8 + len(rtp), 0) + rtp  # checksum: none
        header = struct.pack(
            "!BBHHHBBH4s4s",
            0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
            bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]),
        )  # fmt: skip
        header = header[:10] + struct.pack("!H", _ip_checksum(header)) + header[12:]
        frame = bytes(6) + bytes(6) + b"\x08\x00" + header + udp
        micros = round(index * _PTIME * 1_000_000)
        records.append(
            struct.pack("<IIII", micros // 1_000_000, micros % 1_000_000, len(frame), len(frame))
            + frame
        )
    target.write_bytes(b"".join(records))


def _ip_checksum(header: bytes) -> int:
    total: int = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


_SDP = """v=0
o=sipp 1 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 8 101
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=ptime:20
a=sendrecv
"""


def caller_scenario(
    number: str, steps: Sequence[CallerStep], *, hang_up_after: float, work: Path, name: str
) -> str:
    """A caller on the trunk: INVITE, then `steps`, then up to `hang_up_after` seconds until
    Asterisk hangs up (its BYE is answered), else the caller sends BYE."""
    ending = f"""<recv request="BYE" timeout="{round(hang_up_after * 1000)}" ontimeout="hangup"/>
  <send next="end"><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

  ]]></send>
  <label id="hangup"/>
  <send retrans="500"><![CDATA[
BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:NUMBER@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 2 BYE
Contact: <sip:NUMBER@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

  ]]></send>
  <recv response="200" crlf="true"/>
  <label id="end"/>"""
    body = "\n  ".join(_steps_xml(steps, work, name))
    xml = f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="caller">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Caller" <sip:NUMBER@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:NUMBER@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

{_SDP}
  ]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true"/>
  <send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:NUMBER@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Contact: <sip:NUMBER@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

  ]]></send>
  {body}
  {ending}
</scenario>
"""
    return xml.replace("NUMBER", escape(number))


def phone_scenario(
    *,
    answer_after: float | None,
    talk: Sequence[CallerStep] = (Speak(),),
    work: Path,
    name: str = "phone",
) -> str:
    """An operator's phone: rings; answers after `answer_after` s (None: never, the caller
    cancels), says `talk` (by default the speech capture) once answered, then waits for the
    caller's BYE. Serves calls one by one."""
    ringing = """<recv request="INVITE" crlf="true"/>
  <send><![CDATA[
SIP/2.0 180 Ringing
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Content-Length: 0

  ]]></send>"""
    if answer_after is None:
        rest = """<recv request="CANCEL">
    <action><ereg regexp="CSeq: ([0-9]+)" search_in="msg" assign_to="all,cseq"/></action>
  </recv>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

  ]]></send>
  <send><![CDATA[
SIP/2.0 487 Request Terminated
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
CSeq: [$cseq] INVITE
Content-Length: 0

  ]]></send>
  <recv request="ACK"/>"""
    else:
        said = "\n  ".join(_steps_xml(talk, work, name))
        rest = f"""<pause milliseconds="{round(answer_after * 1000)}"/>
  <send retrans="500"><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Content-Type: application/sdp
Content-Length: [len]

{_SDP}
  ]]></send>
  <recv request="ACK" crlf="true"/>
  {said}
  <recv request="BYE"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

  ]]></send>"""
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="phone">
  {ringing}
  {rest}
</scenario>
"""


def _sipp_args(scenario: Path, ip: str, port: int, log_dir: Path) -> list[str]:
    assert SIPP is not None
    return [
        SIPP,
        "-sf",
        str(scenario),
        "-i",
        ip,
        "-p",
        str(port),
        "-mi",
        ip,
        "-mp",
        str(free_port(socket.SOCK_DGRAM, ip) & ~1),
        "-nostdin",
        "-trace_err",
        "-error_file",
        str(log_dir / f"{scenario.stem}-errors.log"),
        "-trace_screen",
        "-screen_file",
        str(log_dir / f"{scenario.stem}-screen.log"),
    ]


@contextmanager
def phone(
    asterisk: RealAsterisk,
    extension: str,
    work: Path,
    *,
    answer_after: float | None,
    talk: Sequence[CallerStep] = (Speak(),),
) -> Iterator[subprocess.Popen[bytes]]:
    """Operator `extension`'s phone (a SIPp UAS) for the duration of the block."""
    name = f"phone-{extension}"
    scenario = work / f"{name}.xml"
    scenario.write_text(
        phone_scenario(answer_after=answer_after, talk=talk, work=work, name=name),
        encoding="utf-8",
    )
    port = asterisk.phones.by_extension[extension]
    args = _sipp_args(scenario, PHONES_IP, port, work)
    with (work / f"phone-{extension}.stderr").open("wb") as stderr:
        process = subprocess.Popen(
            [*args, "-bind_local"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@dataclass(frozen=True)
class CallerRun:
    returncode: int
    errors: str


async def place_call(
    asterisk: RealAsterisk,
    work: Path,
    steps: Sequence[CallerStep],
    *,
    number: str = "+79161234567",
    name: str = "caller",
    hang_up_after: float,
    limit: float = 180.0,
) -> CallerRun:
    """One SIPp call from the trunk to the 8-800 number; returns when SIPp exits.

    After `steps` the caller stays `hang_up_after` seconds, or less if Asterisk hangs up."""
    scenario = work / f"{name}.xml"
    scenario.write_text(
        caller_scenario(number, steps, hang_up_after=hang_up_after, work=work, name=name),
        encoding="utf-8",
    )
    args = _sipp_args(scenario, CALLER_IP, free_port(socket.SOCK_DGRAM, CALLER_IP), work)
    args += [
        "-m",
        "1",
        "-s",
        asterisk.values.inbound_number,
        "-timeout",
        f"{int(limit)}s",
        f"127.0.0.1:{asterisk.sip_port}",
    ]
    process = await asyncio.create_subprocess_exec(
        *args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, stderr = await process.communicate()
    errors_file = work / f"{name}-errors.log"
    errors = errors_file.read_text(errors="replace") if errors_file.exists() else ""
    return CallerRun(process.returncode or 0, errors + stderr.decode(errors="replace"))


def not_found_lines(messages: str) -> list[str]:
    """Asterisk's complaints about sound files it could not open."""
    return [
        line for line in messages.splitlines() if re.search(r"does not exist in any format", line)
    ]
