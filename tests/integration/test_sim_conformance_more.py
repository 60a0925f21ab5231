"""More captures replayed against the simulator (see test_sim_conformance.py for the rules).

Each starts from the PBX state the capture started from (operators still logged in, device
states cached by Asterisk, queue statistics from the previous captures). Where the captures
themselves disagree because of Asterisk's thread timing, the field is listed in `racy`:
- QueueMemberStatus.InCall: the member's device state reaches app_queue either before the
  connect (s9: 0) or after it (s1: 1);
- Response.CoreProcessedCalls counts the calls of all earlier captures.
Not replayed: s7 (Asterisk coalesced the device-state events of a call that lasted 1 ms),
s8 (ConfBridge's announcer timing), s11 (begins with the end of an earlier capture's call),
s12 and s13 (ChanSpy and VoiceMail are not simulated).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from callcenter.sim.clock import VirtualClock
from callcenter.sim.dialplans import lab_dialplan
from callcenter.sim.simulator import Simulator
from tests.adapters.sim.replay import ScriptedAgiServer, agi_commands, compare_frames, replay_ami
from tests.support.eventually import free_running
from tests.support.transcripts import timed_ami_frames

RACY = ["QueueMemberStatus.InCall", "Response.CoreProcessedCalls"]


def operator_101_from_s1(sim: Simulator) -> None:
    queues = sim.pbx.queues
    queues.add_member(
        "line1", "Local/101@agents/n", membername="Operator 101", state_interface="Local/101@agents"
    )
    line1 = queues.get("line1")
    assert line1 is not None
    line1.members["Local/101@agents/n"].calls = 1
    line1.members["Local/101@agents/n"].lastcall = int(sim.clock.epoch()) - 90
    sim.pbx.device_states["Queue:line1_avail"] = "INUSE"  # s1 ended with 101 in wrap-up


def cached(*states: tuple[str, str]) -> Callable[[Simulator], None]:
    def setup(sim: Simulator) -> None:
        sim.pbx.device_states.update(dict(states))

    return setup


def nothing(sim: Simulator) -> None:
    return None


CASES: dict[str, tuple[str, str, Callable[[Simulator], None]]] = {
    "s2 abandon": ("ami-s2-queue-abandon.log", "agi-s1-ivr-session.log", operator_101_from_s1),
    "s5 redirect": ("ami-s5-queue-answer-then-redirect.log", "agi-s1-ivr-session.log", nothing),
    "s9 no dtmf": (
        "ami-s9-no-dtmf-caller.log",
        "agi-s9-no-dtmf-caller.log",
        cached(
            ("Queue:line1_pause_Local/101@agents/n", "NOT_INUSE"), ("Queue:line1_avail", "INUSE")
        ),
    ),
    "s10 stopmixmonitor blindtransfer": (
        "ami-s10-stopmixmonitor-blindtransfer.log",
        "agi-s1-ivr-session.log",
        cached(
            ("Queue:line1_pause_Local/103@agents/n", "NOT_INUSE"), ("Queue:line1_avail", "INUSE")
        ),
    ),
    "s14 ring no answer": (
        "ami-s14-ring-no-answer-and-queue-status.log",
        "agi-s1-ivr-session.log",
        nothing,
    ),
    "s15 atxfer": (
        "ami-s15-atxfer-started.log",
        "agi-s1-ivr-session.log",
        cached(
            ("Queue:line1_pause_Local/104@agents/n", "NOT_INUSE"), ("Queue:line1_avail", "INUSE")
        ),
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
async def test_simulator_matches_more_captures(
    case: str, transcripts_dir: Path, tmp_path: Path
) -> None:
    ami_name, agi_name, setup = CASES[case]
    agi = ScriptedAgiServer(agi_commands(transcripts_dir / agi_name))
    await agi.start()
    simulator = Simulator(
        agi_port=agi.port,
        recordings_dir=tmp_path,
        clock=(clock := VirtualClock()),
        ami_users={"lab": "labsecret"},
        dialplan=lab_dialplan(f"agi://127.0.0.1:{agi.port}"),
        queue_music_on_hold=case.startswith("s15"),  # fixed in the lab between s14 and s15
    )
    try:
        async with simulator, free_running(clock):
            setup(simulator)
            replay = await replay_ami(simulator.ami_port, transcripts_dir / ami_name)
    finally:
        await agi.stop()
    mismatch = compare_frames(
        timed_ami_frames(transcripts_dir / ami_name), replay.frames, racy=RACY
    )
    assert not mismatch, f"{case}:\n{mismatch.report()}"
