"""The outbound dialer service: one per platform instance.

Every few seconds it looks for campaigns that are due (scheduled or running, start time
reached) and runs each one it can lock (`CampaignLocks`: only one instance dials a campaign)
in a `CampaignDialer` task. It routes the PBX's news to the campaign whose call it is:
`on_originate_response` (the AMI listener calls it for every OriginateResponse) and the
"dialer" FastAGI script (`dialer_agi_handler`). It also renders and caches prompts, and
serves the supervisor's live figures and the preview mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from callcenter.domain.calling_windows import WindowError
from callcenter.domain.campaigns import DialMode
from callcenter.domain.message_templates import TemplateError
from callcenter.outbound.campaign_dialer import CampaignDialer, _CampaignSpec
from callcenter.outbound.dialer_ports import (
    CampaignLocks,
    DialerChannel,
    OperatorPool,
    Originator,
    PromptSource,
)
from callcenter.outbound.dialer_types import (
    VAR_ATTEMPT,
    VAR_CLOSED,
    DialerConfig,
    LiveCall,
    LiveStats,
)
from callcenter.ports.queries import DueContact
from callcenter.ports.stores import Transactions

log = logging.getLogger("callcenter.outbound.dialer")

Clock = Callable[[], datetime]


class DialerService:
    def __init__(
        self,
        sessions: Transactions,
        originator: Originator,
        pool: OperatorPool,
        prompts: PromptSource,
        locks: CampaignLocks,
        *,
        config: DialerConfig | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.sessions = sessions
        self.originator = originator
        self.pool = pool
        self.prompts = prompts
        self.locks = locks
        self.config = config or DialerConfig()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._dialers: dict[int, CampaignDialer] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._channels: dict[str, CampaignDialer] = {}
        self._attempts: dict[int, str] = {}
        self._supervisor: asyncio.Task[None] | None = None
        self._spawned: set[asyncio.Task[Any]] = set()
        self._changed = asyncio.Condition()
        self._version = 0
        self._stopping = False
        self._prompt_cache: dict[str, str] = {}

    def now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the dialer clock must return aware datetimes")
        return now

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        if self._supervisor is None:
            self._stopping = False
            self._supervisor = asyncio.create_task(self._supervise(), name="dialer")

    async def stop(self) -> None:
        self._stopping = True
        for dialer in self._dialers.values():
            dialer.stop()
        tasks = [t for t in (self._supervisor, *self._tasks.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in [*tasks, *self._spawned]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._supervisor = None
        for campaign_id in list(self._dialers):
            await self.locks.release(campaign_id)
        self._dialers.clear()
        self._tasks.clear()

    async def __aenter__(self) -> DialerService:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _supervise(self) -> None:
        while not self._stopping:
            try:
                await self.scan()
            except Exception:
                log.exception("dialer: scan failed")
            await asyncio.sleep(self.config.scan_seconds)

    async def scan(self) -> list[int]:
        """Start a dialer for every due campaign this instance can lock; their ids."""
        now = self.now()
        async with self.sessions() as tx:
            due = await tx.campaigns.campaigns_due(now)
        started = []
        for campaign in due:
            if campaign.id in self._dialers:
                continue
            try:
                spec = _CampaignSpec.of(campaign, self.config)
            except (TemplateError, WindowError, ValueError) as exc:
                log.error("dialer: campaign %s is not runnable: %s", campaign.id, exc)
                continue
            if not await self.locks.acquire(campaign.id):
                continue  # another instance dials it
            dialer = CampaignDialer(self, spec)
            self._dialers[campaign.id] = dialer
            self._tasks[campaign.id] = asyncio.create_task(
                self._run(dialer), name=f"dialer-{campaign.id}"
            )
            started.append(campaign.id)
        return started

    async def _run(self, dialer: CampaignDialer) -> None:
        campaign_id = dialer.spec.id
        try:
            await dialer.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("dialer: campaign %s failed", campaign_id)
        finally:
            if not self._stopping:
                # the calls under way are over or abandoned; free the campaign for others
                self._dialers.pop(campaign_id, None)
                self._tasks.pop(campaign_id, None)
                await self.locks.release(campaign_id)
                self.changed()

    def running(self) -> list[int]:
        return sorted(self._dialers)

    def dialer(self, campaign_id: int) -> CampaignDialer | None:
        return self._dialers.get(campaign_id)

    def wake(self, campaign_id: int | None = None) -> None:
        """Something changed (a status, a list): look again now rather than at the next tick."""
        for cid, dialer in self._dialers.items():
            if campaign_id is None or cid == campaign_id:
                dialer.wake()

    def spawn(self, coro: Awaitable[None]) -> None:
        async def run() -> None:
            await coro

        task = asyncio.create_task(run())
        self._spawned.add(task)
        task.add_done_callback(self._spawned.discard)

    # --- calls --------------------------------------------------------------------------

    def register(self, channel_id: str, dialer: CampaignDialer) -> None:
        self._channels[channel_id] = dialer
        call = dialer.calls.get(channel_id)
        if call is not None:
            self._attempts[call.attempt_id] = channel_id

    def unregister(self, channel_id: str) -> None:
        dialer = self._channels.pop(channel_id, None)
        if dialer is not None:
            self._attempts = {a: c for a, c in self._attempts.items() if c != channel_id}

    def _find(self, channel_id: str | None) -> tuple[CampaignDialer, LiveCall] | None:
        if not channel_id:
            return None
        dialer = self._channels.get(channel_id)
        if dialer is None:
            return None
        call = dialer.calls.get(channel_id)
        return None if call is None else (dialer, call)

    async def on_originate_response(
        self, channel_id: str | None, *, success: bool, reason: int
    ) -> bool:
        """Feed every AMI OriginateResponse here; True when it was one of the dialer's calls.

        outcome = OriginateOutcome.from_frame(frame)
        if outcome is not None:
            await dialer.on_originate_response(
                outcome.channel_id, success=outcome.success, reason=outcome.reason)
        """
        found = self._find(channel_id)
        if found is None:
            return False
        dialer, call = found
        await dialer.originate_response(call, success, reason)
        return True

    async def serve_agi(self, channel: DialerChannel) -> None:
        """The "dialer" FastAGI script: see the module docstring."""
        found = self._find(channel.env.uniqueid)
        if found is None:
            # a Local channel's AGI leg may carry another uniqueid: the attempt id tells
            attempt = await channel.get_variable(VAR_ATTEMPT)
            if attempt and attempt.isdigit():
                found = self._find(self._attempts.get(int(attempt)))
        if found is None:
            log.warning("dialer: AGI session for unknown call %s: hanging up", channel.env.uniqueid)
            await channel.set_variable(VAR_CLOSED, "1")
            await channel.hangup()
            return
        dialer, call = found
        await dialer.serve(channel, call)

    async def prompt(self, text: str) -> str:
        cached = self._prompt_cache.get(text)
        if cached is not None:
            return cached
        rendered = await self.prompts.render(text)
        name = rendered.asterisk_name
        if len(self._prompt_cache) < 10_000:
            self._prompt_cache[text] = name
        return name

    # --- monitoring ---------------------------------------------------------------------

    def live(self, campaign_id: int) -> LiveStats | None:
        dialer = self._dialers.get(campaign_id)
        return None if dialer is None else dialer.stats()

    def live_all(self) -> dict[int, LiveStats]:
        return {cid: d.stats() for cid, d in self._dialers.items()}

    def changed(self) -> None:
        self._version += 1

        async def notify() -> None:
            async with self._changed:
                self._changed.notify_all()

        self.spawn(notify())

    async def _wait_change(self, version: int, within: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within), self._changed:
                await self._changed.wait_for(lambda: self._version != version)

    async def watch(self, *, every: float = 1.0) -> AsyncIterator[dict[int, LiveStats]]:
        """Live stats of every campaign dialled here: now, then on each change (at most
        once per `every` seconds) and at least every few seconds."""
        while True:
            yield self.live_all()
            await self._wait_change(self._version, max(every, 5.0))
            await asyncio.sleep(every)

    # --- preview mode -------------------------------------------------------------------

    async def preview_next(
        self, campaign_id: int, *, hold_seconds: float = 120.0
    ) -> DueContact | None:
        dialer = self._dialers.get(campaign_id)
        if dialer is None or dialer.spec.mode is not DialMode.PREVIEW:
            return None
        return await dialer.preview_next(self.now(), timedelta(seconds=hold_seconds))

    async def preview_dial(self, campaign_id: int, contact_id: int) -> bool:
        dialer = self._dialers.get(campaign_id)
        if dialer is None or dialer.spec.mode is not DialMode.PREVIEW:
            return False
        return await dialer.preview_dial(contact_id, self.now()) is not None


def dialer_agi_handler(service: DialerService) -> Callable[[DialerChannel], Awaitable[None]]:
    """The handler the lead registers for the "dialer" FastAGI script:

    AgiServer({"ivr": ..., "dialer": dialer_agi_handler(dialer_service)}, ...)
    """

    async def handler(channel: DialerChannel) -> None:
        await service.serve_agi(channel)

    return handler
