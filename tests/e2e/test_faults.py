"""Faults injected through the local stand-ins: each is retried with bounded backoff or reported.

S3 faults go through `devstack.faults.S3FaultProxy` in front of moto (the URLs are presigned
against the proxy); RunPod faults through the emulator's `faults`; process faults (a killed worker,
a cancelled job) against a real worker process running the runpod SDK's loop. Every test ends
with the transcript accounted for: a summary, or a metadata file / job status naming the fault.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack.cloud import FAKE_CREDENTIALS, REGION, dispatcher_env, free_port, wait_http
from devstack.faults import Fault, S3FaultProxy
from devstack.runpod_emulator import RunPodEmulator
from dispatcher.app import Dispatcher
from dispatcher.errors import DispatchError
from dispatcher.presign import Presigner, make_s3_client
from dispatcher.runpod_api import RunPodClient
from dispatcher.settings import Settings
from tests.support.paths import ROOT, load_event
from tests.support.procs import until, worker_process
from worker.engines import ExtractiveEngine
from worker.job import METADATA_CONTENT_TYPE, SUMMARY_CONTENT_TYPE
from worker.runner import JobRunner
from worker.settings import WorkerSettings
from worker.transfer import Transfers, UrlPolicy

# Drives real worker processes or the whole local cloud: `make test-fast` leaves this tier out.
pytestmark = pytest.mark.e2e

MEETING = (
    "Alice: We agreed to ship the billing export on Friday after the security review.\n"
    "Bob: I will fix the timezone bug in the invoice dates before then.\n"
    "Carol: Support needs the new help article by Thursday, I will write it.\n"
) * 5
TIMEOUT_S = 0.5  # the worker's per-read timeout in these tests; hangs last longer


@pytest.fixture
def proxy(moto_endpoint: str) -> Iterator[S3FaultProxy]:
    with S3FaultProxy(moto_endpoint) as running:
        yield running


@pytest.fixture
def via_proxy(proxy: S3FaultProxy) -> Presigner:
    return Presigner(make_s3_client(REGION, proxy.endpoint, FAKE_CREDENTIALS), expires_s=3600)


def _job(s3: Any, bucket: str, presigner: Presigner, body: bytes = MEETING.encode()) -> dict[str, Any]:
    s3.put_object(Bucket=bucket, Key="m.txt", Body=body)
    return {
        "transcript_url": presigner.get(bucket, "m.txt"),
        "summary_put_url": presigner.put(bucket, "summaries/m_summary.txt", SUMMARY_CONTENT_TYPE),
        "metadata_put_url": presigner.put(bucket, "summaries/m_summary.json", METADATA_CONTENT_TYPE),
        "source": {"bucket": bucket, "key": "m.txt"},
    }


def _run(raw: dict[str, Any], attempts: int = 3) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        transfers = Transfers(
            UrlPolicy(allow_loopback=True), timeout_s=TIMEOUT_S, attempts=attempts, backoff_s=0.05
        )
        try:
            return await JobRunner(WorkerSettings(), ExtractiveEngine(), transfers).run("job-f", raw)
        finally:
            await transfers.aclose()

    return asyncio.run(go())


def _metadata(s3: Any, bucket: str) -> dict[str, Any]:
    return json.loads(s3.get_object(Bucket=bucket, Key="summaries/m_summary.json")["Body"].read())


def _has_summary(s3: Any, bucket: str) -> bool:
    return "Contents" in s3.list_objects_v2(Bucket=bucket, Prefix="summaries/m_summary.txt")


# ---- S3 GET ------------------------------------------------------------------------------------
def test_s3_get_503_then_success_is_retried(
    s3: Any, bucket: str, via_proxy: Presigner, proxy: S3FaultProxy
) -> None:
    proxy.inject("GET", Fault.http(503), times=2)
    assert _run(_job(s3, bucket, via_proxy))["status"] == "ok"
    assert proxy.statuses("GET") == ["injected 503", "injected 503", "200"]
    assert _metadata(s3, bucket)["status"] == "ok" and _has_summary(s3, bucket)


def test_s3_get_5xx_that_never_clears_is_reported_after_bounded_attempts(
    s3: Any, bucket: str, via_proxy: Presigner, proxy: S3FaultProxy
) -> None:
    proxy.inject("GET", Fault.http(500), times=10)
    result = _run(_job(s3, bucket, via_proxy), attempts=3)
    assert "download failed with HTTP 500" in result["error"]
    assert proxy.statuses("GET") == ["injected 500"] * 3  # bounded: exactly `attempts` tries
    meta = _metadata(s3, bucket)
    assert meta["status"] == "error" and meta["error"]["code"] == "download_failed"


def test_s3_get_timeout_then_success_is_retried(
    s3: Any, bucket: str, via_proxy: Presigner, proxy: S3FaultProxy
) -> None:
    proxy.inject("GET", Fault.hang(TIMEOUT_S * 6))
    started = time.monotonic()
    assert _run(_job(s3, bucket, via_proxy))["status"] == "ok"
    assert time.monotonic() - started < TIMEOUT_S * 6  # the hang was cut by the timeout, not waited out
    assert proxy.statuses("GET") == ["injected hang", "200"]


def test_s3_get_timeout_every_time_is_reported_as_a_timeout(
    s3: Any, bucket: str, via_proxy: Presigner, proxy: S3FaultProxy
) -> None:
    proxy.inject("GET", Fault.hang(TIMEOUT_S * 6), times=2)
    result = _run(_job(s3, bucket, via_proxy), attempts=2)
    assert "Timeout" in result["error"] and "/m.txt" in result["error"]
    assert _metadata(s3, bucket)["error"]["code"] == "download_failed"


def test_truncated_body_is_retried_never_summarised_in_part(
    s3: Any, bucket: str, via_proxy: Presigner, proxy: S3FaultProxy
) -> None:
    proxy.inject("GET", Fault.truncate(100))
    assert _run(_job(s3, bucket, via_proxy))["status"] == "ok"
    meta = _metadata(s3, bucket)
    assert meta["input"]["bytes"] == len(MEETING.encode())  # the whole transcript, second try
    assert proxy.statuses("GET")[1] == "200"


def test_truncated_body_every_time_is_reported_not_summarised(
    s3: Any, bucket: str, via_proxy: Presigner, proxy: S3FaultProxy
) -> None:
    proxy.inject("GET", Fault.truncate(100), times=3)
    result = _run(_job(s3, bucket, via_proxy))
    assert "received 100 of" in result["error"] or "truncated" in result["error"]
    assert not _has_summary(s3, bucket)
    assert _metadata(s3, bucket)["status"] == "error"


def test_connection_dropped_then_success_is_retried(
    s3: Any, bucket: str, via_proxy: Presigner, proxy: S3FaultProxy
) -> None:
    proxy.inject("GET", Fault.close())
    assert _run(_job(s3, bucket, via_proxy))["status"] == "ok"


# ---- S3 PUT ------------------------------------------------------------------------------------
def test_s3_put_503_then_success_is_retried(
    s3: Any, bucket: str, via_proxy: Presigner, proxy: S3FaultProxy
) -> None:
    proxy.inject("PUT", Fault.http(503), path_contains="_summary.txt")
    proxy.inject("PUT", Fault.http(500), path_contains="_summary.json")
    assert _run(_job(s3, bucket, via_proxy))["status"] == "ok"
    assert proxy.statuses("PUT") == ["injected 503", "200", "injected 500", "200"]
    assert _metadata(s3, bucket)["status"] == "ok" and _has_summary(s3, bucket)


def test_s3_put_403_is_reported_not_retried(
    s3: Any, bucket: str, via_proxy: Presigner, proxy: S3FaultProxy
) -> None:
    # An expired URL (or one signed for other headers) stays wrong: no retry, a clear message.
    proxy.inject("PUT", Fault.http(403), path_contains="_summary.txt")
    result = _run(_job(s3, bucket, via_proxy))
    assert "upload of summary failed with HTTP 403" in result["error"]
    assert "expired" in result["error"]
    assert proxy.statuses("PUT") == ["injected 403", "200"]  # the summary once, then the metadata
    meta = _metadata(s3, bucket)
    assert meta["status"] == "error" and meta["error"]["code"] == "upload_failed"


def test_metadata_put_403_is_returned_to_runpod_and_logged(
    s3: Any, bucket: str, via_proxy: Presigner, proxy: S3FaultProxy
) -> None:
    proxy.inject("PUT", Fault.http(403), path_contains="_summary.json", times=2)
    result = _run(_job(s3, bucket, via_proxy))
    # The summary exists; only the metadata is missing, and RunPod's job result says why.
    assert _has_summary(s3, bucket)
    assert "upload of metadata failed with HTTP 403" in result["error"]


# ---- RunPod API (dispatcher side) --------------------------------------------------------------
def _dispatcher(endpoint_url: str, moto_endpoint: str, attempts: int = 4) -> Dispatcher:
    settings = Settings.from_env(dispatcher_env(endpoint_url, "local-api-key", moto_endpoint))
    runpod = RunPodClient(endpoint_url, "local-api-key", timeout_s=2, attempts=attempts, backoff_s=0.02)
    presigner = Presigner(make_s3_client(REGION, moto_endpoint, FAKE_CREDENTIALS), 3600)
    return Dispatcher(settings, presigner, runpod)


def test_runpod_429_and_5xx_then_success_are_retried(emulator: RunPodEmulator, moto_endpoint: str) -> None:
    emulator.faults.run_statuses.extend([429, 500, 503])
    result = _dispatcher(emulator.endpoint_url, moto_endpoint).run(load_event("s3_put.json"))
    assert len(result["dispatched"]) == 1
    assert emulator.run_requests == 4 and len(emulator.jobs) == 1


def test_runpod_api_down_fails_the_event_and_its_retry_dispatches(moto_endpoint: str) -> None:
    emulator = RunPodEmulator().start()
    port = int(emulator.base_url.rsplit(":", 1)[1])
    endpoint_url = emulator.endpoint_url
    emulator.stop()  # RunPod unreachable
    dispatcher = _dispatcher(endpoint_url, moto_endpoint, attempts=3)
    with pytest.raises(DispatchError, match="failed after 3 attempts"):
        dispatcher.run(load_event("s3_put.json"))  # Lambda records the failure and retries later
    back = RunPodEmulator().start(port=port)
    try:
        assert len(dispatcher.run(load_event("s3_put.json"))["dispatched"]) == 1
        assert len(back.jobs) == 1
    finally:
        back.stop()


# ---- a job stopped by the platform ---------------------------------------------------------------
def test_job_stopped_mid_run_still_writes_error_metadata(
    s3: Any, bucket: str, via_proxy: Presigner, proxy: S3FaultProxy
) -> None:
    # Regression: RunPod's cancel and executionTimeout reach the handler as a task cancellation,
    # which skipped every `except` in JobRunner.run: the job ended with no metadata file at all.
    proxy.inject("GET", Fault.delay(5))
    raw = _job(s3, bucket, via_proxy)

    async def go() -> None:
        transfers = Transfers(UrlPolicy(allow_loopback=True), timeout_s=10, attempts=1)
        try:
            task = asyncio.create_task(
                JobRunner(WorkerSettings(), ExtractiveEngine(), transfers).run("job-c", raw)
            )
            await asyncio.sleep(0.5)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        finally:
            await transfers.aclose()

    asyncio.run(go())
    meta = _metadata(s3, bucket)
    assert meta["status"] == "error" and meta["error"]["code"] == "job_stopped"
    assert "cancelled" in meta["error"]["message"] and "executionTimeout" in meta["error"]["message"]
    assert not _has_summary(s3, bucket)


# ---- process faults: a real worker running the runpod SDK's loop against the emulator ----------
@pytest.fixture
def platform(tmp_path: Path) -> Iterator[RunPodEmulator]:
    """The emulator with lost-worker detection on (a worker silent for 3 s is gone)."""
    emu = RunPodEmulator(poll_s=0.5, worker_lost_s=3.0, max_attempts=2).start()
    try:
        yield emu
    finally:
        emu.stop()


def _status(emulator: RunPodEmulator, job_id: str) -> str:
    emulator.refresh()
    return emulator.jobs[job_id].status


def _submit(emulator: RunPodEmulator, job: dict[str, Any], execution_timeout_s: int = 120) -> str:
    client = RunPodClient(emulator.endpoint_url, emulator.api_key)
    return client.submit(job, {"executionTimeout": execution_timeout_s * 1000, "ttl": 600_000})


def test_worker_job_take_5xx_then_success_keeps_polling(
    s3: Any, bucket: str, presigner: Presigner, platform: RunPodEmulator, tmp_path: Path
) -> None:
    platform.faults.take_statuses.extend([500, 503])
    job_id = _submit(platform, _job(s3, bucket, presigner))
    with worker_process(platform, tmp_path / "worker.log"):
        until(lambda: _status(platform, job_id) == "COMPLETED", 60, "the job completing")
    assert not platform.faults.take_statuses  # both faults were met, and survived
    assert _metadata(s3, bucket)["status"] == "ok"


def test_job_cancelled_mid_run_is_stopped_and_the_worker_goes_on(
    s3: Any,
    bucket: str,
    presigner: Presigner,
    via_proxy: Presigner,
    proxy: S3FaultProxy,
    platform: RunPodEmulator,
    tmp_path: Path,
) -> None:
    proxy.inject("GET", Fault.delay(6))  # keeps the first job busy downloading
    slow = _submit(platform, _job(s3, bucket, via_proxy))
    with worker_process(platform, tmp_path / "worker.log") as worker:
        # Running inside the worker, not just taken: the SDK drops a stop for a job it has not started.
        until(lambda: platform.jobs[slow].progress, 60, "the job reporting progress")
        RunPodClient(platform.endpoint_url, platform.api_key).cancel(slow)  # /cancel → job-stop channel
        meta = until(lambda: _has_summary_or_meta(s3, bucket), 20, "the metadata of the stopped job")
        assert meta["status"] == "error" and meta["error"]["code"] == "job_stopped"
        assert _status(platform, slow) == "CANCELLED"
        s3.delete_object(Bucket=bucket, Key="summaries/m_summary.json")
        after = _submit(platform, _job(s3, bucket, presigner))
        until(lambda: _status(platform, after) == "COMPLETED", 30, "the next job completing")
        assert worker.poll() is None
    assert _metadata(s3, bucket)["status"] == "ok"


def test_job_over_execution_timeout_is_stopped_and_reported(
    s3: Any, bucket: str, via_proxy: Presigner, proxy: S3FaultProxy, platform: RunPodEmulator, tmp_path: Path
) -> None:
    proxy.inject("GET", Fault.delay(8))
    job_id = _submit(platform, _job(s3, bucket, via_proxy), execution_timeout_s=2)
    with worker_process(platform, tmp_path / "worker.log"):
        meta = until(lambda: _has_summary_or_meta(s3, bucket), 30, "the metadata of the timed-out job")
    assert meta["error"]["code"] == "job_stopped"
    assert platform.jobs[job_id].status == "TIMED_OUT"


def test_worker_killed_mid_job_is_requeued_and_a_new_worker_finishes_it(
    s3: Any, bucket: str, via_proxy: Presigner, proxy: S3FaultProxy, platform: RunPodEmulator, tmp_path: Path
) -> None:
    proxy.inject("GET", Fault.delay(30))  # the first attempt never gets its transcript
    job_id = _submit(platform, _job(s3, bucket, via_proxy))
    with worker_process(platform, tmp_path / "worker-1.log") as first:
        until(lambda: proxy.pending() == 0, 60, "the job's GET reaching the proxy (held there)")
        first.kill()  # SIGKILL: no handler, no metadata, no job-done: only silence
        first.wait()
    # The platform notices the silence, puts the job back, and a replacement worker runs it.
    until(lambda: _status(platform, job_id) == "IN_QUEUE", 15, "the job being requeued")
    with worker_process(platform, tmp_path / "worker-2.log"):
        until(lambda: _status(platform, job_id) == "COMPLETED", 60, "the requeued job completing")
    assert platform.jobs[job_id].attempts == 2
    assert _metadata(s3, bucket)["status"] == "ok" and _has_summary(s3, bucket)


def test_worker_lost_on_every_attempt_ends_failed_not_forgotten(platform: RunPodEmulator) -> None:
    # No worker at all: the emulator's bookkeeping alone, with a worker that takes and vanishes.
    job_id = _submit(platform, {"text": MEETING})
    for attempt in (1, 2):
        (taken,) = platform.take(f"ghost-{attempt}", 1)
        assert taken.id == job_id
        platform.seen(f"ghost-{attempt}")
        platform.last_seen[f"ghost-{attempt}"] -= 10  # silent for longer than worker_lost_s
        platform.refresh()
    assert platform.jobs[job_id].status == "FAILED"
    assert "worker lost 2 times" in platform.jobs[job_id].error


def _has_summary_or_meta(s3: Any, bucket: str) -> dict[str, Any] | None:
    try:
        return _metadata(s3, bucket)
    except s3.exceptions.NoSuchKey:
        return None


# ---- the engine server dying mid-job ----------------------------------------------------------
@contextlib.contextmanager
def _engine_server(port: int, delay_s: float, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "tests.support.fake_openai_server", str(port), str(delay_s)],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_http(f"http://127.0.0.1:{port}/health", 20, server)
            yield server
        finally:
            if server.poll() is None:
                server.kill()
            server.wait()


def test_engine_server_dying_mid_job_reports_the_job_failed_and_exits_the_worker(
    s3: Any, bucket: str, presigner: Presigner, platform: RunPodEmulator, tmp_path: Path
) -> None:
    port = free_port()
    engine_env = {"WORKER_ENGINE": "openai", "WORKER_OPENAI_BASE_URL": f"http://127.0.0.1:{port}"}
    job_id = _submit(platform, _job(s3, bucket, presigner))
    engine_log = tmp_path / "engine-1.log"
    with (
        _engine_server(port, 30, engine_log) as engine,
        worker_process(platform, tmp_path / "worker-1.log", **engine_env) as worker,
    ):
        until(lambda: "generating" in engine_log.read_text(), 60, "a generation request in flight")
        engine.kill()  # the model server dies with the request in flight
        until(lambda: _status(platform, job_id) == "FAILED", 30, "the job reported failed")
        second = _submit(platform, _job(s3, bucket, presigner))  # must not be taken by this worker
        assert worker.wait(timeout=45) == 3  # EXIT_ENGINE: RunPod replaces the worker
    # Reported failed before the exit (not left IN_PROGRESS), with the reason; nothing else taken.
    failed = platform.jobs[job_id]
    assert failed.status == "FAILED" and "model server" in str(failed.error)
    # Never lost: not taken, or taken and failed, or (SDK 1.12 drops a job that its last job-take poll
    # returns during shutdown) requeued by the platform once the worker is gone.
    until(lambda: _status(platform, second) in ("IN_QUEUE", "FAILED"), 15, "the second job not lost")
    meta = _metadata(s3, bucket)
    assert meta["status"] == "error" and meta["error"]["code"] == "engine_unavailable"
    assert not _has_summary(s3, bucket)
