"""The IVR runtime: a FastAGI "ivr" session stepped through a flow.

    service = IvrService(registry, renderer, self_service, clock=utcnow)
    agi_server.add_route("ivr", service.handle)

One session, one call: the flow (`?flow=<name>` in the AGI request, else the default one) and
the caller (by ANI) are looked up, then `callcenter.domain.ivr.IvrMachine` says what to do and
this module does it over the CallChannel:
- prompts are the flow's Russian texts rendered by the TTS (cached WAV files; Asterisk gets the
  path without extension); `{fields}` are worded here (amounts, dates, numbers in Russian);
- a question's prompts are played with every key as an escape digit (barge-in), then
  WAIT FOR DIGIT; a number is collected with GET DATA (# ends it);
- self-service work runs against the database (`ivr_actions`), voice readings through the
  Vosk recogniser when a model is configured (else the stepper falls back to the keypad);
- the hand-off sets IVR_TARGET, IVR_PRIORITY and CUSTOMER_ID for the dialplan's Queue().

What the call record needs is kept on the channel as the call goes, so the AMI side sees it
even when the caller hangs up mid-menu: IVR_PATH (keys, e.g. "2>1>1") on every move,
CUSTOMER_ID once known, IVR_CLOSED=1 once self-service completed (back to 0 at a hand-off),
RECORDING_NOTICE (the notice version) once the notice played. `IvrOutcome` (also passed to
`on_outcome`) adds the nodes visited and the seconds spent in the IVR.

A failure here (no flow, a prompt that cannot be rendered, a bug) propagates to the AGI server,
which sends the caller to the fail-over queue; the database or the recogniser failing during
self-service sends the caller to the operators of the branch with an apology instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from callcenter.domain.calls import call_id_for_linkedid
from callcenter.domain.ivr import (
    ApplicationStatus,
    AskDigits,
    AskKey,
    Balance,
    CallerHungUp,
    CallerInfo,
    Command,
    CreateCallback,
    Digits,
    Entry,
    FindAccount,
    Handoff,
    Hangup,
    HearReading,
    Input,
    IvrState,
    Key,
    NoInput,
    Number,
    Outages,
    Outcome,
    Play,
    Prompt,
    RecordVoicemail,
    Request,
    Result,
    Run,
    Said,
    SaveReading,
    Spoken,
)
from callcenter.domain.ivr_schema import ALL_KEYS, fill_template
from callcenter.inbound.flows import FlowNotFound, FlowRegistry, LoadedFlow
from callcenter.inbound.self_service import CallContext, IvrSelfService
from callcenter.pbx.agi_errors import AgiError, AgiHangupError, AgiNotPlayedError
from callcenter.pbx.channel import CallChannel, RecordResult
from callcenter.pbx.channel_vars import (
    CALL_UUID,
    CUSTOMER_ID,
    IVR_CLOSED,
    IVR_PATH,
    IVR_PRIORITY,
    IVR_TARGET,
    RECORDING_NOTICE,
)
from callcenter.ports.stores import StoreError
from callcenter.speech import numbers_ru
from callcenter.speech.asr import AsrError, MeterReadingRecognizer
from callcenter.speech.tts import PromptRenderer, TtsError

log = logging.getLogger(__name__)

# Which "this call is recorded" notice the caller heard (the call record's
# recording_notice_version). Proposed for callcenter/asterisk/channel_vars.py.
NOTICE_WHERE = "notice_prompt"
SAMPLE_RATE = 8000  # RECORD FILE ... wav writes 8 kHz: endpos / 8000 = seconds
VOICE_MAX_MS = 15_000  # a meter reading is said in a few seconds
VOICE_SILENCE_S = 2
VOICEMAIL_SILENCE_S = 5
SILENCE = "silence/1"  # an Asterisk core sound: GET DATA's prompt when ours cannot be played
_CANONICAL_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


@dataclass(frozen=True)
class IvrOutcome:
    """How one call went through the IVR (for the call record and logs)."""

    call_id: uuid.UUID
    flow: str
    caller: CallerInfo
    outcome: Outcome
    path: tuple[str, ...]
    visited: tuple[str, ...]
    served: tuple[str, ...]  # self-service nodes completed
    target: str | None  # queue handed to
    priority: int | None
    notice_version: str
    started_at: datetime
    ended_at: datetime

    @property
    def closed(self) -> bool:
        """Closed by the IVR: self-service completed and the call ended without an operator."""
        return self.outcome is Outcome.CLOSED

    @property
    def ivr_seconds(self) -> float:
        return max(0.0, (self.ended_at - self.started_at).total_seconds())

    @property
    def path_text(self) -> str:
        return ">".join(self.path)


OutcomeSink = Callable[[IvrOutcome], Awaitable[None]]


def word(value: Spoken) -> str:
    """A field value as the voice says it."""
    if isinstance(value, Said):
        return value.text
    if isinstance(value, Digits):
        return numbers_ru.digits_words(value.digits) if value.digits else ""
    if isinstance(value, Number):
        digits = value.digits.lstrip("0") or "0"
        return numbers_ru.cardinal(int(digits)) if value.digits.isdigit() else value.digits
    try:
        return numbers_ru.phone_words(value.number)
    except ValueError:
        return numbers_ru.digits_words(value.number)


def spoken_text(prompt: Prompt) -> str:
    return fill_template(prompt.text, {name: word(value) for name, value in prompt.fields})


class IvrService:
    def __init__(
        self,
        flows: FlowRegistry,
        renderer: PromptRenderer,
        self_service: IvrSelfService,
        *,
        clock: Callable[[], datetime],
        meter_reader: MeterReadingRecognizer | None = None,
        speech_dir: Path | None = None,
        lookup_timeout: float = 5.0,
        on_outcome: OutcomeSink | None = None,
    ) -> None:
        """`meter_reader` None: readings by keypad only. `speech_dir`: where Asterisk records
        what callers say for recognition (shared with Asterisk; files are deleted after use).
        `lookup_timeout`: longest wait for one database lookup before apologising."""
        self._flows = flows
        self._renderer = renderer
        self._self_service = self_service
        self._clock = clock
        self._reader = meter_reader
        self._speech_dir = speech_dir
        self._lookup_timeout = lookup_timeout
        self._on_outcome = on_outcome
        self.sessions_active = 0  # callers in the IVR now (for /metrics)
        self.sessions_total = 0

    def enable_voice(self, reader: MeterReadingRecognizer, speech_dir: Path) -> None:
        """Take readings by voice from now on (the recogniser loads after the service exists)."""
        self._reader = reader
        self._speech_dir = speech_dir

    @property
    def flows(self) -> FlowRegistry:
        """The flows in service (readiness reports whether the default one is loaded)."""
        return self._flows

    @property
    def voice_available(self) -> bool:
        """Meter readings may be said (a recogniser and a folder for what callers say)."""
        return self._reader is not None and self._speech_dir is not None

    # --- the AGI route ---------------------------------------------------------------------

    async def handle(self, channel: CallChannel) -> None:
        """The FastAGI handler for the "ivr" script."""
        self.sessions_active += 1
        self.sessions_total += 1
        try:
            await self.serve(channel)
        finally:
            self.sessions_active -= 1

    async def serve(self, channel: CallChannel) -> IvrOutcome:
        started = self._clock()
        loaded = self._flow_for(channel)
        # the caller's database lookup runs while the call's ids are asked of Asterisk: its
        # latency is hidden behind those two round trips instead of delaying the ANSWER
        identify = asyncio.create_task(self._identify(channel.env.callerid))
        try:
            call_ids = await self._call_ids(channel)
        except BaseException:
            identify.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await identify
            raise
        caller = await identify
        machine = loaded.machine
        state, commands = machine.start(caller, started, voice=self.voice_available)
        call = _Call(channel, call_ids, started)
        try:
            await channel.answer()
            await call.publish(None, state)
            while True:
                event = await self._execute(call, state, commands)
                if event is None:
                    break
                before = state
                state, commands = machine.step(state, event, self._clock())
                await call.publish(before, state)
        except AgiHangupError:
            state, _ = machine.step(state, CallerHungUp(), self._clock())
            await self._report(call, state)
            raise
        except Exception:
            # the AGI server sends the caller to the fail-over queue: a call that had been
            # served must not read as closed by the IVR (the dialplan would hang it up)
            await call.reopen()
            raise
        await self._report(call, state)
        return self._outcome(call, state)

    def _flow_for(self, channel: CallChannel) -> LoadedFlow:
        wanted = channel.env.query.get("flow") or None
        try:
            return self._flows.get(wanted)
        except FlowNotFound:
            if wanted is None:
                raise
            log.warning(
                "AGI %s: no IVR flow %r, the default one serves", channel.env.uniqueid, wanted
            )
            return self._flows.get(None)

    async def _call_ids(self, channel: CallChannel) -> tuple[uuid.UUID, ...]:
        """The ids the call record may have, the one it has first: the dialplan's CALL_UUID
        (the record is published under it), else the id derived from the Linkedid. The first
        one names the call in the IVR's log lines and outcome."""
        linkedid = await channel.get_variable("CHANNEL(linkedid)") or channel.env.uniqueid
        ids = [call_id_for_linkedid(linkedid)]
        given = await channel.get_variable(CALL_UUID)
        if given and _CANONICAL_UUID.fullmatch(given.strip()):
            other = uuid.UUID(given.strip())
            if other not in ids:
                ids.insert(0, other)
        return tuple(ids)

    async def _identify(self, number: str) -> CallerInfo:
        if not number:
            return CallerInfo()
        try:
            async with asyncio.timeout(self._lookup_timeout):
                return await self._self_service.identify(number)
        except (StoreError, OSError, TimeoutError) as exc:
            log.warning("IVR: caller %s not looked up (%s); served as unknown", number, exc)
            return CallerInfo(phone=number)

    async def _report(self, call: _Call, state: IvrState) -> None:
        outcome = self._outcome(call, state)
        log.info(
            "IVR call %s: %s, path %r, %.1f s in the IVR%s",
            outcome.call_id,
            outcome.outcome,
            outcome.path_text,
            outcome.ivr_seconds,
            f", to {outcome.target}" if outcome.target else "",
        )
        if self._on_outcome is not None:
            try:
                await self._on_outcome(outcome)
            except Exception:
                log.exception("IVR outcome of call %s not recorded", outcome.call_id)

    def _outcome(self, call: _Call, state: IvrState) -> IvrOutcome:
        return IvrOutcome(
            call_id=call.call_ids[0],
            flow=state.flow,
            caller=state.caller,
            outcome=state.outcome or Outcome.HUNG_UP,
            path=state.path,
            visited=state.visited,
            served=state.served,
            target=state.target,
            priority=state.priority,
            notice_version=state.notice_version,
            started_at=state.started_at,
            ended_at=state.ended_at or self._clock(),
        )

    # --- commands --------------------------------------------------------------------------

    async def _execute(
        self, call: _Call, state: IvrState, commands: tuple[Command, ...]
    ) -> Input | None:
        """Do the commands; the answer to the last one, None when the call left the IVR."""
        channel = call.channel
        for command in commands:
            if isinstance(command, Play):
                for prompt in command.prompts:
                    name = await self._file(prompt)
                    barge_in = (
                        command.barge_in
                        and call.pending_key is None
                        and prompt.where != NOTICE_WHERE
                    )
                    if name is not None:
                        digit = await self._stream(call, prompt, name, ALL_KEYS if barge_in else "")
                        if digit is not None:
                            call.pending_key = digit
                    if prompt.where == NOTICE_WHERE:
                        await channel.set_variable(RECORDING_NOTICE, state.notice_version)
            elif isinstance(command, AskKey):
                if call.pending_key is not None:  # pressed during the greeting
                    key, call.pending_key = call.pending_key, None
                    return Key(key)
                for prompt in command.prompts:
                    name = await self._file(prompt)
                    if name is None:
                        continue
                    digit = await self._stream(call, prompt, name, ALL_KEYS)
                    if digit is not None:
                        return Key(digit)
                digit = await channel.wait_for_digit(command.timeout_ms)
                return NoInput() if digit is None else Key(digit)
            elif isinstance(command, AskDigits):
                name = await self._file(
                    Prompt(" ".join(spoken_text(p) for p in command.prompts), "digits")
                )
                digits = await self._get_data(call, name or SILENCE, command)
                return NoInput() if digits is None else Entry(digits)
            elif isinstance(command, Run):
                return await self._perform(call, state, command.request)
            elif isinstance(command, Handoff):
                await call.hand_off(state, command)
                return None
            elif isinstance(command, Hangup):
                await call.hang_up(state, command)
                return None
        raise RuntimeError("the stepper gave no command to wait on")  # a bug in the domain

    async def _stream(self, call: _Call, prompt: Prompt, name: str, escape: str) -> str | None:
        """Play one prompt; a file Asterisk cannot play is logged and skipped (the caller
        stays: the flow goes on to its next prompt, question or hand-off)."""
        try:
            digit, _ = await call.channel.stream_file(name, escape)
        except AgiNotPlayedError as exc:
            log.error(
                "IVR call %s: prompt %s not played: Asterisk cannot play %s (%s)",
                call.call_ids[0],
                prompt.where,
                exc.file,
                exc.text,
            )
            return None
        return digit

    async def _get_data(self, call: _Call, name: str, command: AskDigits) -> str | None:
        """GET DATA; when the prompt cannot be played, the digits are collected all the same
        (after a second of silence) so the caller can still type them."""
        channel = call.channel
        try:
            return await channel.get_data(name, command.timeout_ms, command.max_digits)
        except AgiNotPlayedError as exc:
            log.error(
                "IVR call %s: prompt for digits not played: Asterisk cannot play %s (%s)",
                call.call_ids[0],
                exc.file,
                exc.text,
            )
            if name == SILENCE:
                return None
        try:
            return await channel.get_data(SILENCE, command.timeout_ms, command.max_digits)
        except AgiNotPlayedError:
            return None

    async def _file(self, prompt: Prompt) -> str | None:
        """The rendered prompt for STREAM FILE / GET DATA (path without extension).

        A flow's own text that cannot be rendered fails the call (the AGI server sends the
        caller to the fail-over queue); a text with call data in it is skipped with a log line.
        """
        try:
            return (await self._renderer.render(spoken_text(prompt))).asterisk_name
        except TtsError as exc:
            if not prompt.fields:
                raise
            log.error("IVR prompt %s not said: %s", prompt.where, exc)
            return None

    # --- self-service ----------------------------------------------------------------------

    async def _perform(self, call: _Call, state: IvrState, request: Request) -> Result:
        context = CallContext(call.call_ids, state.caller, state.path_text, call.started)
        service = self._self_service
        try:
            if isinstance(request, HearReading):
                return await self._hear_reading(call, request)
            if isinstance(request, RecordVoicemail):
                return await self._record_voicemail(call, context, request)
            async with asyncio.timeout(self._lookup_timeout):
                if isinstance(request, FindAccount):
                    return await service.find_account(request.account)
                if isinstance(request, SaveReading):
                    return await service.save_reading(context, request)
                if isinstance(request, ApplicationStatus):
                    return await service.application_status(request)
                if isinstance(request, Outages):
                    return await service.outages(request)
                if isinstance(request, Balance):
                    return await service.balance(request)
                if isinstance(request, CreateCallback):
                    return await service.create_callback(context, request)
        except (StoreError, OSError, TimeoutError) as exc:
            log.error("IVR call %s: %s failed: %s", call.call_ids[0], type(request).__name__, exc)
            return Result(ok=False, failed=True)
        raise RuntimeError(f"no way to run {request!r}")  # pragma: no cover

    async def _hear_reading(self, call: _Call, request: HearReading) -> Result:
        if self._reader is None or self._speech_dir is None:  # pragma: no cover - start() knew
            return Result(ok=False, variant="unavailable")
        await asyncio.to_thread(self._speech_dir.mkdir, parents=True, exist_ok=True)
        base = self._speech_dir / f"{call.call_ids[0]}-{uuid.uuid4().hex[:8]}"
        try:
            recorded = await _record(
                call, str(base), timeout_ms=VOICE_MAX_MS, silence_s=VOICE_SILENCE_S
            )
            if recorded.endpos <= 0:
                return Result(ok=False)
            heard = await self._reader.read_file(Path(f"{base}.wav"))
        except AsrError as exc:
            log.warning("IVR call %s: reading not recognised: %s", call.call_ids[0], exc)
            return Result(ok=False)
        finally:
            # what the caller said is personal data: it is not kept once recognised
            with contextlib.suppress(OSError):
                await asyncio.to_thread(Path(f"{base}.wav").unlink, missing_ok=True)
        digits = heard.digits
        if not digits or len(digits) > request.max_digits:
            return Result(ok=False)
        return Result(ok=True, value=digits)

    async def _record_voicemail(
        self, call: _Call, context: CallContext, request: RecordVoicemail
    ) -> Result:
        service = self._self_service
        async with asyncio.timeout(self._lookup_timeout):
            target = await service.voicemail_target(context)
        await asyncio.to_thread(Path(target.path).parent.mkdir, parents=True, exist_ok=True)
        recorded = await _record(
            call, target.path, timeout_ms=request.max_seconds * 1000, silence_s=VOICEMAIL_SILENCE_S
        )
        # a message usually ends with the caller hanging up: it is filed all the same
        async with asyncio.timeout(self._lookup_timeout):
            return await service.file_voicemail(
                context, target, queue=request.queue, seconds=recorded.endpos / SAMPLE_RATE
            )


async def _record(call: _Call, path: str, *, timeout_ms: int, silence_s: int) -> RecordResult:
    """RECORD FILE after a beep; without it when Asterisk has no beep sound to play."""
    try:
        return await call.channel.record_file(
            path, "wav", escape_digits="#", timeout_ms=timeout_ms, beep=True, silence_s=silence_s
        )
    except AgiNotPlayedError as exc:
        log.error(
            "IVR call %s: Asterisk cannot play the beep (%s); recording without it",
            call.call_ids[0],
            exc.text,
        )
    return await call.channel.record_file(
        path, "wav", escape_digits="#", timeout_ms=timeout_ms, beep=False, silence_s=silence_s
    )


class _Call:
    """One call's channel and the variables published on it for the call record."""

    def __init__(
        self, channel: CallChannel, call_ids: tuple[uuid.UUID, ...], started: datetime
    ) -> None:
        self.channel = channel
        self.call_ids = call_ids
        self.started = started
        self._path = ""
        self._customer: int | None = None
        self._closed = False
        self.pending_key: str | None = None  # pressed during the greeting, not yet answered

    async def _set(
        self, *, path: str | None = None, customer: int | None = None, closed: bool | None = None
    ) -> None:
        if path and path != self._path:
            await self.channel.set_variable(IVR_PATH, path)
            self._path = path
        if customer is not None and customer != self._customer:
            await self.channel.set_variable(CUSTOMER_ID, str(customer))
            self._customer = customer
        if closed is not None and closed != self._closed:
            await self.channel.set_variable(IVR_CLOSED, "1" if closed else "0")
            self._closed = closed

    async def publish(self, before: IvrState | None, after: IvrState) -> None:
        """Keep the channel variables the call record reads in step with the state."""
        served = bool(after.served) and after.outcome is not Outcome.HANDED_OFF
        await self._set(
            path=after.path_text,
            customer=after.caller.customer_id,
            closed=True if served else None,
        )

    async def reopen(self) -> None:
        if self._closed and self.channel.usable:
            with contextlib.suppress(AgiError, TimeoutError):
                async with asyncio.timeout(2.0):
                    await self.channel.set_variable(IVR_CLOSED, "0")

    async def hand_off(self, state: IvrState, command: Handoff) -> None:
        await self._set(path=state.path_text, customer=command.customer_id, closed=False)
        await self.channel.set_variable(IVR_PRIORITY, str(command.priority))
        await self.channel.set_variable(IVR_TARGET, command.queue)

    async def hang_up(self, state: IvrState, command: Hangup) -> None:
        await self._set(path=state.path_text, closed=True if command.closed else None)
        await self.channel.hangup()
