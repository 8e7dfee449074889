"""Presigned GET/PUT against moto's S3 over HTTP, and the URL allow-list."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from dispatcher.presign import Presigner
from worker.errors import DownloadError, TranscriptError, UrlNotAllowedError
from worker.job import SUMMARY_CONTENT_TYPE
from worker.transfer import Transfers, UrlPolicy, as_signed, redact

LOCAL = UrlPolicy(allow_loopback=True)
PRODUCTION = UrlPolicy()


def _transfers(policy: UrlPolicy = LOCAL) -> Transfers:
    return Transfers(policy, timeout_s=5, attempts=2, backoff_s=0.01)


async def _download(url: str, max_bytes: int = 1 << 20) -> bytes:
    transfers = _transfers()
    try:
        return await transfers.download(url, max_bytes)
    finally:
        await transfers.aclose()


def test_download_and_upload_through_presigned_urls(s3: Any, bucket: str, presigner: Presigner) -> None:
    s3.put_object(Bucket=bucket, Key="in.txt", Body=b"Alice: hi")

    async def go() -> bytes:
        transfers = _transfers()
        try:
            data = await transfers.download(presigner.get(bucket, "in.txt"), 1 << 20)
            put = presigner.put(bucket, "summaries/in_summary.txt", SUMMARY_CONTENT_TYPE)
            await transfers.upload(put, "résumé".encode(), SUMMARY_CONTENT_TYPE, "summary")
            return data
        finally:
            await transfers.aclose()

    assert asyncio.run(go()) == b"Alice: hi"
    stored = s3.get_object(Bucket=bucket, Key="summaries/in_summary.txt")
    assert stored["Body"].read().decode() == "résumé"
    assert stored["ContentType"] == SUMMARY_CONTENT_TYPE


def test_size_cap_is_enforced_before_reading(s3: Any, bucket: str, presigner: Presigner) -> None:
    s3.put_object(Bucket=bucket, Key="big.txt", Body=b"x" * 5000)
    with pytest.raises(TranscriptError, match="5000 bytes, over the 1000-byte limit"):
        asyncio.run(_download(presigner.get(bucket, "big.txt"), max_bytes=1000))


def test_missing_object_is_a_clear_404(bucket: str, presigner: Presigner) -> None:
    with pytest.raises(DownloadError, match=r"HTTP 404.*does not exist"):
        asyncio.run(_download(presigner.get(bucket, "gone.txt")))


def test_error_messages_never_carry_the_query_string(bucket: str, presigner: Presigner) -> None:
    with pytest.raises(DownloadError) as info:
        asyncio.run(_download(presigner.get(bucket, "gone.txt")))
    assert "X-Amz-" not in str(info.value)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "must be https"),
        ("ftp://bucket.s3.amazonaws.com/x", "must be https"),
        ("http://bucket.s3.us-east-1.amazonaws.com/x.txt?X-Amz-Signature=s", "must be https, got http"),
        ("https://169.254.169.254/latest/meta-data/", "link-local/metadata IP"),
        ("https://10.0.0.5/x", "private IP"),
        ("https://127.0.0.1:9000/b/x.txt", "loopback"),
        ("https://localhost/b/x.txt", "loopback"),
        ("https://evil.example.com/x.txt", "not an S3 endpoint"),
        ("https://amazonaws.com.evil.net/x", "not an S3 endpoint"),
        ("https://user:pw@bucket.s3.amazonaws.com/x", "credentials"),
        ("https:///nohost", "no host"),
    ],
)
def test_production_policy_refuses_urls_outside_the_allow_list(url: str, message: str) -> None:
    with pytest.raises(UrlNotAllowedError, match=message):
        PRODUCTION.check(url, "transcript_url")


def test_production_policy_accepts_regional_s3_urls() -> None:
    PRODUCTION.check("https://b.s3.eu-west-1.amazonaws.com/k.txt?X-Amz-Signature=abc", "transcript_url")


@pytest.mark.parametrize(
    "host",
    [
        "s3.amazonaws.com",
        "s3.eu-west-1.amazonaws.com",
        "s3-eu-west-1.amazonaws.com",
        "s3.us-gov-west-1.amazonaws.com",
        "my-bucket.s3.amazonaws.com",
        "my-bucket.s3.ap-southeast-2.amazonaws.com",
        "my.dotted.bucket.s3.eu-central-1.amazonaws.com",
        "my-bucket.s3-us-west-2.amazonaws.com",
        "s3.dualstack.us-east-1.amazonaws.com",
        "my-bucket.s3.dualstack.eu-west-1.amazonaws.com",
        "s3.cn-north-1.amazonaws.com.cn",
        "my-bucket.s3.cn-northwest-1.amazonaws.com.cn",
        "MY-BUCKET.S3.EU-WEST-1.AMAZONAWS.COM",
    ],
)
def test_allow_list_admits_s3_endpoint_hostnames(host: str) -> None:
    PRODUCTION.check(f"https://{host}/k.txt?X-Amz-Signature=abc", "transcript_url")
    PRODUCTION.check(f"https://{host}:443/k.txt", "transcript_url")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://abc123.execute-api.us-east-1.amazonaws.com/prod/x", "not an S3 endpoint"),
        ("https://abc.lambda-url.us-east-1.on.aws/x", "not an S3 endpoint"),
        ("https://sqs.us-east-1.amazonaws.com/123/q", "not an S3 endpoint"),
        ("https://ec2.amazonaws.com/x", "not an S3 endpoint"),
        ("https://my-bucket.s3-website-us-east-1.amazonaws.com/x", "not an S3 endpoint"),
        ("https://evil.amazonaws.com/x", "not an S3 endpoint"),
        ("https://s3.amazonaws.com.evil.io/x", "not an S3 endpoint"),
        ("https://b.s3.eu-west-1.amazonaws.com:8443/k.txt", "port 8443 is not allowed"),
        ("https://b.s3.eu-west-1.amazonaws.com:80/k.txt", "port 80 is not allowed"),
        ("https://b.s3.eu-west-1.amazonaws.com:99999/k.txt", "not a valid URL"),
        ("https://user@b.s3.eu-west-1.amazonaws.com/k.txt", "credentials"),
        ("https://b.s3.amazonaws.com@evil.example.com/k.txt", "credentials"),
        ("https://b.s3.eu-west-1.amazonaws.com./k.txt", "ends with a dot"),
    ],
)
def test_allow_list_refuses_other_aws_services_ports_userinfo_and_trailing_dots(
    url: str, message: str
) -> None:
    with pytest.raises(UrlNotAllowedError, match=message) as info:
        PRODUCTION.check(url, "transcript_url")
    assert "X-Amz" not in str(info.value)


def test_configured_allowed_hosts_are_suffix_rules_on_any_port() -> None:
    policy = UrlPolicy(allowed_hosts=(".storage.example.com",))
    policy.check("https://eu.storage.example.com:8443/k.txt", "transcript_url")
    with pytest.raises(UrlNotAllowedError, match="not in the allow-list"):
        policy.check("https://b.s3.eu-west-1.amazonaws.com/k.txt", "transcript_url")


def test_redact_drops_query_and_userinfo() -> None:
    assert redact("https://u:p@h.example/a%20b.txt?X-Amz-Signature=s#f") == "https://h.example/a%20b.txt"


# ---- round three (issue 13): host shapes that parse one way here and another in the client ----
HOSTILE_HOSTS = [
    "https://s3.amazonaws.com.evil.com/k",
    "https://evil.com#.s3.amazonaws.com/k",
    "https://evil.com?.s3.amazonaws.com/k",
    "https://evil.com\\.s3.amazonaws.com/k",
    "https://evil.com\\@b.s3.amazonaws.com/k",
    "https://b.s3.amazonaws.com\\@evil.com/k",
    "https://b.s3.amazonaws.com%2eevil.com/k",
    "https://b.s3.amazonaws.com\u3002evil.com/k",
    "https://b.s3.amazonaws.com\n.evil.com/k",
    # `\d` took Arabic-Indic digits: admitted here, then the client failed to encode the host.
    "https://s3.us-east-\u0661.amazonaws.com/k",
    "https://b.s3.eu-west-\u0661.amazonaws.com/k",
    "https://b\u0131cket.s3.amazonaws.com/k",
    "https://[::1]/k",
    "https://[::ffff:169.254.169.254]/k",
    "https://[0:0:0:0:0:ffff:7f00:1]/k",
    "https://[::]/k",
    "https://2130706433/k",
    "https://0177.0.0.1/k",
    "https://0x7f.0.0.1/k",
    "https://127.1/k",
    "https://0.0.0.0/k",
    "https://169.254.169.254/latest/meta-data/",
    "https://localhost./k",
    "https://b.s3.amazonaws.com:443:80/k",
    "https://b.s3.amazonaws.com:0/k",
    "https:///b.s3.amazonaws.com/k",
    "https:b.s3.amazonaws.com/k",
    "ftp://b.s3.amazonaws.com/k",
    "http://b.s3.amazonaws.com/k",
    "https://b.s3.amazon\taws.com/k",
]


@pytest.mark.parametrize(
    "path",
    ["/ünï.txt", "/a b.txt", "/a\r\nX-Evil: 1\r\n.txt", "/a\x00b", "/a\ud800b", "/a\x7f", "/\u2028", "/a\tb"],
    ids=["non_ascii", "space", "crlf", "nul", "lone_surrogate", "delete", "line_separator", "tab"],
)
def test_a_url_that_cannot_be_sent_as_signed_is_refused_before_connecting(path: str) -> None:
    """The client sent raw UTF-8 and spaces in the request line, dropped a lone surrogate (another
    path than signed) and raised ValueError on NUL: a presigned URL is percent-encoded ASCII."""
    for policy in (PRODUCTION, UrlPolicy(allow_loopback=True)):
        for host in ("b.s3.amazonaws.com", "127.0.0.1:9"):
            with pytest.raises(UrlNotAllowedError, match="percent-encoded printable ASCII") as info:
                policy.check(f"https://{host}{path}?X-Amz-Signature=secret", "transcript_url")
            assert "secret" not in str(info.value)


@pytest.mark.parametrize("url", HOSTILE_HOSTS)
@pytest.mark.parametrize("configured", [False, True], ids=["s3_only", "configured_suffix"])
def test_allow_list_refuses_look_alike_ip_and_malformed_hosts(url: str, configured: bool) -> None:
    policy = UrlPolicy(allowed_hosts=("s3.amazonaws.com",)) if configured else PRODUCTION
    with pytest.raises(UrlNotAllowedError):
        policy.check(url + "?X-Amz-Signature=secret", "transcript_url")


ADMITTED = [
    "https://b.s3.amazonaws.com/k",
    "https://B.S3.AMAZONAWS.COM/k",
    "https://b.s3.amazonaws.com:443/k",
    "https://b.s3.amazonaws.com:0443/k",
    "https://b.s3.amazonaws.com:/k",
    "HTTPS://b.s3.eu-west-1.amazonaws.com/k",
    "https://b.s3-fips.us-east-1.amazonaws.com/k",
]


@pytest.mark.parametrize("url", ADMITTED)
def test_what_the_allow_list_admits_is_the_host_and_port_the_client_connects_to(url: str) -> None:
    PRODUCTION.check(url, "transcript_url")
    target = as_signed(url)
    assert target.port == 443
    PRODUCTION.check(f"https://{target.host}/k", "transcript_url")
