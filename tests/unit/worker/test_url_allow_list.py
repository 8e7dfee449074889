"""Job URLs the worker refuses or reports: schemes, hosts, instance metadata, credentials, redirects,
expired signatures and missing objects.

Each case asserts a clear error that names the problem and, where a metadata PUT URL exists, that
the metadata file says `status: "error"` with the same message. Jobs run through the worker's
JobRunner against moto over HTTP (through `devstack.faults.S3FaultProxy` where S3 must misbehave).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from devstack.cloud import FAKE_CREDENTIALS, REGION
from devstack.faults import Fault, S3FaultProxy
from dispatcher.presign import Presigner, make_s3_client
from tests.support.jobs import META_KEY, SENTENCE, assert_reported, has_object, metadata, pull_job, run_job
from worker.transfer import UrlPolicy

PRODUCTION = UrlPolicy()


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
    meta = metadata(s3, bucket, "summaries/never-uploaded_summary.json")
    assert_reported(result, meta, "HTTP 404", "download_failed")
    assert "does not exist" in result["error"]


@pytest.fixture
def proxied(moto_endpoint: str) -> Iterator[tuple[S3FaultProxy, Presigner]]:
    with S3FaultProxy(moto_endpoint) as proxy:
        yield proxy, Presigner(make_s3_client(REGION, proxy.endpoint, FAKE_CREDENTIALS), 3600)


def test_expired_url_403_is_reported_not_retried(
    s3: Any, bucket: str, presigner: Presigner, proxied: Any
) -> None:
    proxy, via_proxy = proxied
    proxy.inject("GET", Fault.http(403))  # what S3 answers for an expired signature
    # Only the transcript comes through the proxy (the freshness checks go to moto directly).
    job = pull_job(s3, bucket, presigner, SENTENCE.encode())
    result = run_job(job | {"transcript_url": via_proxy.get(bucket, "m.txt")})
    assert_reported(result, metadata(s3, bucket), "HTTP 403", "download_failed")
    assert "expired" in result["error"]
    assert proxy.statuses("GET") == ["injected 403"]


@pytest.mark.parametrize("status", [301, 307])
def test_redirect_is_not_followed(
    status: int, s3: Any, bucket: str, presigner: Presigner, proxied: Any
) -> None:
    proxy, via_proxy = proxied
    proxy.inject("GET", Fault.http(status))
    # Only the transcript comes through the proxy (the freshness checks go to moto directly).
    job = pull_job(s3, bucket, presigner, SENTENCE.encode())
    result = run_job(job | {"transcript_url": via_proxy.get(bucket, "m.txt")})
    assert_reported(
        result, metadata(s3, bucket), f"redirected ({status}); redirects are not followed", "download_failed"
    )
