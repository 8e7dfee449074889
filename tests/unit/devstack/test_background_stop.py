"""`make down` (devstack/background.py `down`): every process the local cloud started is gone when
it returns — the process a pid names, what it left in its process group (the runpod SDK's
heartbeat), and one that ignores SIGTERM — and a pid that now runs something else is left alone."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack import background

# A process whose command line carries the worker's mark ("handler.py"), the leader of its own
# process group, with a child in that group; `leader_ignores`/`child_ignores` say which of the two
# ignores SIGTERM. It prints the child's pid once both run.
_GROUP = textwrap.dedent(
    """
    import signal, subprocess, sys, time
    child_ignores, leader_ignores = sys.argv[1] == "1", sys.argv[2] == "1"
    code = "import signal, time\\n"
    if child_ignores:
        code += "signal.signal(signal.SIGTERM, signal.SIG_IGN)\\n"
    code += "print('ready', flush=True)\\ntime.sleep(600)\\n"
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    child.stdout.readline()
    if leader_ignores:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print(child.pid, flush=True)
    time.sleep(600)
    """
)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[subprocess.Popen[str]]]:
    """Processes this test starts; each one's process group is killed when the test ends, pass or
    fail (by the pid of its leader, which this test started)."""
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


def _group(
    started: list[subprocess.Popen[str]], tmp_path: Path, child_ignores: bool, leader_ignores: bool
) -> tuple[int, int]:
    script = tmp_path / "handler.py"  # the worker's mark, as `down` checks it
    script.write_text(_GROUP)
    process = subprocess.Popen(
        [sys.executable, str(script), str(int(child_ignores)), str(int(leader_ignores))],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    started.append(process)
    assert process.stdout is not None
    return process.pid, int(process.stdout.readline())


def _down(tmp_path: Path, worker_pid: int) -> None:
    (tmp_path / "state.json").write_text(
        json.dumps({"pid": None, "worker_pid": worker_pid, "moto_pid": None})
    )
    assert background.down(tmp_path, quiet=True) == 0
    assert not (tmp_path / "state.json").exists()


@pytest.mark.parametrize(
    ("child_ignores", "leader_ignores"),
    [(True, False), (False, True), (True, True)],
    ids=["leader exits, its child stays", "leader ignores SIGTERM", "both ignore SIGTERM"],
)
def test_down_leaves_nothing_of_a_process_group_it_started(
    tmp_path: Path,
    started: list[subprocess.Popen[str]],
    monkeypatch: pytest.MonkeyPatch,
    child_ignores: bool,
    leader_ignores: bool,
) -> None:
    monkeypatch.setattr(background, "STOP_TIMEOUT_S", 1.0)
    leader, child = _group(started, tmp_path, child_ignores, leader_ignores)
    _down(tmp_path, leader)
    # No waiting here: `down` has returned, so whatever it stopped is already gone.
    assert not _alive(leader) or started[0].poll() is not None
    assert not _alive(child)


def test_down_sends_nothing_to_a_pid_that_runs_something_else(
    tmp_path: Path, started: list[subprocess.Popen[str]]
) -> None:
    other = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(600)"], text=True, start_new_session=True
    )
    started.append(other)
    _down(tmp_path, other.pid)  # recorded as the worker's pid, but it is not running handler.py
    time.sleep(0.2)
    assert other.poll() is None


def test_up_finds_the_servers_pid_however_late_the_server_starts(tmp_path: Path) -> None:
    """`serve --detach` returns only once `serve.pid` names the server it forked, so `up` can read
    it at once, even when the forked server has not run yet (a busy machine)."""
    site = tmp_path / "site"
    site.mkdir()
    # The forked server is slow to start and then gives up: it never writes anything itself.
    (site / "sitecustomize.py").write_text(
        "import os, time\n_setsid = os.setsid\nos.setsid = lambda: (time.sleep(1), os._exit(0))\n"
    )
    env = {**os.environ, "PYTHONPATH": f"{site}{os.pathsep}{background.ROOT}"}
    command = [sys.executable, "-m", "devstack.background", "serve", "--detach", "--dir", str(tmp_path)]
    subprocess.run(command, cwd=background.ROOT, env=env, check=True, timeout=60)
    pid = int((tmp_path / "serve.pid").read_text())
    assert pid > 0 and not (tmp_path / "serve.pid.tmp").exists()
