"""Where things are, for tests."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TRANSCRIPTS_DIR = Path(
    os.environ.get(
        "CALLCENTER_TRANSCRIPTS_DIR", REPO_ROOT.parent / "shared" / "asterisk-transcripts"
    )
)
