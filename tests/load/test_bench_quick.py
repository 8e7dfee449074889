"""`make bench`'s quick run, the whole harness end to end on tiny input: every local section runs and
writes its report and JSON. Behaviour only: no test here looks at a timing figure.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.transcripts import transcript
from tests.support.paths import ROOT


def _run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture
def meetings(tmp_path: Path) -> Path:
    """Two tiny meetings with references, named like QMSum's (one AMI, one ICSI)."""
    folder = tmp_path / "meetings"
    folder.mkdir()
    for n, meeting_id in enumerate(("ES2006a", "Bed002")):
        (folder / f"{meeting_id}.txt").write_text(transcript(800, seed=n))
        (folder / f"{meeting_id}.summary.txt").write_text(
            "The team discussed the remote control design, its price and the battery. "
            "They agreed to research fashion trends before the next meeting."
        )
    return folder


@pytest.mark.load  # the whole bench harness end to end: ~40 s on 2 cores
def test_quick_bench_runs_every_local_section_and_writes_report_and_json(
    meetings: Path, tmp_path: Path
) -> None:
    out = tmp_path / "BENCHMARKS.md"
    done = _run("bench.run", "--quick", "--only", "1,2,3,5", "--data", str(meetings), "--out", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    report = out.read_text()
    for heading in ("## 1. Dispatcher", "## 2. Worker overhead", "## 3. Throughput", "## 5. Extractive"):
        assert heading in report
    assert "Quick smoke run" in report
    raw = json.loads(out.with_suffix(".json").read_text())
    assert set(raw) == {"1", "2", "3", "5"}
    assert all(run["jobs"] == 2 for run in raw["3"]["runs"])
