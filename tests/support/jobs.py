"""One job, built and run the way the product does it: the tests' one job builder and one job runner.

`pull_job` uploads a transcript to moto and builds its job with the dispatcher's own
`dispatcher.job.build_job_input` for that upload (`dispatcher.upload.Upload`), so the job has what
a dispatched job has: presigned URLs for the transcript and both outputs, and the freshness URLs.
`run_job` runs one job through the worker's real `JobRunner` and transfers (extractive engine
unless a test hands in another), in a fresh event loop, closing what it opened.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from devstack.cloud import REGION
from devstack.faults import RawServer
from dispatcher.events import ObjectRef, output_keys
from dispatcher.job import build_job_input
from dispatcher.presign import METADATA_CONTENT_TYPE, Presigner
from dispatcher.settings import Settings
from dispatcher.upload import Upload
from tests.support.metadata_schema import assert_valid
from worker.engines import Engine, ExtractiveEngine
from worker.errors import EngineUnavailableError
from worker.runner import JobRunner
from worker.settings import WorkerSettings
from worker.transfer import Transfers, UrlPolicy

SENTENCE = "Alice: We decided to ship the export on Friday after the review. "
# Where the metadata of a job for the key `m.txt` goes (the dispatcher's default prefix and suffix).
META_KEY = "summaries/m_summary.json"
# Production rules for every host but loopback (moto and the tests' servers on 127.0.0.1).
LOOPBACK = UrlPolicy(allow_loopback=True)


def _job_settings(**changes: Any) -> Settings:
    """The dispatcher's settings as far as a job input needs them (its RunPod fields are unused)."""
    return Settings(
        runpod_api_key="unused",
        runpod_endpoint_url="https://api.runpod.ai/v2/unused",
        region=REGION,
        **changes,
    )


def pull_job(
    s3: Any,
    bucket: str,
    presigner: Presigner,
    body: bytes | None,
    key: str = "m.txt",
    *,
    max_tokens: int | None = None,
) -> dict[str, Any]:
    """Upload `body` as `key` (None: nothing is uploaded) and return the job the dispatcher builds
    for that upload; its outputs go to `summaries/<stem>_summary.{txt,json}`."""
    size = None
    if body is not None:
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        size = len(body)
    settings = _job_settings(max_tokens=max_tokens)
    upload = Upload.of(ObjectRef(bucket=bucket, key=key, size=size), settings)
    return build_job_input(upload, presigner, settings)


def with_meta(presigner: Presigner, bucket: str, raw: dict[str, Any]) -> dict[str, Any]:
    """`raw` with a metadata PUT URL (to META_KEY), so its error can be read back."""
    return {"metadata_put_url": presigner.put(bucket, META_KEY, METADATA_CONTENT_TYPE)} | raw


def run_job(
    raw: Any,
    *,
    engine: Engine | None = None,
    settings: WorkerSettings | None = None,
    policy: UrlPolicy = LOOPBACK,
    job_id: str = "job-1",
    attempts: int = 2,
    download_deadline_s: float = 600.0,
    close_engine: bool = False,
    engine_may_die: bool = False,
    stop_when: asyncio.Event | None = None,
) -> dict[str, Any]:
    """The worker's `JobRunner` runs `raw` once; its result.

    `close_engine`: close `engine` afterwards (an engine the test made for this job).
    `engine_may_die`: an `EngineUnavailableError` (re-raised so the worker stops taking jobs, its
    metadata written) is returned as `{"error": ..., "raised": True}`.
    `stop_when`: cancel the job, as the platform stops a worker, once this event is set."""
    settings = settings or WorkerSettings(allow_loopback_urls=True)

    async def go() -> dict[str, Any]:
        transfers = Transfers(
            policy, timeout_s=5, download_deadline_s=download_deadline_s, attempts=attempts, backoff_s=0.01
        )
        runner = JobRunner(settings, engine or ExtractiveEngine(), transfers)
        try:
            if stop_when is None:
                return await runner.run(job_id, raw)
            task = asyncio.ensure_future(runner.run(job_id, raw))
            await asyncio.wait_for(stop_when.wait(), 60)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return {"error": "stopped"}
        except EngineUnavailableError as exc:
            if not engine_may_die:
                raise
            return {"error": str(exc), "raised": True}
        finally:
            await transfers.aclose()
            if close_engine and engine is not None:
                await engine.aclose()

    return asyncio.run(go())


def answer(status: str, headers: dict[str, str], body: bytes) -> list[bytes]:
    """An HTTP/1.1 answer as `devstack.faults.RawServer` sends it: the head, then `body`."""
    head = f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return [(head + "Connection: close\r\n\r\n").encode(), body]


def run_raw(
    server: RawServer,
    s3: Any,
    bucket: str,
    presigner: Presigner,
    *,
    deadline_s: float = 600,
    max_bytes: int = 64 << 20,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One pull job whose transcript comes from `server`; its metadata goes to moto."""
    raw = {
        "transcript_url": server.url(),
        "metadata_put_url": presigner.put(bucket, META_KEY, METADATA_CONTENT_TYPE),
        "source": {"bucket": bucket, "key": "t.txt"},
    }
    settings = WorkerSettings(allow_loopback_urls=True, max_transcript_bytes=max_bytes)
    return run_job(raw, settings=settings, download_deadline_s=deadline_s), metadata(s3, bucket)


def upload(s3: Any, bucket: str, key: str, body: bytes) -> ObjectRef:
    """Put `body` as `key`; the object version it became, as an event would name it."""
    put = s3.put_object(Bucket=bucket, Key=key, Body=body)
    return ObjectRef(bucket, key, put.get("VersionId"), put["ETag"].strip('"'), len(body))


def outputs(s3: Any, bucket: str, key: str, settings: Settings) -> tuple[str, dict[str, Any]]:
    """The summary and the metadata the job for `key` wrote, where `settings` place them."""
    summary_key, metadata_key = output_keys(key, settings.output_prefix, settings.input_suffixes, "_summary")
    summary = s3.get_object(Bucket=bucket, Key=summary_key)["Body"].read().decode()
    return summary, json.loads(s3.get_object(Bucket=bucket, Key=metadata_key)["Body"].read())


def metadata(s3: Any, bucket: str, key: str = META_KEY) -> dict[str, Any]:
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())  # type: ignore[no-any-return]


def has_object(s3: Any, bucket: str, key: str) -> bool:
    return any(o["Key"] == key for o in s3.list_objects_v2(Bucket=bucket, Prefix=key).get("Contents", []))


def assert_reported(result: dict[str, Any], meta: dict[str, Any], fragment: str, code: str) -> None:
    """The job's error names the problem, and the metadata file says the same."""
    assert fragment in result["error"], result["error"]
    assert meta["status"] == "error"
    assert meta["error"] == {"code": code, "message": result["error"]}


def summarise(
    s3: Any, bucket: str, presigner: Presigner, body: bytes, key: str = "m.txt", **options: Any
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Upload `body` as `key` and run the dispatcher's job for it with `options`: (the job's result,
    its metadata checked against the published schema, the summary text or "")."""
    raw = pull_job(s3, bucket, presigner, body, key)
    raw["options"] = {**raw.get("options", {}), **options}
    result = run_job(raw)
    s = _job_settings()
    summary_key, metadata_key = output_keys(key, s.output_prefix, s.input_suffixes, "_summary")
    meta = assert_valid(s3.get_object(Bucket=bucket, Key=metadata_key)["Body"].read())
    summary = ""
    if meta["status"] == "ok":
        summary = s3.get_object(Bucket=bucket, Key=summary_key)["Body"].read().decode()
    return result, meta, summary


def run_engine_job(
    engine: Engine, s3: Any, bucket: str, presigner: Presigner, raw: dict[str, Any], settings: WorkerSettings
) -> tuple[dict[str, Any], dict[str, Any]]:
    """`raw` run once on `engine` (closed afterwards), its metadata written to META_KEY."""
    result = run_job(
        with_meta(presigner, bucket, raw), engine=engine, settings=settings, attempts=1, close_engine=True
    )
    return result, metadata(s3, bucket)
