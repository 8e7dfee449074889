"""`make up` / `make down` (devstack/background.py): a local cloud that outlives the command that
started it, used by the client command exactly as on AWS, and stopped completely, twice safely."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from client.cli import main as client_main
from devstack import background
from devstack.cloud import ROOT

# Drives real worker processes or the whole local cloud: `make test-fast` leaves this tier out.
pytestmark = pytest.mark.e2e

MEETING = """Alice: The scanners arrive on the third of May.
Bob: Then the inventory software must be updated by the end of April.
Alice: Bob, please send the staffing plan by Friday.
"""


def identity(pid: int) -> tuple[int, str] | None:
    """A live process (not a zombie) as (pid, start time): a pid reused by another test's process
    after ours ended has another start time."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else (pid, fields[19])


def test_up_serves_the_client_command_and_down_stops_every_process_it_started(tmp_path: Path) -> None:
    state_dir = tmp_path / "local cloud"  # a path with a space
    try:
        assert background.up(state_dir) == 0
        state = background.running(state_dir)
        assert state is not None
        started = [identity(state[name]) for name in ("pid", "worker_pid", "moto_pid")]
        assert None not in started
        env = background.environment(state)
        assert (state_dir / "env").read_text().count("export ") == len(env)

        meeting = tmp_path / "weekly sync.txt"
        meeting.write_text(MEETING)
        out, err = io.StringIO(), io.StringIO()
        argv = ["submit", str(meeting), "--wait", "--interval", "0.5", "--timeout", "90"]
        assert client_main(argv, env=env, out=out, err=err) == 0, err.getvalue()
        assert "staffing plan" in out.getvalue()
        assert "summaries/incoming/weekly sync_summary.txt" in err.getvalue()

        # A second `up` finds it running; `env` prints the same environment.
        assert background.up(state_dir) == 0 and background.read_state(state_dir) == state
        printed = subprocess.run(
            [sys.executable, "-m", "devstack.background", "env", "--dir", str(state_dir)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
        assert f"export RUNPOD_ENDPOINT_URL={env['RUNPOD_ENDPOINT_URL']}" in printed
    finally:
        assert background.down(state_dir) == 0
    assert not [process for process in started if process and identity(process[0]) == process]
    assert not (state_dir / "state.json").exists()
    assert background.down(state_dir) == 0  # twice is fine
    # The worker's log of the run has no ERROR line either.
    log = (state_dir / "logs" / "worker.log").read_text()
    assert not [line for line in log.splitlines() if '"level": "ERROR"' in line], log
    assert json.loads(log.splitlines()[0])  # our JSON log lines
    assert os.path.exists(state_dir / "logs" / "cloud.log")
