"""`make bench` keeps what it measured: the report is rewritten after every section, a stopped run
keeps its finished sections, and a later partial run keeps the sections it did not reach.

Regression: a `make bench` killed in section 6 after 15 minutes wrote nothing of sections 1 and 2."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bench.run import Report
from tests.procs import until

ROOT = Path(__file__).resolve().parent.parent


def test_a_run_stopped_in_a_section_keeps_the_sections_it_finished(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    log = tmp_path / "stderr.log"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.run", "--quick", "--only", "2,3", "--out", str(out)],
            cwd=ROOT,
            stderr=err,
            stdout=subprocess.DEVNULL,
        )
    try:
        until(lambda: "bench 3:" in log.read_text(), 120, "section 3 starting")
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=60) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    report = out.read_text()
    assert "## 2. Worker overhead" in report
    assert "**This run was stopped in section 3" in report
    raw = json.loads(out.with_suffix(".json").read_text())
    assert set(raw) == {"2"}


@pytest.mark.parametrize("earlier", [["1", "6"], ["5"]])
def test_a_partial_run_keeps_the_sections_an_earlier_run_measured(tmp_path: Path, earlier: list[str]) -> None:
    out = tmp_path / "BENCHMARKS.md"
    first = Report(out, quick=False, command="make bench")
    for number in earlier:
        first.measured(number, [f"## {number}. Earlier section", "", "figure A"], {"x": 1}, 2.0)
    second = Report(out, quick=False, command="python -m bench.run --only 2")
    second.measured("2", ["## 2. New section", "", "figure B"], {"y": 2}, 3.0)
    report = out.read_text()
    for number in earlier:
        assert f"## {number}. Earlier section" in report
    assert "## 2. New section" in report and "figure B" in report
    # Sections in their order, whichever run measured them.
    headings = [line.split(".")[0] for line in report.splitlines() if line.startswith("## ")]
    assert headings == sorted(headings, key=lambda h: int(h[3:]))
    assert set(json.loads(out.with_suffix(".json").read_text())) == {*earlier, "2"}


def test_a_json_from_an_older_report_format_is_not_taken_as_sections(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    out.with_suffix(".json").write_text(json.dumps({"1": {"median_ms": 3}}))
    Report(out, quick=False, command="make bench").measured("2", ["## 2. Only"], {}, 1.0)
    assert set(json.loads(out.with_suffix(".json").read_text())) == {"2"}
