"""The "dialer" FastAGI script: what an answered campaign call hears and does.

The dialplan ran AMD() before the session; by campaign kind the script plays the message
(with the confirm and operator keys), runs the DTMF survey, or hands a live answer to the
campaign queue (IVR_TARGET) if an operator is free within the grace period, else plays the
apology (abandoned). It returns what it saw (`AnsweredCall`); the campaign dialer classifies
and stores it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from callcenter.domain.campaigns import CampaignKind, MachineAction
from callcenter.domain.dial_outcomes import AnsweredCall, is_machine
from callcenter.outbound.dialer_ports import DialerChannel
from callcenter.outbound.dialer_types import VAR_TARGET, DialerConfig, LiveCall

log = logging.getLogger("callcenter.outbound.dialer")

# What callers hear besides the campaign's own message (rendered by TTS, cached).
TEXT_AFTER_MESSAGE = (
    "Если вы прослушали сообщение, нажмите 1. Чтобы поговорить с оператором, нажмите 0."
)
TEXT_GOODBYE = "Спасибо. До свидания."
TEXT_APOLOGY = "Извините, сейчас все операторы заняты. Мы перезвоним вам позже. До свидания."
TEXT_TO_OPERATOR = "Соединяю с оператором."
TEXT_SURVEY_INTRO = "Просим вас ответить на несколько вопросов, нажимая цифры на телефоне."
TEXT_SURVEY_AGAIN = "Ответ не распознан. Повторяю вопрос."
TEXT_SURVEY_THANKS = "Спасибо за ответы. До свидания."


@dataclass(frozen=True)
class SurveyQuestion:
    id: int
    text: str
    answers: Mapping[str, str]  # DTMF key -> label


@dataclass(frozen=True)
class CallScript:
    """One campaign's script; `run` serves one answered call."""

    config: DialerConfig
    kind: CampaignKind
    machine_action: MachineAction
    questions: Sequence[SurveyQuestion]
    prompt: Callable[[str], Awaitable[str]]  # text -> Asterisk prompt name
    reserve_operator: Callable[[str, float], Awaitable[bool]]  # queue, within seconds
    record_answer: Callable[[LiveCall, int, str], Awaitable[None]]  # call, question id, key

    async def run(
        self, channel: DialerChannel, call: LiveCall, facts: AnsweredCall
    ) -> AnsweredCall:
        machine = is_machine(facts.amd_status)
        if (facts.amd_status or "").strip().upper() == "HANGUP":
            return facts
        if machine and self.machine_action is not MachineAction.CONNECT:
            if self.machine_action is MachineAction.LEAVE_MESSAGE and call.text:
                _, _ = await channel.stream_file(await self._message(call))
                facts = replace(facts, message_completed=True)
            await channel.hangup()
            return facts
        if self.kind is CampaignKind.OPERATOR:
            return await self._hand_over(channel, call, facts)
        if self.kind is CampaignKind.SURVEY:
            return await self._survey(channel, call, facts)
        return await self._inform(channel, call, facts)

    async def _message(self, call: LiveCall) -> str:
        if call.prompt is not None:
            return await call.prompt
        return await self.prompt(call.text)

    async def _inform(
        self, channel: DialerChannel, call: LiveCall, facts: AnsweredCall
    ) -> AnsweredCall:
        cfg = self.config
        keys = cfg.confirm_key + cfg.operator_key
        digit, _ = await channel.stream_file(await self._message(call), keys)
        if digit is None:
            facts = replace(facts, message_completed=True)
            digit = await channel.get_data(
                await self.prompt(TEXT_AFTER_MESSAGE), cfg.key_timeout_ms, 1
            )
        if digit == cfg.confirm_key:
            facts = replace(facts, confirmed=True)
        elif digit == cfg.operator_key:
            facts = replace(facts, operator_requested=True)
            await channel.stream_file(await self.prompt(TEXT_TO_OPERATOR))
            await channel.set_variable(VAR_TARGET, cfg.operator_queue)
            return facts  # the dialplan takes the call to the queue
        await channel.stream_file(await self.prompt(TEXT_GOODBYE))
        await channel.hangup()
        return facts

    async def _hand_over(
        self, channel: DialerChannel, call: LiveCall, facts: AnsweredCall
    ) -> AnsweredCall:
        cfg = self.config
        call.waiting_operator = True
        try:
            reserved = await self.reserve_operator(cfg.operator_queue, cfg.grace_seconds)
        finally:
            call.waiting_operator = False
        if reserved:
            await channel.set_variable(VAR_TARGET, cfg.operator_queue)
            return replace(facts, connected_to_operator=True)
        # abandoned from here on, whether or not the person stays for the apology (hanging
        # up makes the channel raise; that must not turn the call into a mere hang-up)
        facts = replace(facts, abandoned=True)
        try:
            await channel.stream_file(await self.prompt(TEXT_APOLOGY))
            await channel.hangup()
        except Exception:
            if not channel.hung_up:
                log.warning("dialer: the apology of attempt %s failed", call.attempt_id)
        return facts

    async def _survey(
        self, channel: DialerChannel, call: LiveCall, facts: AnsweredCall
    ) -> AnsweredCall:
        cfg = self.config
        facts = replace(facts, survey_questions=len(self.questions))
        intro = call.text or TEXT_SURVEY_INTRO
        await channel.stream_file(await (self._message(call) if call.text else self.prompt(intro)))
        answered = 0
        for question in self.questions:
            options = ", ".join(
                f"{label} — нажмите {key}" for key, label in question.answers.items()
            )
            prompt = await self.prompt(f"{question.text} {options}.")
            key: str | None = None
            for round_no in range(2):
                if round_no:
                    await channel.stream_file(await self.prompt(TEXT_SURVEY_AGAIN))
                key = await channel.get_data(prompt, cfg.key_timeout_ms, 1)
                if key in question.answers:
                    break
                key = None
            if key is None:
                continue
            await self.record_answer(call, question.id, key)
            answered += 1
            facts = replace(facts, survey_answered=answered)
        await channel.stream_file(await self.prompt(TEXT_SURVEY_THANKS))
        await channel.hangup()
        return facts
