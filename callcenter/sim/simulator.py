"""`Simulator`: the PBX simulator as one object, for `callcenter serve` (demo mode), the
end-to-end tests and load benchmarks.

    async with Simulator(recordings_dir=tmp, time_scale=0.05, agi_port=4573) as sim:
        sim.add_operator(Operator("101"), queues=["line1"])
        call = await sim.place_inbound_call(CallerScript.pressing("12"))
        result = await call          # when both call legs are gone
        summary = await sim.run_scenario(load_scenario("demo"), duration=600)

The AMI server listens on `sim.ami_port` (port 0 picks a free one); the platform's FastAGI
server must listen on agi_host:agi_port.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from callcenter.sim.ami_server import AmiServer
from callcenter.sim.callers import CALLERS_CONTEXT, CallerBehaviour, CallerScript
from callcenter.sim.channels import Channel, Party
from callcenter.sim.clock import Clock, SimClock
from callcenter.sim.dialplan import Dialplan, Extension, Step
from callcenter.sim.dialplans import default_dialplan, supervisor_extension
from callcenter.sim.endpoints import Phone
from callcenter.sim.parties import (
    AGENTS_CONTEXT,
    OUTBOUND_CONTEXT,
    CalledParties,
    CalledParty,
    Operator,
)
from callcenter.sim.pbx import OriginateRequest, Pbx, PbxConfig
from callcenter.sim.queues import MemberResult, QueueConfig, lab_queue_configs
from callcenter.sim.results import CallOutcome, CallResult, Summary
from callcenter.sim.scenarios import Scenario, ScenarioRunner
from callcenter.sim.sounds import SoundLibrary

__all__ = ["CallHandle", "CallOutcome", "CallResult", "Simulator", "Summary"]

# the campaign variable the platform's dialer puts on its Originate (a PBX knows no use case)
VAR_CAMPAIGN = "CC_CAMPAIGN_ID"


@dataclass
class CallHandle:
    """An inbound call placed by the simulator; `await handle` waits for its end."""

    behaviour: CallerBehaviour
    task: asyncio.Task[Any]
    pbx: Pbx

    @property
    def channel(self) -> Channel:
        chan = self.behaviour.ivr_channel
        if chan is None:
            raise RuntimeError("the call has no channel (originate failed)")
        return chan

    @property
    def uniqueid(self) -> str:
        return self.channel.uniqueid

    @property
    def linkedid(self) -> str:
        return self.channel.linkedid

    @property
    def channel_name(self) -> str:
        return self.channel.name

    @property
    def call_uuid(self) -> str:
        chan = self.behaviour.ivr_channel
        if chan is None:
            return ""
        return chan.variables.get("CALL_UUID") or chan.uniqueid

    @property
    def done(self) -> bool:
        legs = [self.behaviour.ivr_channel, self.behaviour.caller_channel]
        return self.task.done() and all(leg is None or leg.ended.is_set() for leg in legs)

    async def wait(self) -> CallResult:
        await self.task
        for leg in (self.behaviour.ivr_channel, self.behaviour.caller_channel):
            if leg is not None:
                await leg.ended.wait()
        await self.pbx.flush_recordings()
        return self.result()

    def __await__(self) -> Generator[Any, None, CallResult]:
        return self.wait().__await__()

    def result(self) -> CallResult:
        b = self.behaviour
        chan = b.ivr_channel
        if chan is None:
            outcome = CallOutcome.FAILED
        elif b.connected_at is not None:
            outcome = CallOutcome.ANSWERED
        elif b.abandoned:
            outcome = CallOutcome.ABANDONED
        elif b.joined_at is not None:
            outcome = CallOutcome.UNANSWERED
        elif b.caller_hung_up_first:
            outcome = CallOutcome.HUNG_UP_IN_IVR
        else:
            outcome = CallOutcome.CLOSED_BY_IVR
        wait = None
        if b.joined_at is not None:
            end = b.connected_at if b.connected_at is not None else b.left_queue_at
            wait = None if end is None else end - b.joined_at
        return CallResult(
            uniqueid=chan.uniqueid if chan else "",
            linkedid=chan.linkedid if chan else "",
            call_uuid=self.call_uuid,
            outcome=outcome,
            queue=b.queue,
            wait_seconds=wait,
        )


class Simulator:
    def __init__(
        self,
        ami_host: str = "127.0.0.1",
        ami_port: int = 0,
        agi_host: str = "127.0.0.1",
        agi_port: int = 4573,
        recordings_dir: Path | str = Path("recordings"),
        time_scale: float = 1.0,
        seed: int = 0,
        *,
        ami_users: Mapping[str, str] | None = None,
        dialplan: Dialplan | None = None,
        queues: Sequence[QueueConfig] | None = None,
        inbound_number: str = "88001000000",
        sounds_dirs: Sequence[Path] = (),
        spool_dir: Path | None = None,
        queue_music_on_hold: bool = True,
        record_audio: bool = True,
        epoch: float | None = None,
        clock: Clock | None = None,
    ) -> None:
        """`clock`: simulated time to run on (a test's `VirtualClock`); by default a
        `SimClock` running `time_scale` times real time."""
        self.ami_host = ami_host
        self._ami_port = ami_port
        self.agi_host = agi_host
        self.agi_port = agi_port
        self.recordings_dir = Path(recordings_dir)
        self.spool_dir = Path(spool_dir) if spool_dir else self.recordings_dir / "spool"
        self.time_scale = time_scale
        self.seed = seed
        self.rng = random.Random(seed)
        self.ami_users = dict(ami_users or {"callcenter": "callcenter"})
        self.inbound_number = inbound_number
        self.agi_url = f"agi://{agi_host}:{agi_port}"
        self._dialplan = dialplan
        self.queue_configs = list(queues) if queues is not None else lab_queue_configs()
        self.sounds = SoundLibrary(sounds_dirs)
        self.queue_music_on_hold = queue_music_on_hold
        self.record_audio = record_audio
        self.epoch = epoch
        self.operators: dict[str, Operator] = {}
        self.callers: dict[str, CallerScript] = {}
        self.called_parties = CalledParties()
        self.default_operator = Operator("default", answer_after=3.0)
        self._pbx: Pbx | None = None
        self._ami: AmiServer | None = None
        self._given_clock = clock
        self._clock: Clock | None = None

    # --- lifecycle ------------------------------------------------------------------------
    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        self._clock = self._given_clock or SimClock(self.time_scale, epoch=self.epoch)
        base = self._dialplan or default_dialplan(self.agi_url, inbound_number=self.inbound_number)
        plan = base.merge(self._dynamic_contexts())
        config = PbxConfig(
            recordings_dir=self.recordings_dir,
            spool_dir=self.spool_dir,
            agi_host=self.agi_host,
            agi_port=self.agi_port,
            queue_music_on_hold=self.queue_music_on_hold,
            record_audio=self.record_audio,
        )
        self._pbx = Pbx(
            clock=self._clock, rng=self.rng, dialplan=plan, sounds=self.sounds, config=config
        )
        self._pbx.queues.configure(self.queue_configs)
        self._pbx.endpoints.resolver = self._phone_for
        self._ami = AmiServer(
            self._pbx, host=self.ami_host, port=self._ami_port, users=self.ami_users
        )
        await self._ami.start()

    async def stop(self) -> None:
        if self._ami is not None:
            await self._ami.stop()
        if self._pbx is not None:
            await self._pbx.shutdown()
        if self._clock is not None:
            self._clock.close()

    @property
    def pbx(self) -> Pbx:
        if self._pbx is None:
            raise RuntimeError("the simulator is not started")
        return self._pbx

    @property
    def ami(self) -> AmiServer:
        if self._ami is None:
            raise RuntimeError("the simulator is not started")
        return self._ami

    @property
    def clock(self) -> Clock:
        return self.pbx.clock

    @property
    def ami_port(self) -> int:
        return self.ami.port

    # --- who is on the line -----------------------------------------------------------------
    def _dynamic_contexts(self) -> Dialplan:
        plan = Dialplan()
        plan.add_resolver(CALLERS_CONTEXT, self._caller_extension)
        plan.add_resolver(AGENTS_CONTEXT, self._operator_extension)
        plan.add_resolver(OUTBOUND_CONTEXT, self._called_extension)
        plan.add_resolver("outbound", self._public_network_extension)
        plan.add_resolver("queues", _queue_extension)
        # the shipped dialplan's transfer targets: a line's queue (transfer,line2)
        plan.add_resolver("transfer", self._transfer_extension)
        plan.add_resolver("conf", _conference_extension)
        plan.add_resolver("supervisor", supervisor_extension)
        return plan

    def _transfer_extension(self, exten: str) -> Extension | None:
        if exten in {queue.name for queue in self.queue_configs}:
            return _queue_extension(exten)
        return None

    def _caller_extension(self, exten: str) -> Extension | None:
        script = self.callers.get(exten)
        return script.extension() if script is not None else None

    def _operator_extension(self, exten: str) -> Extension | None:
        operator = self.operators.get(exten)
        if operator is None:
            operator = Operator(
                exten,
                answer_after=self.default_operator.answer_after,
                talk_time=self.default_operator.talk_time,
            )
        return operator.dialplan(self.rng)

    def _called_extension(self, exten: str) -> Extension | None:
        return self.called_parties.for_number(exten, self.rng).dialplan(exten, self.rng)

    def _public_network_extension(self, exten: str) -> Extension | None:
        """The shipped dialplan's `outbound` context: an operator's own call to a public
        number is recorded from the start (sub-record, named by the call's CALL_UUID), then
        the called party takes the line. A dialer leg (CC_CAMPAIGN_ID set) is recorded on
        its answered side in `dialer` instead, so the call has one file, not two."""
        called = self._called_extension(exten)
        if called is None or not called.steps:
            return called
        first, *rest = called.steps
        steps = [
            Step("GotoIf", f'$["${{{VAR_CAMPAIGN}}}" != ""]?talk'),
            Step("MixMonitor", "/var/spool/asterisk/monitor/${CALL_UUID}.wav"),
            Step(first.app, first.data, label="talk"),
            *rest,
        ]
        return Extension(called.name, steps, amd=called.amd)

    def _phone_for(self, tech: str, resource: str) -> Phone | None:
        endpoint, _, _trunk = resource.partition("@")
        operator = self.operators.get(endpoint)
        if operator is not None and operator.technology.lower() == tech.lower():
            return operator.phone(self.rng)
        if "@" in resource or (endpoint.lstrip("+").isdigit() and len(endpoint) > 6):
            return self.called_parties.for_number(endpoint, self.rng).phone(self.rng)
        return self.default_operator.phone(self.rng)

    def add_operator(
        self,
        operator: Operator,
        queues: Sequence[str] = (),
        *,
        penalty: int = 0,
        paused: bool = False,
    ) -> None:
        """Register an operator's phone; with `queues`, also log it in (QueueMemberAdded...),
        as the platform's QueueAdd would."""
        self.operators[operator.extension] = operator
        for queue in queues:
            result = self.pbx.queues.add_member(
                queue,
                operator.interface,
                membername=operator.member_name,
                state_interface=operator.state_interface,
                penalty=penalty,
                paused=paused,
            )
            if result not in (MemberResult.OK, MemberResult.EXISTS):
                raise ValueError(f"cannot add {operator.interface} to {queue}: {result}")

    def remove_operator(self, extension: str) -> None:
        operator = self.operators.pop(extension, None)
        if operator is None:
            return
        for queue in self.pbx.queues.queues.values():
            if operator.interface in queue.members:
                self.pbx.queues.remove_member(queue.name, operator.interface)

    def register_caller(self, label: str, script: CallerScript) -> None:
        """Make `Local/<label>@callers` runnable by an AMI Originate (as the lab's scripts)."""
        self.callers[label] = script

    def set_called_party(self, number: str, party: CalledParty) -> None:
        self.called_parties.by_number[number] = party

    # --- calls --------------------------------------------------------------------------------
    async def place_inbound_call(self, script: CallerScript) -> CallHandle:
        """A caller dials the 8-800 number; returns once the call exists."""
        pbx = self.pbx
        behaviour = CallerBehaviour(script)
        request = OriginateRequest(
            channel=f"Local/{script.label}@{CALLERS_CONTEXT}",
            context="ivr",
            exten=self.inbound_number,
            priority=1,
            caller=Party(script.number or None, script.name),
            timeout=60.0,
            # the call's UUID from its first moment, as the shipped dialplan's sub-call-uuid
            # gives it; the recording file is named by it
            variables=list({"CALL_UUID": str(uuid.uuid4()), **script.variables}.items()),
            channel_id=script.channel_id,
            report=False,
            script=behaviour,
            callee_extension=script.extension(),
        )
        task = pbx.spawn(pbx.originate(request), name=f"inbound {script.label}")
        attached = asyncio.ensure_future(behaviour.attached.wait())
        await asyncio.wait({task, attached}, return_when=asyncio.FIRST_COMPLETED)
        attached.cancel()
        return CallHandle(behaviour, task, pbx)

    async def run_scenario(self, scenario: Scenario, duration: float | None = None) -> Summary:
        return await ScenarioRunner(self, scenario).run(duration)

    # --- test hooks and counters -------------------------------------------------------------
    def drop_all_clients(self) -> None:
        self.ami.drop_all_clients()

    @property
    def silent(self) -> bool:
        return self.ami.silent

    @silent.setter
    def silent(self, value: bool) -> None:
        self.ami.silent = value

    async def restart(self, down_for: float = 0.0) -> None:
        await self.ami.restart(down_for)

    @property
    def frames_sent(self) -> int:
        """AMI frames written to clients (responses and events, all sessions)."""
        return self.ami.frames_sent

    @property
    def events_emitted(self) -> int:
        return self.pbx.frames_emitted

    def events_for_call(self, linkedid: str) -> int:
        return self.pbx.events_per_call[linkedid]

    @property
    def recordings(self) -> list[Path]:
        return list(self.pbx.finished_recordings)


def _queue_extension(exten: str) -> Extension:
    return Extension(exten, [Step("Answer"), Step("Queue", f"{exten},t,,,300"), Step("Hangup")])


def _conference_extension(exten: str) -> Extension:
    return Extension(exten, [Step("Answer"), Step("ConfBridge", exten)])
