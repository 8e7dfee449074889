"""Keys with dot segments (`notes/../q3.txt`, `./a.txt`, `%2e%2e/`): the dispatcher presigns the key
exactly as S3 named it, so the job reads its own object and writes its own outputs, never the object
a normalised path would reach. Through the dispatcher against the RunPod emulator and moto over HTTP.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from devstack.cloud import FAKE_CREDENTIALS, REGION
from devstack.faults import RawServer
from devstack.runpod_emulator import RunPodEmulator
from dispatcher.app import Dispatcher
from dispatcher.presign import Presigner, make_s3_client
from tests.support.dispatch import DispatcherEnv, uploaded
from tests.support.jobs import SENTENCE, answer, has_object, metadata, run_job
from worker.job import METADATA_CONTENT_TYPE, SUMMARY_CONTENT_TYPE


@pytest.fixture
def dispatcher(dispatcher_env: DispatcherEnv) -> Dispatcher:
    return Dispatcher.from_env(dispatcher_env(RUNPOD_ATTEMPTS="2"))


TRANSCRIPT = (SENTENCE + "Bob: The confidential merger with Initech closes in March.\n") * 40


DOT_KEYS = {
    "parent_segment": ("notes/../q3.txt", "q3.txt"),
    "leading_dot_segment": ("./a.txt", "a.txt"),
    "inner_dot_segment": ("a/./b.txt", "a/b.txt"),
    "leading_parent_segment": ("../q3.txt", "q3.txt"),
    "percent_encoded_dots": ("%2e%2e/q3.txt", "q3.txt"),
    "trailing_dots_folder": ("notes/../../q3.txt", "q3.txt"),
    # Round three.
    "double_slash": ("a//b.txt", "a/b.txt"),
    "leading_double_slash": ("//q3.txt", "q3.txt"),
    "two_parents_in_turn": ("a/b/../../q3.txt", "q3.txt"),
    "parent_then_folder": ("a/../b/../q3.txt", "q3.txt"),
    "encoded_slash": ("notes%2F..%2Fq3.txt", "q3.txt"),
    "backslash_parent": ("notes\\..\\q3.txt", "q3.txt"),
    "three_dots_folder": (".../q3.txt", "q3.txt"),
}


@pytest.mark.parametrize("name", DOT_KEYS)
def test_key_with_dot_segments_gets_its_own_transcript_and_its_own_outputs(
    name: str,
    s3: Any,
    bucket: str,
    dispatcher: Dispatcher,
    emulator: RunPodEmulator,
) -> None:
    key, lookalike = DOT_KEYS[name]
    # The object a normalised URL would reach holds other words: they must never be summarised.
    s3.put_object(
        Bucket=bucket, Key=lookalike, Body=b"Mallory: Transfer the payroll to the offshore account now.\n"
    )
    result = dispatcher.run(uploaded(s3, bucket, key, SENTENCE.encode()))
    assert [d["key"] for d in result["dispatched"]] == [key]
    (job,) = emulator.jobs.values()
    assert run_job(job.input)["status"] == "ok"
    stem = key.removesuffix(".txt")
    summary = s3.get_object(Bucket=bucket, Key=f"summaries/{stem}_summary.txt")["Body"].read().decode()
    assert "ship the export on Friday" in summary and "payroll" not in summary
    assert metadata(s3, bucket, f"summaries/{stem}_summary.json")["source"]["key"] == key
    # Nothing was written at the normalised look-alike's output keys.
    other = lookalike.removesuffix(".txt")
    assert not has_object(s3, bucket, f"summaries/{other}_summary.txt")
    assert not has_object(s3, bucket, f"summaries/{other}_summary.json")
    assert s3.get_object(Bucket=bucket, Key=lookalike)["Body"].read().startswith(b"Mallory")


SIGNED_KEYS = [
    "a/b/..",
    "a/./b.txt",
    "./a.txt",
    "a//b.txt",
    "//a.txt",
    "a.txt.",
    "a?b.txt",
    "a#b.txt",
    "a+b c.txt",
    "%2e%2e/q.txt",
    "a%2Fb.txt",
    "ünï cödé/会议.txt",
    "a;b&c=d.txt",
    "a\\..\\b.txt",
    "a\tb\nc.txt",
    "a*b'(c)~.txt",
    "a/b/../../../etc/passwd",
]


@pytest.mark.parametrize("key", SIGNED_KEYS)
def test_every_request_path_is_the_presigned_path_byte_for_byte(key: str) -> None:
    """The dispatcher's presigned GET and PUTs, requested by the worker's own HTTP client against
    a server that records each request line: nothing resolved, re-quoted or decoded on the way."""
    body = TRANSCRIPT.encode()

    def respond() -> list[bytes]:
        if server.requests[-1].startswith("GET"):
            return answer("200 OK", {"Content-Length": str(len(body))}, body)
        return answer("200 OK", {"Content-Length": "0"}, b"")

    with RawServer(respond) as server:
        endpoint = server.url("").split("?")[0]
        presigner = Presigner(make_s3_client(REGION, endpoint, FAKE_CREDENTIALS), 600)
        raw: dict[str, Any] = {
            "transcript_url": presigner.get("bkt", key),
            "summary_put_url": presigner.put("bkt", f"summaries/{key}_summary.txt", SUMMARY_CONTENT_TYPE),
            "metadata_put_url": presigner.put("bkt", f"summaries/{key}_summary.json", METADATA_CONTENT_TYPE),
            "source": {"bucket": "bkt", "key": key},
        }
        assert run_job(raw)["status"] == "ok"
    # RawServer records each request line up to its query string.
    signed = [
        f"{method} {urlsplit(raw[name]).path}"
        for method, name in (
            ("GET", "transcript_url"),
            ("PUT", "summary_put_url"),
            ("PUT", "metadata_put_url"),
        )
    ]
    assert server.requests == signed
