"""`make up` / `make down`: the local cloud kept running in the background.

    python -m devstack.background up      start it (or find it running) and print its environment
    python -m devstack.background env     print the environment of the running one
    python -m devstack.background down    stop every process it started; safe to run twice
    python -m devstack.background serve   the background process itself (what `up` starts)

`up` starts `serve --detach`, which forks itself into a session of its own (no terminal, nobody's
child), and waits until it has written `.local-cloud/state.json` (pids, ports, endpoints). `serve`
runs `devstack.cloud.LocalCloud` as `template.yaml` deploys the stack (uploads under `incoming/`
ending in an input suffix are summarised; the ledger is reconciled every `RECONCILE_EVERY_S`,
default 30 s, as the template's ReconcileSchedule does), restarts the worker if it exits, and on
SIGTERM stops the worker and moto in order and removes the state file. `down` sends that SIGTERM,
waits, then SIGKILLs by recorded pid and process group whatever is left (each checked against its
command line first, so a reused pid is never hit) and returns once none of it is left.

The printed environment (also in `.local-cloud/env`, for `source`) is what the client command and
the AWS CLI read, as on AWS, plus the endpoint URLs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from devstack.cloud import FAKE_CREDENTIALS, LEDGER_TABLE, REGION, ROOT, CloudConfig
from dispatcher.settings import Settings

STATE_DIR = ROOT / ".local-cloud"
INPUT_PREFIX = "incoming/"  # template.yaml's InputPrefix default, the client's default too
RECONCILE_EVERY_S = "RECONCILE_EVERY_S"
DEFAULT_RECONCILE_EVERY_S = 30.0
START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 20.0
# What each recorded pid must be running, checked before any signal is sent to it.
_MARKS = {"pid": "devstack.background", "moto_pid": "devstack.moto_server", "worker_pid": "handler.py"}


def cloud_config(
    log_dir: Path, worker_env: Mapping[str, str] | None = None, env: Mapping[str, str] = os.environ
) -> CloudConfig:
    """The local cloud `make demo` and `make up` run: the deployed stack's shape (input prefix,
    ledger, the reconciler on a schedule: `RECONCILE_EVERY_S` seconds). The one place to choose
    what they run, e.g. the worker's engine (`worker_env`)."""
    every = float(env.get(RECONCILE_EVERY_S, "").strip() or DEFAULT_RECONCILE_EVERY_S)
    return CloudConfig(
        input_prefix=INPUT_PREFIX,
        log_dir=log_dir,
        worker_env=dict(worker_env or {}),
        reconcile_every_s=every,
    )


def read_state(directory: Path = STATE_DIR) -> dict[str, Any] | None:
    try:
        state: dict[str, Any] = json.loads((directory / "state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return state


def running(directory: Path = STATE_DIR) -> dict[str, Any] | None:
    """The state of a local cloud `make up` started, if it is still running."""
    state = read_state(directory)
    if state is not None and _is(state.get("pid"), _MARKS["pid"]):
        return state
    return None


def environment(state: dict[str, Any]) -> dict[str, str]:
    """The variables the client command and the AWS CLI need to use this local cloud."""
    return {
        "AWS_ENDPOINT_URL_S3": state["s3_endpoint"],  # boto3 and the AWS CLI read it
        "S3_ENDPOINT_URL": state["s3_endpoint"],  # the client command's and dispatcher's name
        **FAKE_CREDENTIALS,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "TRANSCRIPTS_BUCKET": state["bucket"],
        "RUNPOD_ENDPOINT_URL": state["runpod_endpoint_url"],
        "RUNPOD_API_KEY": state["runpod_api_key"],
        # The stack's LedgerTable output: `python -m client uploads` and `backfill` read it.
        "LEDGER_TABLE": LEDGER_TABLE,
    }


def exports(state: dict[str, Any]) -> str:
    return "\n".join(f"export {name}={shlex.quote(value)}" for name, value in environment(state).items())


def describe(state: dict[str, Any]) -> str:
    bucket = state["bucket"]
    return "\n".join(
        [
            f"S3 (moto):       {state['s3_endpoint']}  bucket {bucket}, trigger on "
            f"{state['input_prefix']}*{{{','.join(Settings.input_suffixes)}}}",
            f"RunPod emulator: {state['runpod_endpoint_url']}",
            f"worker:          pid {state['worker_pid']}, logs in {state['log_dir']}",
            "",
            "The environment (also in .local-cloud/env: `source .local-cloud/env`):",
            exports(state),
            "",
            "Then, as on AWS:",
            "  .venv/bin/python -m client submit samples/product_planning_meeting.txt --wait",
            "  .venv/bin/python -m client uploads          # every upload: pending, ok, error",
            f"  aws s3 cp --endpoint-url {state['s3_endpoint']} meeting.txt s3://{bucket}/{state['input_prefix']}",
            "make down stops it.",
        ]
    )


# ---- up / down ---------------------------------------------------------------------------------
def up(directory: Path = STATE_DIR) -> int:
    state = running(directory)
    if state is not None:
        print(f"the local cloud is already running (pid {state['pid']})")
        print(describe(state))
        return 0
    down(directory, quiet=True)  # a stale state file: clean what it names first
    logs = directory / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    print("starting the local cloud in the background (moto S3+SQS, dispatcher, RunPod emulator, worker)…")
    with (logs / "cloud.log").open("ab") as log_file:
        # `serve --detach` forks the server into a session of its own and exits: the server is
        # nobody's child, so it outlives this command and leaves no zombie behind.
        subprocess.run(  # noqa: S603
            [sys.executable, "-m", "devstack.background", "serve", "--detach", "--dir", str(directory)],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=30,
        )
    pid = int((directory / "serve.pid").read_text())
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        state = read_state(directory)
        if state is not None and state.get("pid") == pid:
            print(describe(state))
            return 0
        if not _is(pid, _MARKS["pid"]):
            break
        time.sleep(0.2)
    tail = (logs / "cloud.log").read_text(encoding="utf-8", errors="replace").splitlines()[-20:]
    print("the local cloud did not start:\n" + "\n".join(tail), file=sys.stderr)
    _stop(pid, "pid")
    down(directory, quiet=True)
    return 1


def down(directory: Path = STATE_DIR, quiet: bool = False) -> int:
    state = read_state(directory)
    if state is None:
        if not quiet:
            print("no local cloud is running")
        return 0
    stopped = _stop(state.get("pid"), "pid")
    for name in ("worker_pid", "moto_pid"):  # left over only if the server could not stop them
        _stop(state.get(name), name)
    for name in ("state.json", "env", "serve.pid"):
        with contextlib.suppress(FileNotFoundError):
            (directory / name).unlink()
    if not quiet:
        print("the local cloud is stopped" if stopped else "the local cloud was not running (state removed)")
    return 0


def _stop(pid: object, name: str) -> bool:
    """SIGTERM `pid` if it still runs what `name` says and wait for it; then SIGKILL its process
    group (each was started as its own session leader, so the group is what it started: the
    runpod SDK's heartbeat outlives a worker that exits) and wait until none of it is left."""
    if not _is(pid, _MARKS[name]):
        return False
    assert isinstance(pid, int)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline and _is(pid, _MARKS[name]):
        time.sleep(0.1)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
        while time.monotonic() < deadline and _group_alive(pid):
            time.sleep(0.05)
    return True


def _group_alive(group: int) -> bool:
    """Whether any live process (not a zombie) is in process group `group`."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == group:
            return True
    return False


def _is(pid: object, mark: str) -> bool:
    """Whether `pid` is alive (not a zombie) and runs a command line containing `mark`."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return mark in cmdline and status != "Z"


# ---- the background process --------------------------------------------------------------------
def serve(directory: Path, detach: bool = False) -> int:
    import logging

    if detach:
        child = os.fork()
        if child > 0:  # the launcher names the server before it returns: `up` reads the name next
            _write_pid(directory, child)
            os._exit(0)  # the launcher returns; the server goes on as nobody's child
        os.setsid()
    else:
        _write_pid(directory, os.getpid())

    from devstack.cloud import LocalCloud

    # To .local-cloud/logs/cloud.log: the dispatcher's lines (`dispatched`, with each job id).
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    with LocalCloud(cloud_config(directory / "logs")) as cloud:
        try:
            _write_state(directory, cloud)
            print(f"local cloud up: S3 {cloud.s3_endpoint}, RunPod {cloud.emulator.endpoint_url}", flush=True)
            while not stop.wait(1.0):
                if cloud.worker is not None and cloud.worker.poll() is not None:
                    print(f"the worker exited with {cloud.worker.returncode}; starting another", flush=True)
                    stop.wait(2.0)
                    cloud.start_worker()
                    _write_state(directory, cloud)
        finally:
            for name in ("state.json", "env", "serve.pid"):
                with contextlib.suppress(FileNotFoundError):
                    (directory / name).unlink()
    print("local cloud stopped", flush=True)
    return 0


def _write_pid(directory: Path, pid: int) -> None:
    partial = directory / "serve.pid.tmp"
    partial.write_text(f"{pid}\n", encoding="utf-8")
    partial.replace(directory / "serve.pid")  # readers never see half a file


def _write_state(directory: Path, cloud: Any) -> None:
    state = {
        "pid": os.getpid(),
        "worker_pid": cloud.worker.pid if cloud.worker is not None else None,
        "moto_pid": cloud.moto_pid,
        "s3_endpoint": cloud.s3_endpoint,
        "runpod_endpoint_url": cloud.emulator.endpoint_url,
        "runpod_api_key": cloud.emulator.api_key,
        "bucket": cloud.config.bucket,
        "input_prefix": cloud.config.input_prefix,
        "output_prefix": cloud.config.output_prefix,
        "log_dir": str(cloud.log_dir),
    }
    (directory / "env").write_text(exports(state) + "\n", encoding="utf-8")
    partial = directory / "state.json.tmp"
    partial.write_text(json.dumps(state, indent=1) + "\n", encoding="utf-8")
    partial.replace(directory / "state.json")  # readers never see half a file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.background", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("command", choices=["up", "down", "env", "serve"])
    parser.add_argument("--dir", type=Path, default=STATE_DIR, help="where the state and logs live")
    parser.add_argument("--detach", action="store_true", help="serve: fork into the background first")
    args = parser.parse_args(argv)
    if args.command == "up":
        return up(args.dir)
    if args.command == "down":
        return down(args.dir)
    if args.command == "serve":
        return serve(args.dir, args.detach)
    state = running(args.dir)
    if state is None:
        print("no local cloud is running: `make up` starts one", file=sys.stderr)
        return 1
    print(exports(state))
    return 0


if __name__ == "__main__":
    sys.exit(main())
