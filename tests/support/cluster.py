"""Sites of a test cluster on one PostgreSQL: each a simulated Asterisk with its telephony
node, plus API nodes (`tests/integration/test_cluster_*.py`)."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

from tests.support.paths import REPO_ROOT
from tests.support.processes import clean_env
from tests.support.roles import (
    SIMULATOR_READY,
    TELEPHONY_READY,
    UVICORN_PORT,
    Running,
    free_port,
    running,
)

SCENARIOS = REPO_ROOT / "tests" / "integration" / "scenarios"


def cluster_env(url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    """What every process of the cluster shares: the database, the flows, the AMI secret."""
    return clean_env(
        CALLCENTER_DATABASE_URL=url,
        CALLCENTER_RECORDINGS_DIR=str(tmp_path / "recordings"),
        CALLCENTER_PROMPTS_CACHE_DIR=str(REPO_ROOT / "var" / "prompts"),
        CALLCENTER_FLOWS_DIR=str(REPO_ROOT / "ivr_flows"),
        CALLCENTER_FLOWS_WATCH="false",
        CALLCENTER_LOG_LEVEL="INFO",
        CALLCENTER_AMI_SECRET="cluster-secret",
        **extra,
    )


async def start_site(
    stack: AsyncExitStack, base: dict[str, str], tmp_path: Path, site: str, scenario: str
) -> Running:
    """A simulated Asterisk and the telephony node bound to it."""
    env = {
        **base,
        "CALLCENTER_AMI_HOST": "127.0.0.1",
        "CALLCENTER_AMI_PORT": str(free_port()),
        "CALLCENTER_AGI_PORT": str(free_port()),
        "CALLCENTER_SITE": site,
        "CALLCENTER_NODE_NAME": f"tel-{site}",
    }
    await stack.enter_async_context(
        running(
            ["simulate", str(SCENARIOS / scenario), "--time-scale", "0.5"],
            cwd=tmp_path,
            env=env,
            ready=SIMULATOR_READY,
        )
    )
    return await stack.enter_async_context(
        running(["serve", "--role", "telephony"], cwd=tmp_path, env=env, ready=TELEPHONY_READY)
    )


async def start_api(stack: AsyncExitStack, base: dict[str, str], tmp_path: Path) -> Running:
    return await stack.enter_async_context(
        running(
            ["serve", "--role", "api"],
            cwd=tmp_path,
            env={**base, "CALLCENTER_HTTP_PORT": "0"},
            ready=UVICORN_PORT,
        )
    )
