"""RunPod entrypoint: build settings and the engine once, fail fast, then serve jobs.

`python handler.py` runs `test_input.json` once and exits (the runpod SDK's local convention);
in a RunPod container (RUNPOD_WEBHOOK_GET_JOB set) the SDK's production loop takes jobs, up to
WORKER_CONCURRENCY at once. The engine is up and healthy, and what reading a meeting loads on first
use is loaded (`worker.meeting.warm`), before the first job is taken; if a supervised model server
dies later, the worker exits non-zero so RunPod replaces it.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import signal
import sys
import threading
import time
from typing import Any

# The SDK logs whole job inputs (presigned URLs are bearer secrets) at DEBUG: default to INFO.
os.environ.setdefault("RUNPOD_LOG_LEVEL", "INFO")

import runpod

from worker import logs
from worker.engines import Engine, build_engine
from worker.errors import ConfigError, EngineUnavailableError
from worker.meeting import warm
from worker.runner import JobRunner
from worker.settings import WorkerSettings
from worker.transfer import Transfers

log = logging.getLogger("handler")

EXIT_CONFIG = 2
EXIT_ENGINE = 3
PROGRESS_INTERVAL_S = 1.0
# When the model server is gone the worker stops the SDK's loop the SDK's own way (SIGTERM): no more
# jobs are taken, jobs already taken fail fast, write their metadata and are reported failed, and
# main() exits EXIT_ENGINE so RunPod replaces the worker. If the loop has not stopped by this
# deadline, the worker exits anyway.
SHUTDOWN_BACKSTOP_S = 45.0
_engine_lost = threading.Event()


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
    _stop_worker(None)


def _stop_worker(engine: Engine | None) -> None:
    if _engine_lost.is_set():
        return
    _engine_lost.set()
    os.kill(os.getpid(), signal.SIGTERM)
    threading.Thread(target=_backstop, args=(engine,), name="engine-lost-backstop", daemon=True).start()


def _backstop(engine: Engine | None) -> None:
    time.sleep(SHUTDOWN_BACKSTOP_S)
    log.error("the worker loop did not stop within %.0fs of losing the engine; exiting", SHUTDOWN_BACKSTOP_S)
    if engine is not None:
        engine.shutdown()  # a hung but living server must not outlive us (os._exit skips atexit)
    os._exit(EXIT_ENGINE)


async def _close_at_loop_end(transfers: Transfers, engine: Engine) -> None:
    """Close the HTTP sessions in the event loop that opened them. The SDK runs its loop with
    `asyncio.run`, which cancels the tasks still pending when the loop ends: this one waits for that
    and closes the sessions on its way out (else aiohttp logs "Unclosed client session" at exit).
    The SDK has no shutdown hook of its own."""
    try:
        await asyncio.Event().wait()
    finally:
        try:
            await transfers.aclose()
        finally:
            await engine.aclose()


def _exit_on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM before the SDK's loop has its own handler (during start-up, or in the moment after
    "worker ready"): leave through SystemExit, so the `finally` below stops the model server's
    whole process group instead of the default action killing only this process."""
    raise SystemExit(128 + signum)


def main() -> None:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    logs.configure("worker")
    try:
        settings = WorkerSettings.from_env(os.environ)
        logs.configure("worker", settings.log_level)
        # Returns once a local model server (engine `vllm`) answers /health, never before.
        engine = build_engine(settings.engine_settings, on_server_exit=_server_died)
    except ConfigError as exc:
        log.error("worker cannot start: %s", exc)
        sys.exit(EXIT_CONFIG)
    except EngineUnavailableError as exc:
        log.error("engine failed to start: %s", exc)
        sys.exit(EXIT_ENGINE)
    atexit.register(engine.shutdown)  # sys.exit paths; SIGTERM returns from start() below
    try:
        warm()  # the language model and parsers load now, not in the first job
        _serve(settings, engine)
    finally:
        engine.shutdown()
    if _engine_lost.is_set():
        sys.exit(EXIT_ENGINE)


def _serve(settings: WorkerSettings, engine: Engine) -> None:
    """The runpod SDK's loop with our handler, until it stops (SIGTERM, or the engine is lost)."""
    transfers = Transfers.from_settings(settings)
    runner = JobRunner(settings, engine, transfers)
    online = "RUNPOD_WEBHOOK_GET_JOB" in os.environ
    closer: list[asyncio.Task[None]] = []

    async def handler(job: dict[str, Any]) -> dict[str, Any]:
        if not closer:
            closer.append(asyncio.create_task(_close_at_loop_end(transfers, engine), name="close-sessions"))
        try:
            return await runner.run(job["id"], job.get("input"), Progress(job, online))
        except EngineUnavailableError as exc:
            # The metadata already says so: report the job failed and stop this worker (an external
            # server has no supervisor to notice; a local one may be hung rather than dead).
            log.error("engine unavailable, the worker stops: %s", exc)
            _stop_worker(engine)
            return {"error": str(exc)}

    log.info(
        "worker ready: engine=%s model=%s max_model_len=%d concurrency=%d",
        engine.name,
        engine.model,
        engine.max_model_len,
        settings.concurrency,
    )
    runpod.serverless.start(
        {"handler": handler, "concurrency_modifier": lambda current: settings.concurrency}
    )


if __name__ == "__main__":
    main()
