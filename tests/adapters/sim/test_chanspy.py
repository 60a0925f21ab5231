"""The simulator runs the shipped dialplan's [supervisor] feature codes: ChanSpy on the
operator's PJSIP channel with the mode's options, ChanSpyStart/Stop as Asterisk sends them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from callcenter.sim.clock import VirtualClock
from callcenter.sim.parties import Operator
from callcenter.sim.simulator import Simulator
from tests.adapters.sim.raw_ami import RawAmi
from tests.support.eventually import free_running


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[Simulator]:
    simulator = Simulator(
        recordings_dir=tmp_path / "recordings",
        clock=(clock := VirtualClock()),
        ami_users={"lab": "labsecret"},
        record_audio=False,
    )
    async with simulator, free_running(clock):
        yield simulator


@pytest.mark.parametrize(("code", "options"), [("*1", "qE"), ("*2", "qwE"), ("*3", "qBE")])
async def test_a_supervisor_spies_on_an_operator(sim: Simulator, code: str, options: str) -> None:
    sim.add_operator(Operator("101", technology="PJSIP", answer_after=0.5, talk_time=3600.0))
    ami = await RawAmi.connect(sim.ami_port)
    await ami.login()
    # the operator's phone is busy on something that lasts
    talking = await ami.action(
        "Originate", Channel="PJSIP/101", Application="Wait", Data="600", Async="true"
    )
    assert talking.response == "Success"
    await ami.event("OriginateResponse", Response="Success", within=10)
    # the supervisor's phone 150 rings into *N101 and answers
    reply = await ami.action(
        "Originate",
        Channel="PJSIP/150",
        Context="supervisor",
        Exten=f"{code}101",
        Priority="1",
        Async="true",
    )
    assert reply.response == "Success"
    app = await ami.event("Newexten", Application="ChanSpy", within=10)
    assert app.get("AppData") == f"PJSIP/101-,{options}"
    start = await ami.event("ChanSpyStart", within=10)
    assert (start.get("SpyeeChannel") or "").startswith("PJSIP/101-")
    assert (start.get("SpyerChannel") or "").startswith("PJSIP/150-")
    # the operator's call ends: with the E option ChanSpy stops
    spyee = start.get("SpyeeChannel") or ""
    await ami.action("Hangup", Channel=spyee)
    stop = await ami.event("ChanSpyStop", within=10)
    assert stop.get("SpyeeChannel") == spyee
    await ami.close()
