"""The presigned-URL path against an S3 server that checks what moto does not: SigV4 signatures,
presigned-URL expiry and the signed Content-Type. nanio (pure Python, ~1 s to start) on 127.0.0.1;
moto stays for the S3 → SQS trigger, which nanio does not send.

The URLs are the dispatcher's own (`dispatcher.presign.Presigner` on a boto3 client pointed at
nanio), the worker is its own `JobRunner` with the real transfers: a job's download and both uploads
work as on AWS, and a tampered or expired URL ends as a clear error in the job's metadata.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

from dispatcher.presign import SUMMARY_CONTENT_TYPE, Presigner
from tests.support.jobs import pull_job, run_job
from tests.support.nanio import BUCKET

MEETING = b"""Alice: The scanners arrive on the third of May, so the inventory update must land by April.
Bob: If the update is late we run both systems in parallel for two weeks.
Alice: Agreed. Bob, please send the staffing plan for the parallel period by Friday.
"""


def _metadata(s3: Any, key: str) -> dict[str, Any]:
    stem = key.removesuffix(".txt")
    return json.loads(s3.get_object(Bucket=BUCKET, Key=f"summaries/{stem}_summary.json")["Body"].read())


def test_worker_downloads_and_uploads_with_the_dispatchers_presigned_urls_on_a_sigv4_server(
    signing_s3: Any,
) -> None:
    key = "incoming/signed.txt"
    signing_s3.put_object(Bucket=BUCKET, Key=key, Body=MEETING)
    result = run_job(pull_job(signing_s3, BUCKET, Presigner(signing_s3, expires_s=600), None, key))
    assert result["status"] == "ok", result
    meta = _metadata(signing_s3, key)
    assert meta["status"] == "ok" and meta["error"] is None
    summary = signing_s3.get_object(Bucket=BUCKET, Key="summaries/incoming/signed_summary.txt")
    assert summary["ContentType"] == SUMMARY_CONTENT_TYPE
    assert b"staffing plan" in summary["Body"].read()


def test_a_tampered_url_ends_as_a_clear_download_error_in_the_metadata(signing_s3: Any) -> None:
    key = "incoming/tampered.txt"
    signing_s3.put_object(Bucket=BUCKET, Key=key, Body=MEETING)
    job = pull_job(signing_s3, BUCKET, Presigner(signing_s3, expires_s=600), None, key)
    # Another object under the same signature: what an attacker who edits a URL would try.
    job["transcript_url"] = job["transcript_url"].replace("/tampered.txt?", "/other.txt?")
    result = run_job(job)
    meta = _metadata(signing_s3, key)
    assert meta["status"] == "error" and meta["error"]["code"] == "download_failed"
    assert "HTTP 403" in meta["error"]["message"]
    assert "signed for other headers" in meta["error"]["message"]
    assert "X-Amz-Signature" not in json.dumps(meta) + json.dumps(result)


def test_an_expired_url_ends_as_a_clear_download_error_in_the_metadata(signing_s3: Any) -> None:
    key = "incoming/expired.txt"
    signing_s3.put_object(Bucket=BUCKET, Key=key, Body=MEETING)
    job = pull_job(signing_s3, BUCKET, Presigner(signing_s3, expires_s=600), None, key)
    job["transcript_url"] = Presigner(signing_s3, expires_s=1).get(BUCKET, key)
    time.sleep(2.1)  # SigV4 expiry is in whole seconds
    run_job(job)
    meta = _metadata(signing_s3, key)
    assert meta["status"] == "error" and meta["error"]["code"] == "download_failed"
    assert "HTTP 403" in meta["error"]["message"] and "expired" in meta["error"]["message"]


def test_a_put_with_another_content_type_than_the_signed_one_is_refused(signing_s3: Any) -> None:
    url = Presigner(signing_s3, expires_s=600).put(BUCKET, "summaries/ct_summary.txt", SUMMARY_CONTENT_TYPE)

    def put(content_type: str) -> int:
        request = urllib.request.Request(
            url, data=b"summary", method="PUT", headers={"Content-Type": content_type}
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as exc:
            return exc.code

    assert put("application/octet-stream") == 403
    assert put(SUMMARY_CONTENT_TYPE) == 200
