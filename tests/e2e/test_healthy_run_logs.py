"""A healthy end-to-end run logs no ERROR line: the worker closes its HTTP sessions in the event loop
that opened them, and the local cloud gives the SDK a ping URL (outside RunPod it logged "Ping URL
not set, cannot start ping." at ERROR)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devstack.cloud import CloudConfig, LocalCloud

# Drives real worker processes or the whole local cloud: `make test-fast` leaves this tier out.
pytestmark = pytest.mark.e2e

MEETING = b"""Alice: The scanners arrive on the third of May.
Bob: Then the inventory software must be updated by the end of April.
Alice: Bob, please send the staffing plan by Friday.
"""


def error_lines(log: Path) -> list[str]:
    """Lines at ERROR (ours are JSON, the SDK's are JSON or `ERROR  | …`) and aiohttp's leak reports."""
    found = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            level = json.loads(line).get("level", "")
        except (ValueError, AttributeError):
            level = line.split("|", 1)[0].strip()
        if level in ("ERROR", "CRITICAL") or "Unclosed" in line or "Traceback" in line:
            found.append(line)
    return found


def test_a_healthy_run_logs_no_error_line_from_start_to_shutdown(tmp_path: Path) -> None:
    with LocalCloud(CloudConfig(log_dir=tmp_path)) as cloud:
        cloud.upload("healthy.txt", MEETING)
        assert cloud.wait_for_metadata("healthy.txt", timeout_s=90)["status"] == "ok"
        cloud.stop_worker()  # SIGTERM, as RunPod stops a worker: shutdown's lines are in the log too
        assert cloud.emulator.pings >= 1  # the SDK's heartbeat reached the emulator
    log = tmp_path / "worker.log"
    assert "Finished." in log.read_text()
    assert error_lines(log) == []
