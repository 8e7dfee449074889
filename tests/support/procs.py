"""Helpers for tests that run real processes: a RunPod worker (`python handler.py` running the
SDK's production loop against the emulator), polling for a condition with a deadline, and the
load factor that scales those deadlines on a busy machine (a wait tuned on an idle machine fails
at load average 8 on 2 cores)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from devstack.cloud import terminate
from devstack.runpod_emulator import RunPodEmulator
from tests.support.paths import ROOT

T = TypeVar("T")


@contextlib.contextmanager
def worker_process(emulator: RunPodEmulator, log: Path, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    """`python handler.py` as RunPod runs it; stopped (by its pid) when the block ends."""
    full = {k: v for k, v in os.environ.items() if not k.startswith(("RUNPOD_", "WORKER_"))}
    full |= emulator.worker_env() | {"WORKER_ALLOW_LOOPBACK_URLS": "true", "PYTHONUNBUFFERED": "1"} | env
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "handler.py")],
            cwd=ROOT,
            env=full,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            terminate(process)


def load_factor() -> float:
    """How much slower than idle this machine is now (1 to 10): the 1-minute load per CPU."""
    try:
        load = os.getloadavg()[0]
    except OSError:
        return 1.0
    return max(1.0, min(load / (os.cpu_count() or 1), 10.0))


def scaled(timeout_s: float) -> float:
    """A wait tuned on an idle machine, stretched by the current load."""
    return timeout_s * load_factor()


def until(check: Callable[[], T], timeout_s: float, what: str) -> T:
    """Poll `check` until it returns something truthy (the wait scales with load); raise
    TimeoutError naming `what`."""
    timeout_s = scaled(timeout_s)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not happen within {timeout_s:.0f}s")


def child_pids(pid: int) -> list[int]:
    """Direct children of a process (Linux /proc), to find the server a worker started."""
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return children


def find_vllm_server(worker_pid: int) -> int | None:
    """The pid of the vLLM server a worker process started, if it runs."""
    for child in child_pids(worker_pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"vllm.entrypoints.openai.api_server" in cmdline or b"serve" in cmdline[1:2]:
            return child
    return None


def fake_vllm_site(root: Path, api_server: str, **extra_modules: str) -> Path:
    """A folder for PYTHONPATH that makes `python -m vllm.entrypoints.openai.api_server` run the
    stand-in `api_server` source, so the worker's real supervisor starts, watches and stops it.
    `extra_modules` are written beside it (e.g. a `sitecustomize`)."""
    site = root / "site"
    package = site / "vllm" / "entrypoints" / "openai"
    package.mkdir(parents=True)
    for folder in (package, package.parent, package.parent.parent):
        (folder / "__init__.py").write_text("")
    (package / "api_server.py").write_text(api_server)
    for name, source in extra_modules.items():
        (site / f"{name}.py").write_text(source)
    return site
