"""The Simulator façade: placing calls, operators, scenarios, the dialer, counters."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from callcenter.sim.callers import CallerScript, KeyPress
from callcenter.sim.clock import VirtualClock
from callcenter.sim.parties import CalledParty, Operator, Outcome
from callcenter.sim.scenarios import load_scenario, parse_scenario
from callcenter.sim.simulator import CallOutcome, Simulator
from tests.adapters.sim.fastagi import AgiSessionPeer, FastAgiServer
from tests.adapters.sim.raw_ami import RawAmi
from tests.support.eventually import finished, free_running


async def route_to_line1(peer: AgiSessionPeer) -> None:
    """A minimal IVR: key 9 ends the call in the IVR, anything else goes to line 1."""
    reply = await peer.command("GET DATA beep 2000 1")
    if reply != "200 result=9":
        await peer.command("SET VARIABLE IVR_TARGET line1")


async def dialer(peer: AgiSessionPeer) -> None:
    await peer.command("GET VARIABLE AMDSTATUS")
    await peer.command('STREAM FILE hello-world ""')
    await peer.command("HANGUP")


async def test_answered_abandoned_and_ivr_outcomes(tmp_path: Path) -> None:
    async with (
        FastAgiServer(route_to_line1) as agi,
        Simulator(
            agi_port=agi.port, recordings_dir=tmp_path, clock=(clock := VirtualClock())
        ) as sim,
        free_running(clock),
    ):
        sim.add_operator(Operator("101", answer_after=1, talk_time=20), queues=["line1"])
        answered = await sim.place_inbound_call(CallerScript(number="+79160000001", talk_time=5))
        impatient = await sim.place_inbound_call(CallerScript(number="+79160000002", patience=3))
        closed = await sim.place_inbound_call(CallerScript(keys=[KeyPress(0.2, "9")]))
        gone = await sim.place_inbound_call(CallerScript(hangup_after=0.3))
        results = [await h for h in (answered, impatient, closed, gone)]
        # every inbound call carries a CALL_UUID from its first moment (the recording's name)
        assert str(uuid.UUID(answered.call_uuid)) == answered.call_uuid
        assert sim.events_for_call(answered.linkedid) > 50
    outcomes = [r.outcome for r in results]
    assert outcomes == [
        CallOutcome.ANSWERED,
        CallOutcome.ABANDONED,
        CallOutcome.CLOSED_BY_IVR,
        CallOutcome.HUNG_UP_IN_IVR,
    ]
    assert results[0].wait_seconds == pytest.approx(1.0, abs=0.2)  # the operator's ring time
    assert results[1].wait_seconds == pytest.approx(3.0, abs=0.2)  # the caller's patience


async def test_a_scenario_runs_on_simulated_time_and_sums_up(tmp_path: Path) -> None:
    clock = VirtualClock()
    async with (
        FastAgiServer(route_to_line1) as agi,
        Simulator(agi_port=agi.port, recordings_dir=tmp_path, clock=clock, seed=11) as sim,
    ):
        summary = await finished(clock, sim.run_scenario(load_scenario("smoke"), duration=30))
        # the scenario's 30 s and its last calls' ends are simulated time, not the machine's
        assert 30 <= clock.now() < 60
    # smoke: a call every 5 s for 30 s, operators answer in 1 s and talk 5 s
    assert summary.calls == 5
    assert summary.answered + summary.hung_up_in_ivr == 5
    assert summary.abandoned == 0
    assert 0 <= summary.avg_wait < 10


async def test_a_scenario_with_too_few_operators_has_abandons(tmp_path: Path) -> None:
    scenario = parse_scenario(
        """
        name: crowded
        seed: 4
        arrivals: {process: fixed, per_minute: 30}
        callers: [{name: impatient, patience: 4, talk_time: 30}]
        operators: [{queue: line1, count: 1, answer_after: 1, talk_time: 30}]
        """
    )
    async with (
        FastAgiServer(route_to_line1) as agi,
        Simulator(
            agi_port=agi.port, recordings_dir=tmp_path, clock=(clock := VirtualClock())
        ) as sim,
        free_running(clock),
    ):
        summary = await sim.run_scenario(scenario, duration=20)
    assert summary.calls == 9
    assert summary.answered >= 1
    assert summary.abandoned >= 5
    assert summary.calls == summary.answered + summary.abandoned


@pytest.mark.parametrize(
    ("outcome", "reason", "amd"),
    [
        (Outcome.HUMAN, "4", "HUMAN"),
        (Outcome.MACHINE, "4", "MACHINE"),
        (Outcome.BUSY, "5", None),
        (Outcome.NOANSWER, "3", None),
        (Outcome.CONGESTION, "8", None),
        (Outcome.INVALID, "0", None),
    ],
)
async def test_the_dialer_sees_each_called_party_outcome(
    tmp_path: Path, outcome: Outcome, reason: str, amd: str | None
) -> None:
    async with (
        FastAgiServer(dialer) as agi,
        Simulator(
            agi_port=agi.port, recordings_dir=tmp_path, clock=(clock := VirtualClock())
        ) as sim,
        free_running(clock),
    ):
        sim.set_called_party("79161234567", CalledParty(outcome))
        ami = await RawAmi.connect(sim.ami_port)
        await ami.login("callcenter", "callcenter")
        await ami.action(
            "Originate",
            Channel="Local/79161234567@outbound-sim",
            Context="dialer",
            Exten="amd",
            Priority="1",
            Timeout="5000",
            Async="true",
            ActionID="dial-1",
        )
        response = await ami.event("OriginateResponse", within=10)
        assert response.get("Reason") == reason
        if amd is not None:
            status = await ami.wait_for(
                lambda f: f.event == "VarSet" and f.get("Variable") == "AMDSTATUS"
            )
            assert status.get("Value") == amd
            await ami.event("AGIExecStart", Command="HANGUP", within=10)
        await ami.close()
    assert len(agi.sessions) == (1 if amd else 0)
    if amd:
        assert agi.sessions[0].env["agi_network_script"] == "dialer"


async def test_mixmonitor_by_action_and_stop_write_the_file(tmp_path: Path) -> None:
    # on a virtual clock: the call stays connected while the test talks AMI
    clock = VirtualClock()
    async with (
        FastAgiServer(route_to_line1) as agi,
        Simulator(agi_port=agi.port, recordings_dir=tmp_path, clock=clock) as sim,
    ):
        sim.add_operator(Operator("101", answer_after=0.5, talk_time=30), queues=["line1"])
        call = await sim.place_inbound_call(CallerScript(talk_time=20))
        ami = await RawAmi.connect(sim.ami_port)
        await ami.login("callcenter", "callcenter")
        await finished(clock, ami.event("AgentConnect", within=10))
        stop = await ami.action("StopMixMonitor", Channel=call.uniqueid)
        assert stop.response == "Success"
        await ami.event("MixMonitorStop")
        again = await ami.action("StopMixMonitor", Channel=call.uniqueid)
        assert again.get("Message") == "Could not stop monitoring channel"
        await ami.action("Hangup", Channel=call.channel_name)
        result = await finished(clock, call.wait())
        await ami.close()
        assert result.outcome is CallOutcome.ANSWERED
        [recording] = sim.recordings
        assert recording.exists()
