"""The `callcenter` command as a newcomer meets it: real processes, real files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.paths import REPO_ROOT
from tests.support.processes import clean_env, serving


def run_cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "callcenter", *args],
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_nonsense_database_url_stops_serve_with_one_line(tmp_path: Path) -> None:
    result = run_cli("serve", cwd=tmp_path, CALLCENTER_DATABASE_URL="nonsense")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "DATABASE_URL" in lines[0]


@pytest.mark.slow
def test_serve_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cc.sqlite3'}"
    result = run_cli("serve", cwd=tmp_path, CALLCENTER_DATABASE_URL=url)
    assert result.returncode != 0
    assert "callcenter migrate" in result.stderr


def test_check_config_masks_secrets(tmp_path: Path) -> None:
    result = run_cli(
        "check-config",
        cwd=tmp_path,
        CALLCENTER_AMI_SECRET="s3cr3t-value",
        CALLCENTER_AMI_HOST="pbx",
    )
    assert result.returncode == 0, result.stderr
    assert "CALLCENTER_AMI_HOST=pbx" in result.stdout
    assert "CALLCENTER_AMI_SECRET=(set)" in result.stdout
    assert "s3cr3t-value" not in result.stdout
    # issue 16, row 8: the public development secret is named as such, not just "(set)"
    assert "CALLCENTER_JWT_SECRET is the public development secret" in result.stderr


def test_check_config_warns_when_a_remote_asterisk_cannot_see_the_prompts(
    tmp_path: Path,
) -> None:
    result = run_cli("check-config", cwd=tmp_path, CALLCENTER_AMI_HOST="pbx.example")
    assert result.returncode == 0, result.stderr
    # the default relative folder is made absolute: what Asterisk is handed
    assert f"CALLCENTER_PROMPTS_CACHE_DIR={tmp_path.resolve() / 'var' / 'prompts'}" in (
        result.stdout
    )
    assert "warning: Asterisk runs on pbx.example" in result.stderr
    assert "CALLCENTER_PROMPTS_ASTERISK_DIR" in result.stderr
    shared = run_cli(
        "check-config",
        cwd=tmp_path,
        CALLCENTER_AMI_HOST="pbx.example",
        CALLCENTER_PROMPTS_ASTERISK_DIR="/mnt/callcenter/prompts",
    )
    assert shared.returncode == 0, shared.stderr
    assert "Asterisk runs on" not in shared.stderr  # (the development JWT secret still warns)


@pytest.mark.slow
async def test_migrate_seed_then_serve_health_docs_and_sign_in(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cc.sqlite3'}"
    env = {
        "CALLCENTER_DATABASE_URL": url,
        "CALLCENTER_ADMIN_USERNAME": "admin",
        "CALLCENTER_ADMIN_PASSWORD": "admin-pass",
        "CALLCENTER_AGI_PORT": "0",
        "CALLCENTER_DEMO_TRAFFIC": "false",
        "CALLCENTER_FLOWS_DIR": str(REPO_ROOT / "ivr_flows"),
        "CALLCENTER_PROMPTS_CACHE_DIR": str(REPO_ROOT / "var" / "prompts"),
    }
    migrated = run_cli("migrate", cwd=tmp_path, **env)
    assert migrated.returncode == 0, migrated.stderr
    seeded = run_cli("seed-demo", "--if-empty", cwd=tmp_path, **env)
    assert seeded.returncode == 0, seeded.stderr
    async with (
        serving(tmp_path, clean_env(**env)) as served,
        httpx.AsyncClient(base_url=served.base_url, timeout=10) as http,
    ):
        health = await http.get("/health")
        assert health.status_code == 200
        assert health.json()["database"]["ok"] is True
        assert (await http.get("/docs")).status_code == 200
        token = await http.post(
            "/api/v1/auth/token", data={"username": "admin", "password": "admin-pass"}
        )
        assert token.status_code == 200
        assert token.json()["role"] == "administrator"
        demo = await http.post(
            "/api/v1/auth/token", data={"username": "supervisor", "password": "supervisor"}
        )
        assert demo.status_code == 200
    log = b"".join(served.log).decode()
    assert "PBX link" in log
