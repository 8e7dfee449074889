"""Bad input, case by case: files, keys, events, job inputs and URLs.

Each case asserts a clear error that names the problem; where a metadata PUT URL exists, that the
metadata file says `status: "error"` with the same message; and that nothing crashed (the runner
returns a result, the dispatcher returns or reports the record, a real worker keeps serving).
Files and URLs run through the worker's JobRunner against moto over HTTP; keys and events through
the dispatcher against the RunPod emulator, then the dispatched job through the JobRunner.
"""

from __future__ import annotations

import asyncio
import codecs
import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest

from devstack.cloud import FAKE_CREDENTIALS, REGION
from devstack.faults import Fault, S3FaultProxy
from devstack.runpod_emulator import RunPodEmulator
from dispatcher import app
from dispatcher.app import Dispatcher
from dispatcher.presign import Presigner, make_s3_client
from dispatcher.runpod_api import RunPodClient
from tests.conftest import DispatcherEnv, load_event
from tests.procs import until, worker_process
from worker.engines import ExtractiveEngine
from worker.job import METADATA_CONTENT_TYPE, SUMMARY_CONTENT_TYPE
from worker.runner import JobRunner
from worker.settings import WorkerSettings
from worker.transfer import Transfers, UrlPolicy

SENTENCE = "Alice: We decided to ship the export on Friday after the review. "
# Production rules for every host but loopback, which stays allowed so the metadata file (on
# moto, 127.0.0.1) can still be written and checked.
PROD_BUT_LOOPBACK = UrlPolicy(allow_http=False, allow_loopback=True)
PRODUCTION = UrlPolicy()
META_KEY = "summaries/m_summary.json"


def run_job(raw: Any, policy: UrlPolicy = PROD_BUT_LOOPBACK, max_bytes: int = 64 << 20) -> dict[str, Any]:
    settings = WorkerSettings(allow_loopback_urls=True, max_transcript_bytes=max_bytes)

    async def go() -> dict[str, Any]:
        transfers = Transfers(policy, timeout_s=5, attempts=2, backoff_s=0.01)
        try:
            return await JobRunner(settings, ExtractiveEngine(), transfers).run("job-bad", raw)
        finally:
            await transfers.aclose()

    return asyncio.run(go())


def pull_job(
    s3: Any, bucket: str, presigner: Presigner, body: bytes | None, key: str = "m.txt"
) -> dict[str, Any]:
    if body is not None:
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    return {
        "transcript_url": presigner.get(bucket, key),
        "summary_put_url": presigner.put(bucket, "summaries/m_summary.txt", SUMMARY_CONTENT_TYPE),
        "metadata_put_url": presigner.put(bucket, META_KEY, METADATA_CONTENT_TYPE),
        "source": {"bucket": bucket, "key": key},
    }


def metadata(s3: Any, bucket: str, key: str = META_KEY) -> dict[str, Any]:
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def has_object(s3: Any, bucket: str, key: str) -> bool:
    return any(o["Key"] == key for o in s3.list_objects_v2(Bucket=bucket, Prefix=key).get("Contents", []))


def assert_reported(result: dict[str, Any], meta: dict[str, Any], fragment: str, code: str) -> None:
    """The job's error names the problem, and the metadata file says the same."""
    assert fragment in result["error"], result["error"]
    assert meta["status"] == "error"
    assert meta["error"] == {"code": code, "message": result["error"]}


# ---- files ---------------------------------------------------------------------------------------
BAD_FILES = {
    "empty": (b"", "transcript is empty"),
    "whitespace_only": (b" \n\t\r\n   \n", "transcript is empty"),
    "binary_png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "looks binary"),
    "binary_control_characters": (bytes(range(1, 32)) * 50 + b"word", "looks binary"),
    "only_speaker_labels": (b"Alice:\nBob:\n[00:01:02] Carol:\n", "speaker labels but no speech"),
    "digits_and_punctuation_only": (b"00:01 -- 00:02 ... 12, 13; !!!", "has no words"),
}


@pytest.mark.parametrize("name", BAD_FILES)
def test_unusable_file_is_reported_in_metadata(name: str, s3: Any, bucket: str, presigner: Presigner) -> None:
    body, fragment = BAD_FILES[name]
    result = run_job(pull_job(s3, bucket, presigner, body))
    assert_reported(result, metadata(s3, bucket), fragment, "invalid_transcript")
    assert not has_object(s3, bucket, "summaries/m_summary.txt")


def test_file_over_the_size_cap_is_refused_before_reading(s3: Any, bucket: str, presigner: Presigner) -> None:
    result = run_job(pull_job(s3, bucket, presigner, SENTENCE.encode() * 100), max_bytes=1000)
    assert_reported(result, metadata(s3, bucket), "over the 1000-byte limit", "invalid_transcript")


GOOD_ODD_FILES = {
    "latin1": (
        "Alice: Le café était fermé, réunion reportée à vendredi.".encode("latin-1"),
        "cp1252",
        "café",
    ),
    "utf16_with_bom": (codecs.BOM_UTF16_LE + SENTENCE.encode("utf-16-le"), "utf-16", "Friday"),
    "utf8_with_bom": (codecs.BOM_UTF8 + SENTENCE.encode(), "utf-8", "Friday"),
    "crlf_line_endings": ((SENTENCE + "\r\nBob: Agreed.\r\n").encode(), "utf-8", "Friday"),
    "lone_cr_line_endings": ((SENTENCE + "\rBob: Agreed.\r").encode(), "utf-8", "Friday"),
    "one_token": (b"Hello", "utf-8", "Hello"),
}


@pytest.mark.parametrize("name", GOOD_ODD_FILES)
def test_odd_but_valid_file_is_summarised(name: str, s3: Any, bucket: str, presigner: Presigner) -> None:
    body, encoding, expected = GOOD_ODD_FILES[name]
    result = run_job(pull_job(s3, bucket, presigner, body))
    assert result["status"] == "ok", result
    meta = metadata(s3, bucket)
    assert meta["status"] == "ok" and meta["input"]["encoding"] == encoding
    summary = s3.get_object(Bucket=bucket, Key="summaries/m_summary.txt")["Body"].read().decode()
    assert expected in summary and "\r" not in summary


def test_one_5mb_line_is_summarised_in_chunks(s3: Any, bucket: str, presigner: Presigner) -> None:
    words = b"alpha beta gamma delta release payment bug friday "
    body = (words * (5_000_000 // len(words)))[:5_000_000]
    result = run_job(pull_job(s3, bucket, presigner, body))
    assert result["status"] == "ok" and result["chunks"] > 1
    assert metadata(s3, bucket)["input"]["bytes"] == 5_000_000


# ---- keys ----------------------------------------------------------------------------------------
@pytest.fixture
def dispatcher(dispatcher_env: DispatcherEnv) -> Dispatcher:
    return Dispatcher.from_env(dispatcher_env(RUNPOD_ATTEMPTS="2"))


def s3_event(bucket: str, key: str, **obj: Any) -> dict[str, Any]:
    """A real S3 notification for `key`, encoded the way S3 encodes keys (space → '+')."""
    event = copy.deepcopy(load_event("s3_put_unversioned.json"))
    record = event["Records"][0]
    record["s3"]["bucket"]["name"] = bucket
    record["s3"]["object"] = {
        "key": quote_plus(key, safe="/"),
        "size": 10,
        "eTag": "e",
        "sequencer": "01",
    } | obj
    return event


def uploaded(s3: Any, bucket: str, key: str, body: bytes) -> dict[str, Any]:
    """Upload `body` and return S3's notification for it, with the object's real ETag and size (the
    worker checks that the version it summarises is still the key's current one)."""
    etag = s3.put_object(Bucket=bucket, Key=key, Body=body)["ETag"].strip('"')
    return s3_event(bucket, key, eTag=etag, size=len(body))


DISPATCHABLE_KEYS = {
    "spaces": ("team notes/weekly sync.txt", "summaries/team notes/weekly sync_summary.txt"),
    "plus_sign": ("c++ review+notes.txt", "summaries/c++ review+notes_summary.txt"),
    "percent_sign": ("100% done %20 literally.txt", "summaries/100% done %20 literally_summary.txt"),
    "unicode": ("réunions/会议 ☕ Zoë.txt", "summaries/réunions/会议 ☕ Zoë_summary.txt"),
    "long_but_within_limits": (
        "d/" * 200 + "x" * 590 + ".txt",
        "summaries/" + "d/" * 200 + "x" * 590 + "_summary.txt",
    ),
}


@pytest.mark.parametrize("name", DISPATCHABLE_KEYS)
def test_awkward_key_is_decoded_dispatched_and_summarised_at_the_right_key(
    name: str, s3: Any, bucket: str, dispatcher: Dispatcher, emulator: RunPodEmulator
) -> None:
    key, summary_key = DISPATCHABLE_KEYS[name]
    result = dispatcher.run(uploaded(s3, bucket, key, SENTENCE.encode()))
    assert [d["key"] for d in result["dispatched"]] == [key]
    (job,) = emulator.jobs.values()
    assert run_job(job.input)["status"] == "ok"
    assert has_object(s3, bucket, summary_key)


SKIPPED_KEYS = {
    "under_the_output_prefix": ("summaries/old_summary.txt", "under the output prefix"),
    "our_own_summary_name": ("notes_summary.txt", "looks like a summary"),
    "not_txt": ("slides.pdf", "does not end in '.txt'"),
    "upper_case_TXT": ("SHOUT.TXT", "does not end in '.txt'"),  # S3 suffix filters are case-sensitive too
}


@pytest.mark.parametrize("name", SKIPPED_KEYS)
def test_key_that_must_not_be_summarised_is_skipped_with_its_reason(
    name: str, bucket: str, dispatcher: Dispatcher, emulator: RunPodEmulator
) -> None:
    key, reason = SKIPPED_KEYS[name]
    result = dispatcher.run(s3_event(bucket, key))
    assert result["dispatched"] == [] and emulator.jobs == {}
    assert reason in result["skipped"][0]["skipped"]


def test_key_whose_summary_key_would_exceed_s3s_limit_fails_at_dispatch(
    bucket: str, dispatcher: Dispatcher, emulator: RunPodEmulator
) -> None:
    # Regression: a 1,014-byte key was dispatched, and S3 would refuse both output PUTs
    # (KeyTooLongError; moto does not enforce it) after the GPU work: no summary, no metadata.
    result = dispatcher.handle(s3_event(bucket, "k" * 1010 + ".txt"))
    assert "over S3's 1024-byte limit" in result["failed"][0]["error"]
    assert emulator.jobs == {}  # the failure goes to Lambda's retries, then the on-failure queue


# ---- events --------------------------------------------------------------------------------------
def test_s3_test_event_dispatches_nothing_and_does_not_fail(
    dispatcher: Dispatcher, emulator: RunPodEmulator
) -> None:
    result = dispatcher.run(load_event("s3_test_event.json"))
    assert "s3:TestEvent" in result["skipped"][0]["reason"] and emulator.jobs == {}


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        pytest.param(
            lambda r: r["s3"]["object"].pop("key"),
            "missing s3.bucket.name or s3.object.key",
            id="no_object_key",
        ),
        pytest.param(
            lambda r: r["s3"].pop("bucket"), "missing s3.bucket.name or s3.object.key", id="no_bucket"
        ),
        pytest.param(lambda r: r.pop("s3"), "missing s3.bucket.name or s3.object.key", id="no_s3_section"),
        pytest.param(lambda r: r.pop("eventName"), "not an upload", id="no_event_name"),
        pytest.param(
            lambda r: r.update(eventName="ObjectRemoved:Delete"), "not an upload", id="object_removed"
        ),
    ],
)
def test_record_with_missing_fields_is_skipped_with_its_reason(
    mutate: Any, reason: str, dispatcher: Dispatcher, emulator: RunPodEmulator
) -> None:
    event = copy.deepcopy(load_event("s3_put.json"))
    mutate(event["Records"][0])
    result = dispatcher.run(event)
    assert reason in result["skipped"][0]["reason"] and emulator.jobs == {}


NOT_S3_EVENTS = {
    # EventBridge events other than S3's "Object Created" (which the dispatcher does read).
    "eventbridge": {
        "version": "0",
        "detail-type": "EC2 Instance State-change Notification",
        "source": "aws.ec2",
        "detail": {},
    },
    "sns_record": {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "{}"}}]},
    "none": None,
    "list": [1, 2],
    "string": "s3://bucket/key.txt",
    "records_not_a_list": {"Records": "nope"},
    "record_not_an_object": {"Records": [None, 7]},
}


@pytest.mark.parametrize("name", NOT_S3_EVENTS)
def test_non_s3_event_reaches_the_lambda_handler_without_crashing(
    name: str, dispatcher: Dispatcher, emulator: RunPodEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app, "_dispatcher", dispatcher)  # what a warm Lambda holds
    result = app.lambda_handler(NOT_S3_EVENTS[name], None)
    assert result["dispatched"] == [] and result["failed"] == []
    assert result["skipped"] and all("not" in s["reason"] for s in result["skipped"])
    assert emulator.jobs == {}


def test_1000_record_event_with_junk_mixed_in_dispatches_exactly_the_good_records(
    bucket: str, dispatcher: Dispatcher, emulator: RunPodEmulator
) -> None:
    good = [s3_event(bucket, f"batch/{i:04d}.txt")["Records"][0] for i in range(900)]
    junk: list[Any] = [s3_event(bucket, f"summaries/{i}_summary.txt")["Records"][0] for i in range(50)]
    junk += [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {}}] * 25 + [None] * 25
    records = [r for pair in zip(good[:100], junk, strict=True) for r in pair] + good[100:]
    result = dispatcher.run({"Records": records})
    assert len(records) == 1000
    assert len(result["dispatched"]) == 900 and len(emulator.jobs) == 900
    assert len(result["skipped"]) == 100 and result["failed"] == []


def test_record_for_a_deleted_object_ends_in_error_metadata(
    s3: Any, bucket: str, dispatcher: Dispatcher, emulator: RunPodEmulator
) -> None:
    s3.put_object(Bucket=bucket, Key="gone.txt", Body=SENTENCE.encode())
    event = s3_event(bucket, "gone.txt")
    s3.delete_object(Bucket=bucket, Key="gone.txt")  # deleted between the upload and the job
    dispatcher.run(event)
    (job,) = emulator.jobs.values()
    result = run_job(job.input)
    meta = metadata(s3, bucket, "summaries/gone_summary.json")
    assert_reported(result, meta, "does not exist (deleted after upload?)", "download_failed")
    assert meta["source"]["key"] == "gone.txt"


# ---- job inputs ------------------------------------------------------------------------------------
def _with_meta(presigner: Presigner, bucket: str, raw: dict[str, Any]) -> dict[str, Any]:
    return {"metadata_put_url": presigner.put(bucket, META_KEY, METADATA_CONTENT_TYPE)} | raw


BAD_JOB_INPUTS: dict[str, tuple[dict[str, Any], str]] = {
    "unknown_field": ({"text": SENTENCE, "transcript": "x"}, "transcript: Extra inputs are not permitted"),
    "unknown_option": ({"text": SENTENCE, "options": {"max_token": 5}}, "options.max_token: Extra inputs"),
    "both_url_and_text": (
        {"text": SENTENCE, "transcript_url": "https://b.s3.amazonaws.com/k.txt"},
        "exactly one of transcript_url (pull mode) or text (push mode)",
    ),
    "neither_url_nor_text": ({"options": {"style": "brief"}}, "exactly one of transcript_url"),
    "negative_max_tokens": ({"text": SENTENCE, "options": {"max_tokens": -5}}, "options.max_tokens"),
    "zero_max_tokens": ({"text": SENTENCE, "options": {"max_tokens": 0}}, "must be at least 96"),
    "huge_max_tokens": (
        {"text": SENTENCE, "options": {"max_tokens": 10**12}},
        "less than or equal to 1000000",
    ),
    "max_tokens_not_a_number": ({"text": SENTENCE, "options": {"max_tokens": "lots"}}, "options.max_tokens"),
    "text_not_a_string": ({"text": 42}, "text: Input should be a valid string"),
    "options_not_an_object": ({"text": SENTENCE, "options": "fast"}, "options: Input should be"),
    "unknown_contract_version": ({"text": SENTENCE, "version": 2}, "version: Input should be 1"),
    "temperature_out_of_range": ({"text": SENTENCE, "options": {"temperature": 9}}, "options.temperature"),
    "unknown_style": ({"text": SENTENCE, "options": {"style": "haiku"}}, "options.style"),
    "source_with_negative_size": (
        {"text": SENTENCE, "source": {"bucket": "b", "key": "k", "size": -1}},
        "source.size",
    ),
}


@pytest.mark.parametrize("name", BAD_JOB_INPUTS)
def test_invalid_job_input_names_the_field_in_result_and_metadata(
    name: str, s3: Any, bucket: str, presigner: Presigner
) -> None:
    raw, fragment = BAD_JOB_INPUTS[name]
    result = run_job(_with_meta(presigner, bucket, raw))
    assert_reported(result, metadata(s3, bucket), fragment, "invalid_input")


@pytest.mark.parametrize("raw", [None, [], "text", 7], ids=["null", "list", "string", "number"])
def test_job_input_that_is_not_an_object_is_refused(raw: Any) -> None:
    assert "invalid job input: expected a JSON object" in run_job(raw)["error"]


def test_unusable_metadata_url_is_named_and_nothing_is_written(
    s3: Any, bucket: str, presigner: Presigner
) -> None:
    raw = pull_job(s3, bucket, presigner, SENTENCE.encode()) | {"metadata_put_url": "file:///tmp/meta.json"}
    result = run_job(raw)
    assert "metadata_put_url must be https, got scheme 'file'" in result["error"]
    assert not has_object(s3, bucket, "summaries/m_summary.txt")  # refused before any work


# ---- URLs --------------------------------------------------------------------------------------------
BAD_URLS = {
    "http_in_production_mode": ("http://b.s3.amazonaws.com/k.txt", "must be https, got http"),
    "file_scheme": ("file:///etc/passwd", "must be https, got scheme 'file'"),
    "instance_metadata_ip": ("https://169.254.169.254/latest/meta-data/", "link-local/metadata IP"),
    "instance_metadata_over_http": ("http://169.254.169.254/latest/meta-data/", "must be https, got http"),
    "ipv6_link_local": ("https://[fe80::1]/k.txt", "link-local/metadata IP"),
    "private_ip": ("https://10.0.0.5/k.txt", "private IP"),
    "host_outside_the_allow_list": (
        "https://evil.example.com/k.txt",
        "'evil.example.com' is not an S3 endpoint",
    ),
    "lookalike_host": ("https://b.s3.amazonaws.com.evil.io/k.txt", "is not an S3 endpoint"),
    "api_gateway_host": ("https://a1.execute-api.us-east-1.amazonaws.com/k.txt", "is not an S3 endpoint"),
    "s3_host_on_another_port": (
        "https://b.s3.us-east-1.amazonaws.com:8443/k.txt",
        "port 8443 is not allowed",
    ),
    "credentials_in_url": ("https://user:pw@b.s3.amazonaws.com/k.txt", "must not carry credentials"),
    "not_a_url": ("just some words", "must be https, got scheme ''"),
}


@pytest.mark.parametrize("name", BAD_URLS)
def test_transcript_url_outside_the_allow_list_is_refused_before_connecting(
    name: str, s3: Any, bucket: str, presigner: Presigner
) -> None:
    url, fragment = BAD_URLS[name]
    raw = pull_job(s3, bucket, presigner, None) | {"transcript_url": url}
    result = run_job(raw)
    assert_reported(result, metadata(s3, bucket), fragment, "url_not_allowed")
    assert "transcript_url" in result["error"]


def test_loopback_url_in_production_mode_is_refused(s3: Any, bucket: str, presigner: Presigner) -> None:
    # Production policy: the moto URLs (127.0.0.1) are refused, metadata URL included, so the
    # job's own error is the only report; nothing was fetched or written.
    result = run_job(pull_job(s3, bucket, presigner, SENTENCE.encode()), policy=PRODUCTION)
    assert "transcript_url points at a loopback address, allowed only for local runs" in result["error"]
    assert not has_object(s3, bucket, META_KEY)


def test_presigned_query_string_never_reaches_the_error_or_metadata(
    s3: Any, bucket: str, presigner: Presigner
) -> None:
    raw = pull_job(s3, bucket, presigner, None) | {
        "transcript_url": "https://evil.example.com/k.txt?X-Amz-Signature=abc"
    }
    result = run_job(raw)
    body = s3.get_object(Bucket=bucket, Key=META_KEY)["Body"].read().decode()
    for text in (result["error"], body):
        assert "X-Amz-Signature" not in text and "X-Amz-Credential" not in text


def test_missing_object_404_is_reported(s3: Any, bucket: str, presigner: Presigner) -> None:
    result = run_job(pull_job(s3, bucket, presigner, None, key="never-uploaded.txt"))
    assert_reported(result, metadata(s3, bucket), "HTTP 404", "download_failed")
    assert "does not exist" in result["error"]


@pytest.fixture
def proxied(moto_endpoint: str) -> Iterator[tuple[S3FaultProxy, Presigner]]:
    with S3FaultProxy(moto_endpoint) as proxy:
        yield proxy, Presigner(make_s3_client(REGION, proxy.endpoint, FAKE_CREDENTIALS), 3600)


def test_expired_url_403_is_reported_not_retried(s3: Any, bucket: str, proxied: Any) -> None:
    proxy, via_proxy = proxied
    proxy.inject("GET", Fault.http(403))  # what S3 answers for an expired signature
    result = run_job(pull_job(s3, bucket, via_proxy, SENTENCE.encode()))
    assert_reported(result, metadata(s3, bucket), "HTTP 403", "download_failed")
    assert "expired" in result["error"]
    assert proxy.statuses("GET") == ["injected 403"]


@pytest.mark.parametrize("status", [301, 307])
def test_redirect_is_not_followed(status: int, s3: Any, bucket: str, proxied: Any) -> None:
    proxy, via_proxy = proxied
    proxy.inject("GET", Fault.http(status))
    result = run_job(pull_job(s3, bucket, via_proxy, SENTENCE.encode()))
    assert_reported(
        result, metadata(s3, bucket), f"redirected ({status}); redirects are not followed", "download_failed"
    )


# ---- no process crashes ------------------------------------------------------------------------------
@pytest.mark.e2e
def test_a_real_worker_survives_a_run_of_bad_jobs_and_still_serves(
    s3: Any, bucket: str, presigner: Presigner, tmp_path: Path
) -> None:
    emulator = RunPodEmulator(poll_s=0.5).start()
    client = RunPodClient(emulator.endpoint_url, emulator.api_key)
    policy = {"executionTimeout": 60_000, "ttl": 600_000}
    bad = [
        {"text": SENTENCE, "transcript": "typo"},
        {"transcript_url": "file:///etc/passwd"},
        {"transcript_url": "https://169.254.169.254/latest/meta-data/"},
        {"text": "\x00\x01\x02 binary"},
        {"text": " \n "},
        {"options": {"max_tokens": -1}},
        pull_job(s3, bucket, presigner, None, key="missing.txt"),
    ]
    try:
        ids = [client.submit(raw, policy) for raw in bad]
        with worker_process(emulator, tmp_path / "worker.log") as worker:
            until(lambda: all(emulator.jobs[i].status == "FAILED" for i in ids), 60, "every bad job failing")
            good = client.submit({"text": SENTENCE * 3}, policy)
            until(lambda: emulator.jobs[good].status == "COMPLETED", 30, "the next good job completing")
            assert worker.poll() is None
        errors = [str(emulator.jobs[i].error) for i in ids]
        assert all(errors) and not any("internal error" in e for e in errors)
    finally:
        emulator.stop()
