"""SMS auto-informing benchmark: a 50,000-contact campaign through the job workers, with the
worker killed midway and started again.

Setup: a throw-away PostgreSQL database (SQLite with `--database sqlite`, or when PostgreSQL
is not reachable), migrated; one contact list of `--contacts` numbers and an auto-informing
campaign. The SMS gateway is `callcenter.sim.sms_gateway.SmsGatewaySim` in this process: real
HTTP/1.1 on 127.0.0.1, answering each request `--delay` seconds late, answering 503 (sending
nothing) to `--failure-rate` of requests, and honouring idempotency keys (a repeated key gets
the first reply and sends nothing); it keeps the "handset log" of what each number received.

Run: the send request (the use case the API calls) is timed; then a worker process
(`python -m callcenter.bootstrap.notify_worker`, the deployable worker) sends; when
`--kill-at` of the contacts are handled it is killed with SIGKILL, and a new worker process is
started, which finishes the campaign (taking over the killed worker's deliveries when their
lease ends). The run ends when no delivery is queued or sending.

Figures: sent = deliveries stored as sent; duplicates = messages a number received beyond
the first (from the handset log); lost = contacts whose delivery is not stored as sent or
whose number received nothing; per_s = sent / seconds from the send request to the end
(the kill, the lease wait and the retries included). The last line is

    notify: contacts=N sent=S duplicates=D lost=L per_s=R

    .venv/bin/python -m bench.notify [--contacts 50000] [--delay 0.02] [--failure-rate 0.02]
        [--database postgres|sqlite] [--kill-at 0.4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from callcenter.common.access import Actor
from callcenter.db.engine import create_engine, create_session_factory
from callcenter.db.migrate import upgrade_to_head
from callcenter.db.models import Contact, ContactList, MessageDelivery, User
from callcenter.domain.campaigns import CampaignKind
from callcenter.domain.notify import Channel, DeliveryStatus
from callcenter.domain.roles import Role
from callcenter.outbound.campaigns import CampaignDraft, CampaignsService
from callcenter.outbound.notify_jobs import NotifyJobs
from callcenter.sim.sms_gateway import SmsGatewaySim

POSTGRES_ADMIN_URL = os.environ.get(
    "CALLCENTER_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REPO_ROOT = Path(__file__).resolve().parents[1]
WORKER_ENV = {
    "CALLCENTER_NOTIFY_SMS_RATE": "1000",  # the gateway's contract limit, per worker
    "CALLCENTER_NOTIFY_CONCURRENCY": "10",
    "CALLCENTER_NOTIFY_RETRY_DELAY": "1",
    "CALLCENTER_NOTIFY_LEASE": "5",
    "CALLCENTER_LOG_LEVEL": "WARNING",
}


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def _pg_admin(sql: str) -> None:
    dsn = make_url(POSTGRES_ADMIN_URL).set(drivername="postgresql")
    conn = await asyncpg.connect(dsn.render_as_string(hide_password=False), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def seed(url: str, contacts: int) -> tuple[Actor, int]:
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    try:
        async with sessions.begin() as session:
            user = User(username="bench", password_hash="-", role=Role.SUPERVISOR, full_name="B")
            contact_list = ContactList(name="Бенчмарк")
            session.add_all([user, contact_list])
            await session.flush()
            list_id, user_id = contact_list.id, user.id
        rows = [
            {
                "list_id": list_id,
                "phone": f"+7916{n:07d}",
                "name": f"Абонент {n}",
                "variables": {"debt": f"{100 + n % 5000},50"},
            }
            for n in range(contacts)
        ]
        for start in range(0, len(rows), 5000):
            async with sessions.begin() as session:
                await session.execute(Contact.__table__.insert(), rows[start : start + 5000])
        actor = Actor(user_id=user_id, role=Role.SUPERVISOR)
        now = datetime.now(UTC)
        campaign = await CampaignsService(sessions, clock=lambda: now).create(
            actor,
            CampaignDraft(
                name="Задолженность",
                kind=CampaignKind.AUTO_INFORM,
                contact_list_id=list_id,
                starts_at=now - timedelta(hours=1),
                message_template="Задолженность {debt:money}. Оплатите до конца месяца.",
                # all day: the bench must not depend on the hour it runs at
                window_start=clock_time(0, 0),
                window_end=clock_time(23, 59, 59, 999999),
            ),
        )
        return actor, campaign.id
    finally:
        await engine.dispose()


async def start_worker(url: str, gateway: SmsGatewaySim) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLCENTER_")}
    env.update(WORKER_ENV)
    env.update(CALLCENTER_DATABASE_URL=url, CALLCENTER_SMS_GATEWAY_URL=gateway.url)
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "callcenter.bootstrap.notify_worker", cwd=REPO_ROOT, env=env
    )


async def run(url: str, args: argparse.Namespace) -> str:
    started = time.perf_counter()
    await asyncio.to_thread(upgrade_to_head, url)
    actor, campaign_id = await seed(url, args.contacts)
    log(f"  seeded {args.contacts} contacts in {time.perf_counter() - started:.1f} s")
    gateway = SmsGatewaySim(delay=args.delay, temporary_failure_rate=args.failure_rate, seed=7)
    await gateway.start()
    engine = create_engine(url)
    jobs = NotifyJobs(
        create_session_factory(engine),
        clock=lambda: datetime.now(UTC),
        channels=frozenset({Channel.SMS}),
    )
    workers: list[asyncio.subprocess.Process] = []
    try:
        t0 = time.perf_counter()
        job = await jobs.send(actor, campaign_id, Channel.SMS)
        log(
            f"  send request returned in {1000 * (time.perf_counter() - t0):.1f} ms "
            f"(job {job.id}, {job.contacts_total} contacts)"
        )
        workers.append(await start_worker(url, gateway))
        killed = False
        last_report = 0.0
        while True:
            [progress] = await jobs.progress(campaign_id)
            handled = progress.handled
            now = time.perf_counter()
            if now - last_report >= 5:
                last_report = now
                log(f"  {now - t0:6.1f} s: handled {handled}, requests {gateway.requests}")
            if not killed and handled >= args.kill_at * args.contacts:
                workers[-1].send_signal(signal.SIGKILL)
                await workers[-1].wait()
                killed = True
                log(f"  {now - t0:6.1f} s: worker killed at {handled} handled; starting another")
                workers.append(await start_worker(url, gateway))
            if handled >= args.contacts and progress.job_status.value == "done":
                break
            await asyncio.sleep(1.0)
        elapsed = time.perf_counter() - t0
    finally:
        for worker in workers:
            if worker.returncode is None:
                worker.terminate()
                await worker.wait()
        await gateway.stop()
    async with create_session_factory(engine)() as session:
        sent_phones = set(
            await session.scalars(
                select(MessageDelivery.address).where(
                    MessageDelivery.campaign_id == campaign_id,
                    MessageDelivery.status == DeliveryStatus.SENT,
                )
            )
        )
        rows = int(
            await session.scalar(
                select(func.count()).where(MessageDelivery.campaign_id == campaign_id)
            )
            or 0
        )
    await engine.dispose()
    received = gateway.received_by()
    sent = len(sent_phones)
    lost = args.contacts - len(sent_phones & set(received))
    log(
        f"  {rows} delivery rows, {gateway.requests} gateway requests, "
        f"{gateway.repeated_keys} repeated keys answered from the gateway's memory, "
        f"{elapsed:.1f} s"
    )
    return (
        f"notify: contacts={args.contacts} sent={sent} duplicates={gateway.duplicates} "
        f"lost={lost} per_s={sent / elapsed:.0f}"
    )


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--delay", type=float, default=0.02)
    parser.add_argument("--failure-rate", type=float, default=0.02)
    parser.add_argument("--kill-at", type=float, default=0.4)
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    args = parser.parse_args()
    log(f"worker settings: {' '.join(f'{k}={v}' for k, v in WORKER_ENV.items())}")
    line = ""
    if args.database == "postgres":
        name = f"cc_bench_{uuid.uuid4().hex[:12]}"
        try:
            await _pg_admin(f'CREATE DATABASE "{name}"')
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            log(f"postgresql not reachable ({exc}): using SQLite")
            args.database = "sqlite"
        else:
            try:
                log("postgresql:")
                url = make_url(POSTGRES_ADMIN_URL).set(database=name)
                line = await run(url.render_as_string(hide_password=False), args)
            finally:
                await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if args.database == "sqlite":
        with tempfile.TemporaryDirectory(prefix="bench-notify-") as tmp:
            log("sqlite:")
            line = await run(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}", args)
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
