"""Where things are, for tests."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# Real Asterisk 22 traffic (AMI and FastAGI) captured in a lab: see its README.md.
TRANSCRIPTS_DIR = REPO_ROOT / "tests" / "fixtures" / "asterisk"
