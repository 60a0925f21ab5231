"""Conformance of the PBX simulator with real Asterisk 22, scenarios s1 and s3.

The simulator runs the dialplan the lab ran, a raw AMI client sends the actions the capture's
client sent (the `>>` frames of ami-s1 / ami-s3, each once as many frames have arrived as
before it in the capture), and a FastAGI server sends the commands the capture's FastAGI
server sent (the `>>` lines of agi-s1 / agi-s3). Then the frames are compared with the
capture (see tests/adapters/sim/replay.py for the exact rules):

- every frame has its counterpart with the same Event/Response, the same field names in the
  same order and the same values, except this list, normalised on both sides: channel-name
  suffixes, Uniqueid/Linkedid (also inside values), bridge ids, CommandId, SessionID, the
  FastAGI host:port, EventTV/SessionTV/Timestamp, LoginTime/LastCall/LastPause, LocalAddress/
  RemoteAddress, and clock-dependent durations (Uptime, LastReload, HoldTime, TalkTime,
  RingTime, Seconds, Duration, ANSWEREDTIME/DIALEDTIME/QUEUEWAIT values). Every event the
  simulator emits is compared, VarSet and Newexten included;
- order is identical within each Asterisk thread (channel, action reply, device, bridge,
  queue member); across threads, frames more than 5 ms apart in the capture keep their order
  (closer than that, Asterisk's own threads race: s1 and s3 differ there themselves);
- the AGI lines the simulator sends equal the capture's `<<` lines (uniqueid, channel suffix,
  host:port and agi_threadid normalised).
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from callcenter.sim.clock import VirtualClock
from callcenter.sim.dialplan import parse_extensions
from callcenter.sim.dialplans import lab_dialplan
from callcenter.sim.queues import QueueConfig, Strategy, lab_queue_configs
from callcenter.sim.simulator import Simulator
from tests.adapters.sim.replay import (
    Normaliser,
    ScriptedAgiServer,
    agi_commands,
    agi_replies,
    compare_frames,
    replay_ami,
)
from tests.support.eventually import free_running
from tests.support.transcripts import timed_ami_frames

# s1 was captured before the lab dialplan got its recording and 't' queue option: this is
# what Newexten shows it ran (ivr priorities 1-6, caller script1 waiting 20 s, agent 101 3 s).
S1_DIALPLAN = """
[ivr]
exten => 88001000000,1,NoOp(inbound 8-800)
 same => n,Answer()
 same => n,AGI({agi}/ivr)
 same => n,NoOp(after agi IVR_TARGET=${IVR_TARGET})
 same => n,GotoIf($["${IVR_TARGET}" = ""]?done)
 same => n,Queue(${IVR_TARGET},,,,120)
 same => n(done),Hangup()
[callers]
exten => script1,1,NoOp(caller script1)
 same => n,Answer()
 same => n,Wait(2)
 same => n,SendDTMF(1)
 same => n,Wait(2)
 same => n,SendDTMF(2)
 same => n,Wait(20)
 same => n,Hangup()
[agents]
exten => 101,1,NoOp(agent 101 answers)
 same => n,Answer()
 same => n,Wait(3)
 same => n,Hangup()
"""
# ...and when line3 and the overflow queue did not exist yet (QueueStatus lists line2, line1).
S1_QUEUES = [
    QueueConfig("line2", Strategy.RRMEMORY, timeout=15, retry=1),
    QueueConfig("line1", Strategy.LEASTRECENT, timeout=15, retry=1, wrapuptime=2),
]

CASES = {
    "s1": ("ami-s1-ivr-queue-answer.log", "agi-s1-ivr-session.log"),
    "s3": ("ami-s3-hangup-in-ivr.log", "agi-s3-hangup-during-get-data.log"),
}


@pytest.mark.parametrize("case", sorted(CASES))
async def test_simulator_matches_the_asterisk_capture(
    case: str, transcripts_dir: Path, tmp_path: Path
) -> None:
    ami_log, agi_log = (transcripts_dir / name for name in CASES[case])
    agi = ScriptedAgiServer(agi_commands(agi_log))
    await agi.start()
    url = f"agi://127.0.0.1:{agi.port}"
    dialplan, queues = lab_dialplan(url), lab_queue_configs()
    if case == "s1":
        dialplan = dialplan.merge(parse_extensions(S1_DIALPLAN.replace("{agi}", url)))
        queues = S1_QUEUES
    simulator = Simulator(
        agi_port=agi.port,
        recordings_dir=tmp_path,
        clock=(clock := VirtualClock()),
        ami_users={"lab": "labsecret"},
        dialplan=dialplan,
        queues=queues,
        queue_music_on_hold=False,  # the lab's music on hold was broken then (see s11)
    )
    try:
        async with simulator, free_running(clock):
            replay = await replay_ami(simulator.ami_port, ami_log)
    finally:
        await agi.stop()

    assert replay.banner == "Asterisk Call Manager/11.0.0"
    expected = timed_ami_frames(ami_log)
    mismatch = compare_frames(expected, replay.frames)
    assert not mismatch, f"{case}: AMI frames differ from the capture:\n{mismatch.report()}"

    want_norm = Normaliser().learn([f for _, f in expected])
    got_norm = Normaliser().learn(replay.frames)
    want = [want_norm.agi_line(line) for line in agi_replies(agi_log)]
    got = [got_norm.agi_line(line) for line in agi.received]
    diff = "\n".join(difflib.unified_diff(want, got, "capture", "simulator", lineterm=""))
    assert want == got, f"{case}: AGI lines differ from the capture:\n{diff}"
