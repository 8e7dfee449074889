"""RunPod entrypoint: build settings and the engine once, fail fast, then serve jobs.

`python handler.py` runs `test_input.json` once and exits (the runpod SDK's local convention);
in a RunPod container (RUNPOD_WEBHOOK_GET_JOB set) the SDK's production loop takes jobs, up to
WORKER_CONCURRENCY at once. The engine is up and healthy before the first job is taken; if a
supervised model server dies later, the worker exits non-zero so RunPod replaces it.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import time
from typing import Any

# The SDK logs whole job inputs (presigned URLs are bearer secrets) at DEBUG: default to INFO.
os.environ.setdefault("RUNPOD_LOG_LEVEL", "INFO")

import runpod

from worker import logs
from worker.engines import build_engine, shutdown_engine
from worker.errors import ConfigError, EngineUnavailableError
from worker.runner import JobRunner
from worker.settings import WorkerSettings
from worker.transfer import Transfers, UrlPolicy

log = logging.getLogger("handler")

EXIT_CONFIG = 2
EXIT_ENGINE = 3
PROGRESS_INTERVAL_S = 1.0
# After the model server dies, jobs in flight fail on their own within seconds (connection refused)
# and write their metadata: the worker waits for them this long before it exits.
SERVER_DEATH_GRACE_S = 30.0
_active_jobs = 0  # jobs running in this process; read by the supervisor's watcher thread


class Progress:
    """Forwards progress to RunPod's /status, at most once a second (and always the last step)."""

    def __init__(self, job: dict[str, Any], online: bool) -> None:
        self._job = job
        self._online = online
        self._last = 0.0

    def __call__(self, update: dict[str, Any]) -> None:
        now = time.monotonic()
        final = update.get("done") == update.get("total")
        if now - self._last < PROGRESS_INTERVAL_S and not final:
            return
        self._last = now
        log.info("job %s progress %s", self._job["id"], update)
        if self._online:
            runpod.serverless.progress_update(self._job, update)


def _server_died(returncode: int) -> None:
    """Called by the vLLM supervisor's watcher thread: a worker without its model server must go."""
    log.error("the vLLM server exited with code %d; the worker exits so RunPod replaces it", returncode)
    deadline = time.monotonic() + SERVER_DEATH_GRACE_S
    while _active_jobs and time.monotonic() < deadline:
        time.sleep(0.1)
    os._exit(EXIT_ENGINE)


def main() -> None:
    logs.configure("worker", os.environ.get("WORKER_LOG_LEVEL", "INFO"))
    try:
        settings = WorkerSettings.from_env(os.environ)
        # Returns once a local model server (engine `vllm`) answers /health, never before.
        engine = build_engine(settings, on_server_exit=_server_died)
    except ConfigError as exc:
        log.error("worker cannot start: %s", exc)
        sys.exit(EXIT_CONFIG)
    except EngineUnavailableError as exc:
        log.error("engine failed to start: %s", exc)
        sys.exit(EXIT_ENGINE)
    atexit.register(shutdown_engine, engine)  # sys.exit paths; SIGTERM returns from start() below
    transfers = Transfers(
        UrlPolicy(settings.allowed_hosts, settings.allow_http, settings.allow_loopback_urls),
        timeout_s=settings.http_timeout_s,
        attempts=settings.transfer_attempts,
    )
    runner = JobRunner(settings, engine, transfers)
    online = "RUNPOD_WEBHOOK_GET_JOB" in os.environ

    async def handler(job: dict[str, Any]) -> dict[str, Any]:
        global _active_jobs
        _active_jobs += 1
        try:
            return await runner.run(job["id"], job.get("input"), Progress(job, online))
        except EngineUnavailableError as exc:
            # The job's metadata already says so; this worker can do nothing more.
            log.error("engine unavailable, exiting: %s", exc)
            shutdown_engine(engine)
            os._exit(EXIT_ENGINE)
        finally:
            _active_jobs -= 1

    log.info(
        "worker ready: engine=%s model=%s max_model_len=%d concurrency=%d",
        engine.name,
        engine.model,
        engine.max_model_len,
        settings.concurrency,
    )
    try:
        runpod.serverless.start(
            {"handler": handler, "concurrency_modifier": lambda current: settings.concurrency}
        )
    finally:
        shutdown_engine(engine)


if __name__ == "__main__":
    main()
