"""`make bench`'s quick run, the whole harness end to end on tiny input: every local section runs and
writes its report and JSON. Behaviour only: no test here looks at a timing figure.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.bench import run_module, write_meetings


@pytest.fixture
def meetings(tmp_path: Path) -> Path:
    return write_meetings(tmp_path / "meetings")


@pytest.mark.load  # the whole bench harness end to end: ~40 s on 2 cores
def test_quick_bench_runs_every_local_section_and_writes_report_and_json(
    meetings: Path, tmp_path: Path
) -> None:
    out = tmp_path / "BENCHMARKS.md"
    done = run_module("bench.run", "--quick", "--only", "1,2,3,5", "--data", str(meetings), "--out", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    report = out.read_text()
    for heading in ("## 1. Dispatcher", "## 2. Worker overhead", "## 3. Throughput", "## 5. Extractive"):
        assert heading in report
    assert "Quick smoke run" in report
    raw = json.loads(out.with_suffix(".json").read_text())
    assert set(raw) == {"1", "2", "3", "5"}
    assert all(run["jobs"] == 2 for run in raw["3"]["runs"])
