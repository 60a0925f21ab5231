"""The layering contracts of `make check` hold, and they catch a use case that reaches for the
database directly (so the check is not one that cannot fail)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter not installed")


def _lint(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(project / "pyproject.toml"), "--no-cache"],
        cwd=project,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(project), "PATH": "/usr/bin:/bin"},
        check=False,
    )


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "callcenter", tmp_path / "callcenter")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_shipped_code_keeps_every_contract(project_copy: Path) -> None:
    result = _lint(project_copy)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_use_case_importing_sqlalchemy_breaks_the_contract(project_copy: Path) -> None:
    module = project_copy / "callcenter" / "workstation" / "reminders.py"
    text = module.read_text()
    module.write_text(
        text.replace(
            "from __future__ import annotations\n",
            "from __future__ import annotations\n\nimport sqlalchemy\n",
            1,
        )
    )
    result = _lint(project_copy)
    assert result.returncode != 0
    assert "callcenter.workstation is not allowed to import sqlalchemy" in result.stdout


def test_a_use_case_importing_a_repository_breaks_the_contract(project_copy: Path) -> None:
    module = project_copy / "callcenter" / "accounts" / "users.py"
    text = module.read_text()
    module.write_text(
        text.replace(
            "from __future__ import annotations\n",
            "from __future__ import annotations\n\nfrom callcenter.db.repositories import users\n",
            1,
        )
    )
    result = _lint(project_copy)
    assert result.returncode != 0
    assert "callcenter.accounts is not allowed to import callcenter.db" in result.stdout


def test_the_generated_store_ports_match_the_repositories() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_stores.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
