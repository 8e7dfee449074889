"""One job end to end inside the worker: moto S3 over HTTP, the extractive engine, no SDK."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dispatcher.presign import METADATA_CONTENT_TYPE as DISPATCH_METADATA_TYPE
from dispatcher.presign import SUMMARY_CONTENT_TYPE as DISPATCH_SUMMARY_TYPE
from dispatcher.presign import Presigner
from tests.support.jobs import metadata, pull_job, run_job
from worker.job import METADATA_CONTENT_TYPE, SUMMARY_CONTENT_TYPE
from worker.meeting import ENGLISH
from worker.settings import WorkerSettings

MEETING = "\n".join(
    [
        "Alice: Welcome everyone, today we plan the release of the payments feature.",
        "Bob: The payment screen still crashes on older Android phones, which is the main risk.",
        "Carol: I can test on the device farm tomorrow and share the results with the team.",
        "Alice: Then we decided to move the release date to the fourteenth of March.",
        "Bob: I'll update the release notes and tell support about the new date by Friday.",
    ]
    * 4
)


def test_pull_mode_writes_summary_and_metadata_and_returns_a_small_result(
    s3: Any, bucket: str, presigner: Presigner
) -> None:
    result = run_job(pull_job(s3, bucket, presigner, MEETING.encode(), max_tokens=120))
    assert result["status"] == "ok" and "summary" not in result
    summary = s3.get_object(Bucket=bucket, Key="summaries/m_summary.txt")["Body"].read().decode()
    assert summary.startswith(ENGLISH.label)
    assert "payment screen" in summary
    meta = metadata(s3, bucket)
    assert meta["status"] == "ok" and meta["error"] is None
    assert meta["source"]["key"] == "m.txt"
    assert meta["engine"] == "extractive" and meta["extractive"] is True
    assert meta["input"]["tokens"] > meta["output"]["tokens"] > 0
    assert meta["output"]["tokens"] <= meta["options"]["max_tokens_granted"] == 120
    assert set(meta["timings"]) >= {"download_s", "summarize_s", "upload_s", "total_s"}
    assert len(json.dumps(result)) < 1000


def test_push_mode_returns_the_summary() -> None:
    result = run_job({"text": MEETING})
    assert result["summary"].startswith(ENGLISH.label)


def test_requested_max_tokens_is_capped_by_the_worker() -> None:
    settings = WorkerSettings(max_output_tokens=500, default_max_tokens=400)
    assert (
        run_job({"text": MEETING, "options": {"max_tokens": 100_000}}, settings=settings)[
            "max_tokens_granted"
        ]
        == 500
    )
    assert run_job({"text": MEETING}, settings=settings)["max_tokens_granted"] == 400


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"text": "hi", "colour": "red"}, "colour: Extra inputs are not permitted"),
        ({}, "exactly one of transcript_url"),
        ({"text": "a", "transcript_url": "https://b.s3.amazonaws.com/x"}, "exactly one of transcript_url"),
        ({"text": "a", "options": {"max_tokens": -1}}, "options.max_tokens"),
        ({"text": "a", "options": {"style": "poetic"}}, "options.style"),
        ({"text": 12}, "text"),
        ("not an object", "expected a JSON object"),
    ],
)
def test_invalid_input_names_the_field(raw: Any, field: str) -> None:
    assert field in run_job(raw)["error"]


def test_download_failure_still_writes_error_metadata(s3: Any, bucket: str, presigner: Presigner) -> None:
    job = pull_job(s3, bucket, presigner, b"x", max_tokens=120)
    job["transcript_url"] = presigner.get(bucket, "deleted.txt")
    result = run_job(job)
    assert "HTTP 404" in result["error"]
    meta = metadata(s3, bucket)
    assert meta["status"] == "error" and meta["error"]["code"] == "download_failed"
    assert meta["source"]["key"] == "m.txt"


def test_binary_transcript_gets_error_metadata(s3: Any, bucket: str, presigner: Presigner) -> None:
    result = run_job(pull_job(s3, bucket, presigner, b"\x00\x01\x02binary\xff" * 50, max_tokens=120))
    assert "binary" in result["error"]
    assert metadata(s3, bucket)["error"]["code"] == "invalid_transcript"


def test_rejected_input_with_a_metadata_url_still_gets_its_metadata(
    s3: Any, bucket: str, presigner: Presigner
) -> None:
    job = pull_job(s3, bucket, presigner, MEETING.encode(), max_tokens=120)
    job["options"] = {"max_tokens": "lots"}
    assert "options.max_tokens" in run_job(job)["error"]
    meta = metadata(s3, bucket)
    assert meta["status"] == "error" and "options.max_tokens" in meta["error"]["message"]


def test_contract_content_types_match_between_dispatcher_and_worker() -> None:
    # A PUT presigned with a Content-Type must be sent with exactly that header, or S3 says 403.
    assert (DISPATCH_SUMMARY_TYPE, DISPATCH_METADATA_TYPE) == (SUMMARY_CONTENT_TYPE, METADATA_CONTENT_TYPE)


def test_contract_dispatcher_output_is_accepted_by_the_worker(presigner: Presigner) -> None:
    from dispatcher.events import ObjectRef
    from dispatcher.job import build_job_input
    from dispatcher.settings import Settings
    from dispatcher.upload import Upload
    from worker.job import JobInput

    settings = Settings("k", "https://api.runpod.ai/v2/x", "us-east-1", max_tokens=300)
    upload = Upload.of(
        ObjectRef("b", "dir/a b.txt", version_id="v1", etag="e", size=5, sequencer="s"), settings
    )
    job = JobInput.parse(json.loads(json.dumps(build_job_input(upload, presigner, settings))))
    assert job.source is not None and job.source.version_id == "v1"
    assert job.options.max_tokens == 300
    assert (job.attempt, job.previous_error) == (None, None)
    # The reconciler's retry (dispatcher/reconciler.py) says which run it is and why the last ended.
    retry = build_job_input(upload, presigner, settings, attempt=2, previous_error="engine_unavailable")
    job = JobInput.parse(json.loads(json.dumps(retry)))
    assert (job.attempt, job.previous_error) == (2, "engine_unavailable")
