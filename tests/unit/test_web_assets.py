"""No third-party JavaScript or CSS in the repository: the pages' libraries come from npm at
`make install` (package.json + package-lock.json), the pages' own files are few and known."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.support.paths import REPO_ROOT

OWN = {
    "callcenter/api/web/static/app.css",
    "callcenter/api/web/static/common.js",
    "callcenter/api/web/static/operator.js",
    "callcenter/api/web/static/reports.js",
    "callcenter/api/web/static/wallboard.js",
}


def _tracked() -> list[str]:
    if shutil.which("git") is None or not (REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    out = subprocess.run(
        ["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    return out.stdout.splitlines()


def test_only_our_own_scripts_and_styles_are_committed() -> None:
    files = _tracked()
    web = {f for f in files if f.endswith((".js", ".mjs", ".css", ".map"))}
    assert web == OWN
    assert not [f for f in files if f.startswith("node_modules/")]
    assert {"package.json", "package-lock.json"} <= set(files)
