"""Readiness of one platform process, per role, for load balancers and systemd.

Liveness is the process answering at all (`/health/live`). Readiness (`/health/ready`) is
whether the role can do its job now:

* api: the database answers;
* telephony: the database answers, the PBX (AMI) link is up, the FastAGI server is listening,
  the IVR's default flow is loaded (without it every caller skips the menu), and the journal
  lags less than `CALLCENTER_HEALTH_MAX_JOURNAL_LAG_SECONDS`;
* all (one process): both.

A process that is not ready says why, one reason per failed check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from callcenter.ports.pbx import PbxState

if TYPE_CHECKING:
    from callcenter.bootstrap import Platform
    from callcenter.inbound.flows import FlowRegistry

DB_PROBE_TIMEOUT_S = 3.0


@dataclass(frozen=True, slots=True)
class Check:
    name: str  # database, pbx, fastagi, ivr, journal
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class Readiness:
    role: str
    checks: tuple[Check, ...]

    @property
    def ready(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def reasons(self) -> list[str]:
        return [f"{check.name}: {check.detail}" for check in self.checks if not check.ok]


def _telephony(platform: Platform) -> bool:
    return platform.role in ("telephony", "all") and platform.calls is not None


async def readiness(platform: Platform, *, now: datetime | None = None) -> Readiness:
    now = now or datetime.now(UTC)
    probe = await platform.probe_database(limit_seconds=DB_PROBE_TIMEOUT_S)
    checks = [
        Check(
            "database",
            probe.ok,
            f"{probe.backend} answered in {probe.latency_ms:.0f} ms"
            if probe.ok and probe.latency_ms is not None
            else (probe.error or "not reachable"),
        )
    ]
    if _telephony(platform):
        checks.extend(_telephony_checks(platform, now))
    return Readiness(platform.role, tuple(checks))


def _telephony_checks(platform: Platform, now: datetime) -> list[Check]:
    pbx = platform.pbx.status()
    linked = pbx.state is PbxState.CONNECTED
    checks = [
        Check(
            "pbx",
            linked,
            f"AMI link to {pbx.target} is up"
            if linked
            else f"AMI link to {pbx.target or 'the PBX'} is {pbx.state.value}"
            + (f": {pbx.detail}" if pbx.detail else ""),
        )
    ]
    agi = platform.agi
    if agi is not None:
        listening = agi.listening
        checks.append(
            Check(
                "fastagi",
                listening,
                "listening on {}:{}".format(*agi.address) if listening else "not listening",
            )
        )
    if platform.ivr is not None:
        checks.append(_ivr_check(platform.ivr.flows))
    if platform.calls is not None:
        limit = platform.settings.health_max_journal_lag_seconds
        lag = platform.calls.journal_lag_seconds(now)
        checks.append(
            Check(
                "journal",
                lag <= limit,
                f"lag {lag:.1f} s" + (f" (limit {limit:g} s)" if lag > limit else ""),
            )
        )
    return checks


def _ivr_check(flows: FlowRegistry) -> Check:
    """Without its default flow every caller skips the menu and goes to the fallback queue."""
    if flows.default_flow in flows.names:
        return Check("ivr", True, "flows loaded: " + ", ".join(flows.names))
    why = f": {flows.last_errors[0]}" if flows.last_errors else ""
    return Check("ivr", False, f"default flow {flows.default_flow!r} is not loaded{why}")


def readiness_body(found: Readiness) -> dict[str, object]:
    """`/health/ready`'s JSON (the API routes and the telephony role's listener)."""
    return {
        "status": "ready" if found.ready else "unready",
        "role": found.role,
        "reasons": found.reasons,
        "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in found.checks},
    }


async def health_probe(platform: Platform, path: str) -> tuple[int, dict[str, object]] | None:
    """The probes of a process without the HTTP API (the telephony role's metrics port):
    `/health/live`, `/health/ready`, and `/health` (ready's checks; 503 only when the
    database is down, as on the API). None: not a probe path."""
    if path == "/health/live":
        return 200, {"status": "alive", "role": platform.role}
    if path not in ("/health", "/health/ready"):
        return None
    found = await readiness(platform)
    body = readiness_body(found)
    if path == "/health/ready":
        return (200 if found.ready else 503), body
    database_ok = all(c.ok for c in found.checks if c.name == "database")
    return (200 if database_ok else 503), body
