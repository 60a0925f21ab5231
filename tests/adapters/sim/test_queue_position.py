"""Queue() as Asterisk 22 parses it: 9 arguments, the 9th the caller's position.

The shipped dialplan takes a waiting caller out of Queue() between wait announcements (and
after a callback offer) and puts them back with `Queue(...,${CC_POS})`. With Asterisk 22 a
caller re-queued that way keeps their place; written with the Asterisk <= 20 `macro` slot
(10 arguments), the position lands in the wrong slot and the caller goes to the back.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from callcenter.sim import events as ev
from callcenter.sim.callers import CallerScript
from callcenter.sim.clock import VirtualClock
from callcenter.sim.dialplan import parse_extensions
from callcenter.sim.queue_app import queue_args
from callcenter.sim.simulator import Simulator
from tests.support.eventually import free_running

FIRST = "+79160000001"
SECOND = "+79160000002"


def _dialplan(requeue: str) -> str:
    # the first caller waits one short segment, then comes back at the position it had;
    # the second caller joins during that segment and simply waits
    return f"""
[ivr]
exten => 88001000000,1,Answer()
 same => n,GotoIf($["${{CALLERID(num)}}" = "{SECOND}"]?second)
 same => n,Queue(line1,t,,,2)
 same => n,Set(CC_POS=${{QUEUEPOSITION}})
 same => n,{requeue}
 same => n,Hangup()
 same => n(second),Wait(0.5)
 same => n,Queue(line1,t,,,60)
 same => n,Hangup()
"""


async def _positions_on_rejoin(tmp_path: Path, requeue: str) -> dict[str, list[int]]:
    joins: dict[str, list[int]] = {}
    rejoined = asyncio.Event()
    async with (
        Simulator(
            recordings_dir=tmp_path,
            clock=(clock := VirtualClock()),
            dialplan=parse_extensions(_dialplan(requeue)),
        ) as sim,
        free_running(clock),
    ):

        def listen(pairs: ev.Pairs) -> None:
            fields = dict(pairs)
            if fields.get("Event") == "QueueCallerJoin":
                seen = joins.setdefault(fields["CallerIDNum"], [])
                seen.append(int(fields["Position"]))
                if fields["CallerIDNum"] == FIRST and len(seen) == 2:
                    rejoined.set()

        sim.pbx.listeners.append(listen)
        first = await sim.place_inbound_call(CallerScript(number=FIRST, label="first"))
        second = await sim.place_inbound_call(CallerScript(number=SECOND, label="second"))
        async with asyncio.timeout(30):
            await rejoined.wait()
        for handle in (first, second):
            sim.pbx.soft_hangup(handle.channel, 16)
    return joins


async def test_a_requeued_caller_keeps_its_place_with_the_asterisk_22_arguments(
    tmp_path: Path,
) -> None:
    joins = await _positions_on_rejoin(tmp_path, "Queue(line1,t,,,60,,,,${CC_POS})")
    assert joins[SECOND] == [2]  # behind the first caller, who was waiting
    assert joins[FIRST] == [1, 1]  # back in front of the second caller


async def test_the_asterisk_20_argument_list_loses_the_callers_place(tmp_path: Path) -> None:
    joins = await _positions_on_rejoin(tmp_path, "Queue(line1,t,,,60,,,,,${CC_POS})")
    assert joins[FIRST] == [1, 2]


def test_queue_arguments_are_split_into_nine_slots_the_last_one_taking_the_rest() -> None:
    assert queue_args("line1,ti,,,90,,,,3") == ["line1", "ti", "", "", "90", "", "", "", "3"]
    assert queue_args("line1,ti,,,90,,,,,3")[8] == ",3"
    assert queue_args("line1") == ["line1"] + [""] * 8
