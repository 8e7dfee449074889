"""The bench and eval harnesses run as a user runs them (`python -m ...`), on two tiny meetings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.transcripts import transcript
from tests.support.paths import ROOT


def run_module(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )


def write_meetings(folder: Path) -> Path:
    """Two tiny meetings with references, named like QMSum's (one AMI, one ICSI)."""
    folder.mkdir()
    for n, meeting_id in enumerate(("ES2006a", "Bed002")):
        (folder / f"{meeting_id}.txt").write_text(transcript(800, seed=n))
        (folder / f"{meeting_id}.summary.txt").write_text(
            "The team discussed the remote control design, its price and the battery. "
            "They agreed to research fashion trends before the next meeting."
        )
    return folder
