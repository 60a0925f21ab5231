"""Only the SMS / e-mail job worker, in a process of its own:

    python -m callcenter.bootstrap.notify_worker

Settings come from the environment as for `callcenter serve` (the database, the SMTP server
and the SMS gateway, CALLCENTER_NOTIFY_*). On PostgreSQL any number of these processes (and
API processes with CALLCENTER_NOTIFY_WORKER=true) share the queue. It stops on SIGTERM or
SIGINT; killed outright, its deliveries go back to the queue when their lease ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys

from callcenter.bootstrap import build_email_sender, build_notify_worker, build_sms_gateway
from callcenter.config import Settings, SettingsError, load_settings
from callcenter.db.engine import create_engine, create_session_factory

log = logging.getLogger("callcenter")


async def run(settings: Settings, stop: asyncio.Event | None = None) -> None:
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    engine = create_engine(settings.database_url)
    sms = build_sms_gateway(settings)
    worker = build_notify_worker(
        settings, create_session_factory(engine), sms=sms, email=build_email_sender(settings)
    )
    await worker.start()
    try:
        await stop.wait()
    finally:
        await worker.stop()
        close = getattr(sms, "close", None)
        if close is not None:
            await close()
        await engine.dispose()


def main() -> None:
    try:
        settings = load_settings()
    except SettingsError as exc:
        sys.exit(f"error: {exc}")
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
