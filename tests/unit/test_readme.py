"""The README's settings table must list exactly the settings the code reads."""

from __future__ import annotations

import re

from callcenter.config import ENV_PREFIX, Settings
from tests.support.paths import REPO_ROOT


def test_every_setting_has_a_readme_row_and_no_row_is_stale() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(CALLCENTER_[A-Z0-9_]+)` \|", readme, flags=re.M))
    expected = {f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields}
    assert sorted(expected - documented) == [], "settings missing from the README table"
    assert sorted(documented - expected) == [], "README rows for settings that do not exist"


def test_first_screen_gives_the_two_commands() -> None:
    head = "\n".join((REPO_ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:40])
    assert "make run" in head
    assert "make test" in head
