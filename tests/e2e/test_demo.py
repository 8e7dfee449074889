"""`make demo` (devstack/demo.py): results that outlive the local cloud, the metadata's main facts,
paths with spaces, and SIGTERM stopping every child."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devstack import demo
from devstack.cloud import ROOT

# Drives real worker processes or the whole local cloud: `make test-fast` leaves this tier out.
pytestmark = pytest.mark.e2e

MEETING = """Alice: The scanners arrive on the third of May.
Bob: Then the inventory software must be updated by the end of April.
Alice: Bob, please send the staffing plan by Friday.
"""


def test_demo_keeps_summary_metadata_and_logs_in_its_folder_and_shows_the_facts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    meeting = tmp_path / "my meeting.txt"
    meeting.write_text(MEETING)
    out = tmp_path / "results folder"
    # --no-reuse: never a developer's `make up` cloud
    assert demo.main([str(meeting), "--out", str(out), "--timeout", "90", "--no-reuse"]) == 0
    printed = capsys.readouterr().out
    assert "s3://transcripts/incoming/my meeting.txt" in printed  # the template's input prefix
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["status"] == "ok"
    assert "staffing plan" in (out / "summary.txt").read_text()
    assert (out / "logs" / "worker.log").exists()
    for fact in ("status:   ok", "engine:   extractive", "tokens:   ", "chunks 1", "timings:  download"):
        assert fact in printed


def test_structured_summary_is_written_when_the_metadata_has_one(tmp_path: Path) -> None:
    meta = {"status": "ok", "structure": {"action_items": [{"owner": "Bob", "text": "staffing plan"}]}}
    assert demo.write_results(tmp_path, meta, b"summary") == [
        "summary.txt",
        "metadata.json",
        "structure.json",
    ]
    assert json.loads((tmp_path / "structure.json").read_text()) == meta["structure"]
    failed = {"status": "error", "error": {"code": "download_failed", "message": "HTTP 403"}}
    assert demo.write_results(tmp_path / ".." / tmp_path.name, failed, None) == ["metadata.json"]
    assert "error:    download_failed: HTTP 403" in demo.facts(failed, 1.0)


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_sigterm_stops_the_demo_and_every_child(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devstack.demo",
            "--out",
            str(tmp_path / "out"),
            "--timeout",
            "90",
            "--no-reuse",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    try:
        line = process.stdout.readline()
        while line and "uploading" not in line:
            line = process.stdout.readline()
        deadline = time.monotonic() + 30
        children = _children(process.pid)
        while len(children) < 2 and time.monotonic() < deadline:  # moto and the worker
            time.sleep(0.1)
            children = _children(process.pid)
        process.send_signal(signal.SIGTERM)
        rest = process.communicate(timeout=60)[0]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 143, rest
    assert "Traceback" not in rest
    assert len(children) >= 2 and not any(_alive(child) for child in children)
