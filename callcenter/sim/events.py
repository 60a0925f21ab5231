"""Builders for the AMI events the simulator sends, field for field as Asterisk 22 sends them.

Each function returns the frame's key/value pairs in wire order; names, order and texts are
taken from the real transcripts in tests/fixtures/asterisk.
"""

from __future__ import annotations

from collections.abc import Sequence

from callcenter.sim.bridges import Bridge, bridge_fields
from callcenter.sim.channels import CAUSE_TEXT, UNKNOWN, Channel, channel_fields

Pairs = list[tuple[str, str]]

CALL = "call,all"
DIALPLAN = "dialplan,all"
AGENT = "agent,all"
AGI = "agi,all"
DTMF = "dtmf,all"
SYSTEM = "system,all"
SECURITY = "security,all"


def _head(event: str, privilege: str) -> Pairs:
    return [("Event", event), ("Privilege", privilege)]


def channel_event(event: str, chan: Channel, privilege: str = CALL) -> Pairs:
    """Newchannel, Newstate, NewConnectedLine, MixMonitorStart/Stop, MusicOnHoldStop..."""
    return _head(event, privilege) + channel_fields(chan)


def newexten(chan: Channel, application: str, app_data: str) -> Pairs:
    return (
        _head("Newexten", DIALPLAN)
        + channel_fields(chan)
        + [("Extension", chan.exten), ("Application", application), ("AppData", app_data)]
    )


def varset(chan: Channel, variable: str, value: str) -> Pairs:
    return (
        _head("VarSet", DIALPLAN)
        + channel_fields(chan)
        + [("Variable", variable), ("Value", value)]
    )


def new_callerid(chan: Channel) -> Pairs:
    return (
        _head("NewCallerid", CALL)
        + channel_fields(chan)
        + [("CID-CallingPres", "0 (Presentation Allowed, Not Screened)")]
    )


def local_bridge(one: Channel, two: Channel, context: str, exten: str, optimize: bool) -> Pairs:
    return (
        _head("LocalBridge", CALL)
        + channel_fields(one, "LocalOne")
        + channel_fields(two, "LocalTwo")
        + [
            ("Context", context),
            ("Exten", exten),
            ("LocalOptimization", "Yes" if optimize else "No"),
        ]
    )


def dial_event(event: str, caller: Channel | None, dest: Channel, tail: Pairs) -> Pairs:
    """DialBegin / DialEnd / DialState; the caller block is absent for originated calls."""
    pairs = _head(event, CALL)
    if caller is not None:
        pairs += channel_fields(caller)
    return pairs + channel_fields(dest, "Dest") + tail


def hangup(chan: Channel) -> Pairs:
    cause = chan.hangup_cause
    return (
        _head("Hangup", CALL)
        + channel_fields(chan)
        + [("Cause", str(cause)), ("Cause-txt", CAUSE_TEXT.get(cause, "Unknown"))]
    )


def hangup_request(chan: Channel, cause: int, soft: bool) -> Pairs:
    event = "SoftHangupRequest" if soft else "HangupRequest"
    return _head(event, CALL) + channel_fields(chan) + [("Cause", str(cause))]


def device_state(device: str, state: str) -> Pairs:
    return [*_head("DeviceStateChange", CALL), ("Device", device), ("State", state)]


def originate_response(
    action_id: str | None,
    success: bool,
    channel: str,
    target: Sequence[tuple[str, str]],
    reason: int,
    uniqueid: str,
    cid_num: str | None,
    cid_name: str | None,
) -> Pairs:
    pairs = _head("OriginateResponse", CALL)
    if action_id:
        pairs.append(("ActionID", action_id))
    pairs += [("Response", "Success" if success else "Failure"), ("Channel", channel)]
    pairs += list(target)
    pairs += [
        ("Reason", str(reason)),
        ("Uniqueid", uniqueid),
        ("CallerIDNum", cid_num or UNKNOWN),
        ("CallerIDName", cid_name or UNKNOWN),
    ]
    return pairs


def agi_exec_start(chan: Channel, command_id: int, command: str) -> Pairs:
    return (
        _head("AGIExecStart", AGI)
        + channel_fields(chan)
        + [("CommandId", str(command_id)), ("Command", command)]
    )


def agi_exec_end(chan: Channel, command_id: int, command: str, code: int, result: str) -> Pairs:
    return (
        _head("AGIExecEnd", AGI)
        + channel_fields(chan)
        + [
            ("CommandId", str(command_id)),
            ("Command", command),
            ("ResultCode", str(code)),
            ("Result", result),
        ]
    )


def dtmf_begin(chan: Channel, digit: str, direction: str = "Received") -> Pairs:
    return (
        _head("DTMFBegin", DTMF)
        + channel_fields(chan)
        + [("Digit", digit), ("Direction", direction)]
    )


def dtmf_end(chan: Channel, digit: str, duration_ms: int, direction: str = "Received") -> Pairs:
    return (
        _head("DTMFEnd", DTMF)
        + channel_fields(chan)
        + [("Digit", digit), ("DurationMs", str(duration_ms)), ("Direction", direction)]
    )


def music_on_hold_start(chan: Channel, moh_class: str) -> Pairs:
    return [*channel_event("MusicOnHoldStart", chan), ("Class", moh_class)]


def bridge_event(event: str, bridge: Bridge, chan: Channel | None = None) -> Pairs:
    pairs = _head(event, CALL) + bridge_fields(bridge)
    if chan is not None:
        pairs += channel_fields(chan)
    return pairs


def blind_transfer(
    transferer: Channel, transferee: Channel, bridge: Bridge, context: str, exten: str
) -> Pairs:
    return [
        *_head("BlindTransfer", CALL),
        ("Result", "Success"),
        *channel_fields(transferer, "Transferer"),
        *channel_fields(transferee, "Transferee"),
        *bridge_fields(bridge),
        ("IsExternal", "Yes"),
        ("Context", context),
        ("Extension", exten),
    ]


def chanspy(event: str, spyer: Channel, spyee: Channel) -> Pairs:
    """ChanSpyStart / ChanSpyStop: the spyer's channel block, then the spyee's."""
    return [*_head(event, CALL), *channel_fields(spyer, "Spyer"), *channel_fields(spyee, "Spyee")]


def confbridge_event(
    event: str, conference: str, bridge: Bridge, chan: Channel | None, tail: Pairs, count: int
) -> Pairs:
    pairs = [*_head(event, CALL), ("Conference", conference), *bridge_fields(bridge, count)]
    if chan is not None:
        pairs += channel_fields(chan)
    return pairs + tail


# --- queues ---------------------------------------------------------------------------


def queue_caller(event: str, chan: Channel, queue: str, tail: Pairs) -> Pairs:
    """QueueCallerJoin / QueueCallerLeave / QueueCallerAbandon."""
    return _head(event, AGENT) + channel_fields(chan) + [("Queue", queue)] + tail


def agent_event(
    event: str,
    caller: Channel,
    dest: Channel | None,
    queue: str,
    interface: str,
    member_name: str,
    tail: Pairs,
) -> Pairs:
    """AgentCalled / AgentConnect / AgentComplete / AgentRingNoAnswer."""
    pairs = _head(event, AGENT) + channel_fields(caller)
    if dest is not None:
        pairs += channel_fields(dest, "Dest")
    return [*pairs, ("Queue", queue), ("Interface", interface), ("MemberName", member_name), *tail]


def queue_member_event(event: str, queue: str, member_pairs: Pairs) -> Pairs:
    """QueueMemberAdded / Removed / Pause / Penalty / Status."""
    return [*_head(event, AGENT), ("Queue", queue), *member_pairs]


# --- session ----------------------------------------------------------------------------


def fully_booted(uptime: int, last_reload: int) -> Pairs:
    return [
        *_head("FullyBooted", SYSTEM),
        ("Uptime", str(uptime)),
        ("LastReload", str(last_reload)),
        ("Status", "Fully Booted"),
    ]


def security_event(event: str, event_tv: str, severity: str, tail: Pairs) -> Pairs:
    return [
        *_head(event, SECURITY),
        ("EventTV", event_tv),
        ("Severity", severity),
        ("Service", "AMI"),
        ("EventVersion", "1"),
        *tail,
    ]
