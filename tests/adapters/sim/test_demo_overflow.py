"""The demo never sends a caller to wait where nobody is signed in (issue 16, row 15)."""

from __future__ import annotations

import socket
from pathlib import Path

from callcenter.sim.callers import CallerScript
from callcenter.sim.clock import VirtualClock
from callcenter.sim.parties import Operator
from callcenter.sim.simulator import CallOutcome, Simulator
from tests.support.eventually import free_running


def _dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_a_caller_timing_out_on_line1_keeps_waiting_there_when_the_branches_are_empty(
    tmp_path: Path,
) -> None:
    # FastAGI down: both callers go to line1, where one operator talks for 100 s; the second
    # caller's 60 s in line1 run out, and branch-overflow has nobody signed in
    async with (
        Simulator(
            agi_port=_dead_port(), recordings_dir=tmp_path, clock=(clock := VirtualClock())
        ) as sim,
        free_running(clock),
    ):
        sim.add_operator(Operator("101", answer_after=1, talk_time=100), queues=["line1"])
        first = await sim.place_inbound_call(CallerScript(number="+79160000001"))
        second = await sim.place_inbound_call(CallerScript(number="+79160000002"))
        results = [await first, await second]
    assert [r.outcome for r in results] == [CallOutcome.ANSWERED, CallOutcome.ANSWERED]
    assert results[1].queue == "line1"  # answered there, not left in an empty queue
