"""FastAGI scripts of the ACD: what a caller hears on joining a queue and while waiting, and
the callback-in-queue booking.

    routes = acd_agi_routes(acd, prompts, sessions=session_factory)
    for script, handler in routes.items():
        agi_server.add_route(script, handler)

Scripts (the dialplan calls them from `acd-wait` in asterisk_conf/extensions.conf):
- `acd-join`, before Queue(): picks the caller's priority (a callback, else the customer's
  category), decides whether the caller overflows to the branches, announces the expected wait
  and offers a callback. Sets IVR_PRIORITY, ACD_NEXT (queue | overflow | callback), ACD_QUEUE
  (where to go when overflowing), ACD_WAIT (Queue() timeout, s), ACD_SEGMENT (s until the next
  announcement; Queue() returns TIMEOUT then and the dialplan runs `acd-wait`).
- `acd-wait`, between two Queue() segments: the periodic announcement with the caller's own
  expected wait (from QUEUEPOSITION), the callback offer, overflow when it is due, and the
  end of the wait (ACD_NEXT=timeout: the dialplan's overflow/voicemail path).
- `acd-callback`, when the caller pressed the callback key while in Queue() (queues.conf
  `context=`): books the callback and says goodbye (ACD_NEXT=callback), or sends the caller
  back to their place (ACD_NEXT=queue).

Handlers take any object with the few AgiChannel methods they use (`CallChannel`), so they stay
free of the AGI adapter; a failure of ours ends the script with ACD_NEXT unset, and the dialplan
then queues the caller as it would without the platform.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from callcenter.acd import announcements as say
from callcenter.acd.service import AcdService
from callcenter.common.access import Conflict, InvalidInput, Sessions
from callcenter.domain.acd import CALLBACK_PRIORITY, MAX_PRIORITY, caller_priority
from callcenter.domain.customers import CustomerCategory
from callcenter.pbx import channel_vars
from callcenter.pbx.channel import CallChannel

log = logging.getLogger(__name__)

# channel variables the ACD scripts set for the dialplan (`acd-wait`)
ACD_NEXT = "ACD_NEXT"
ACD_QUEUE = "ACD_QUEUE"
ACD_WAIT = "ACD_WAIT"
ACD_SEGMENT = "ACD_SEGMENT"
# variables the scripts read
CC_QUEUE = "CC_QUEUE"  # the queue the dialplan is about to put the caller in
QUEUEPOSITION = "QUEUEPOSITION"  # set by Queue() when the caller left it

NEXT_QUEUE = "queue"
NEXT_OVERFLOW = "overflow"
NEXT_CALLBACK = "callback"
NEXT_TIMEOUT = "timeout"

_TRUE = frozenset({"1", "yes", "true", "on"})
_QUEUE_NAME_CHARS = frozenset("-_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


class Rendered(Protocol):
    @property
    def asterisk_name(self) -> str: ...


class Prompts(Protocol):
    """`callcenter.speech.tts.PromptRenderer`: text -> cached 8 kHz WAV."""

    async def render(self, text: str, *, normalise: bool = True) -> Rendered: ...


CategoryLookup = Callable[[int], Awaitable[CustomerCategory | None]]
AcdScript = Callable[[CallChannel], Awaitable[None]]


def _queue_name(value: str | None) -> str | None:
    value = (value or "").strip()
    if not value or len(value) > 64 or not set(value) <= _QUEUE_NAME_CHARS:
        return None
    return value


def _small_int(value: str | None) -> int | None:
    value = (value or "").strip()
    if not value.isascii() or not value.isdigit() or len(value) > 9:
        return None
    return int(value)


class AcdScripts:
    def __init__(
        self,
        acd: AcdService,
        prompts: Prompts,
        *,
        categories: CategoryLookup | None = None,
    ) -> None:
        self.acd = acd
        self.prompts = prompts
        self.categories = categories

    async def _say(self, line: CallChannel, text: str, *, escape: str = "") -> str | None:
        try:
            prompt = await self.prompts.render(text)
        except Exception:
            # no speech is better than no queue: the caller waits without the announcement
            log.exception("ACD: could not render %r", text[:80])
            return None
        key, _ = await line.stream_file(prompt.asterisk_name, escape)
        return key

    async def _ask(self, line: CallChannel, text: str) -> str | None:
        try:
            prompt = await self.prompts.render(text)
        except Exception:
            log.exception("ACD: could not render %r", text[:80])
            return None
        return await line.get_data(prompt.asterisk_name, 3000, 1)

    def _offers_callback(self, expected: float | None) -> bool:
        settings = self.acd.settings
        return (
            settings.callback_enabled
            and self.acd.callbacks.originator is not None
            and expected is not None
            and expected >= settings.callback_offer_min_wait_seconds
        )

    # ------------------------------------------------------------------ acd-join

    async def join(self, line: CallChannel) -> None:
        queue = _queue_name(await line.get_variable(CC_QUEUE))
        if queue is None:
            return  # not ours to route: the dialplan goes on as it would without us
        uniqueid = line.env.uniqueid
        callback = (await line.get_variable(channel_vars.QUEUED_CALLBACK) or "").lower() in _TRUE
        given = _small_int(await line.get_variable(channel_vars.IVR_PRIORITY)) or 0
        priority = min(given, MAX_PRIORITY)
        if callback:
            priority = CALLBACK_PRIORITY
        else:
            customer_id = _small_int(await line.get_variable(channel_vars.CUSTOMER_ID))
            if customer_id is not None and self.categories is not None:
                category = await self.categories(customer_id)
                priority = max(priority, caller_priority(category))
        decision = self.acd.route(queue, priority=priority, uniqueid=uniqueid)
        await line.set_variable(channel_vars.IVR_PRIORITY, priority)
        if decision.overflowed:
            log.info(
                "ACD: caller %s overflows %s -> %s (%s)",
                uniqueid,
                queue,
                decision.queue,
                decision.reason,
            )
            await line.set_variable(ACD_QUEUE, decision.queue)
            await line.set_variable(ACD_NEXT, NEXT_OVERFLOW)
            return
        await line.set_variable(ACD_WAIT, int(decision.timeout_seconds))
        await line.set_variable(ACD_SEGMENT, int(self.acd.settings.announce_every_seconds))
        await line.set_variable(ACD_NEXT, NEXT_QUEUE)
        if callback:
            await self._say(line, say.CALLBACK_GREETING)
            return
        digit = self.acd.settings.callback_digit
        offer = self._offers_callback(decision.expected_wait)
        text = say.join_announcement(decision.expected_wait, offer_callback=offer, digit=digit)
        if text is None:
            return
        pressed = await self._say(line, text, escape=digit if offer else "")
        if offer and pressed == digit:
            await self._book(line, queue)

    # ------------------------------------------------------------------ acd-wait

    async def wait(self, line: CallChannel) -> None:
        queue = _queue_name(await line.get_variable(CC_QUEUE))
        if queue is None:
            return
        uniqueid = line.env.uniqueid
        position = _small_int(await line.get_variable(QUEUEPOSITION))
        decision = self.acd.reroute(queue, uniqueid, position)
        if self.acd.waited(queue, uniqueid) >= decision.timeout_seconds:
            await line.set_variable(ACD_NEXT, NEXT_TIMEOUT)
            return
        if decision.overflowed:
            await line.set_variable(ACD_QUEUE, decision.queue)
            await line.set_variable(ACD_NEXT, NEXT_OVERFLOW)
            return
        await line.set_variable(ACD_NEXT, NEXT_QUEUE)
        digit = self.acd.settings.callback_digit
        offer = self._offers_callback(decision.expected_wait)
        text = say.periodic_announcement(decision.expected_wait, offer_callback=offer, digit=digit)
        if not offer:
            await self._say(line, text)
            return
        if await self._ask(line, text) == digit:
            await self._book(line, queue)

    # ------------------------------------------------------------------ acd-callback

    async def callback(self, line: CallChannel) -> None:
        queue = _queue_name(await line.get_variable(CC_QUEUE))
        if queue is None:
            return
        await line.set_variable(ACD_NEXT, NEXT_QUEUE)
        await self._book(line, queue)

    async def _book(self, line: CallChannel, queue: str) -> None:
        customer_id = _small_int(await line.get_variable(channel_vars.CUSTOMER_ID))
        try:
            booked = self.acd.book_callback(
                queue, line.env.uniqueid, line.env.callerid, customer_id=customer_id
            )
        except InvalidInput:
            await self._say(line, say.CALLBACK_NO_NUMBER)
            return
        except Conflict:
            await line.set_variable(ACD_NEXT, NEXT_CALLBACK)
            await self._say(line, say.CALLBACK_ALREADY)
            return
        # the promise is kept in the database before the caller hears it; should the
        # database be away, the ACD's timer keeps trying and the booking stays in memory
        try:
            await self.acd.save_callbacks()
        except Exception:
            log.exception("ACD: callback %s not saved yet", booked.id)
        await line.set_variable(ACD_NEXT, NEXT_CALLBACK)
        await self._say(line, say.callback_booked(booked.number))

    def routes(self) -> Mapping[str, AcdScript]:
        return {"acd-join": self.join, "acd-wait": self.wait, "acd-callback": self.callback}


def customer_categories(sessions: Sessions) -> CategoryLookup:
    async def lookup(customer_id: int) -> CustomerCategory | None:
        async with sessions() as tx:
            customer = await tx.customers.get(customer_id)
        return CustomerCategory(customer.category) if customer is not None else None

    return lookup


def acd_agi_routes(
    acd: AcdService, prompts: Prompts, *, sessions: Sessions | None = None
) -> Mapping[str, AcdScript]:
    """The FastAGI scripts to register on the AGI server: acd-join, acd-wait, acd-callback."""
    categories = customer_categories(sessions) if sessions is not None else None
    return AcdScripts(acd, prompts, categories=categories).routes()
