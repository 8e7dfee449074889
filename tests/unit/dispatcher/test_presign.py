"""Presigned URLs: SigV4 and the bucket's regional, virtual-hosted host (boto3 1.44 defaults to
SigV2 and the global host), the signed Content-Type of PUTs, and a pinned object version."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from dispatcher.presign import SUMMARY_CONTENT_TYPE, Presigner, make_s3_client

CREDS = {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"}


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_presigned_get_is_sigv4_on_the_regional_virtual_host() -> None:
    presigner = Presigner(make_s3_client("eu-west-1", env=CREDS), expires_s=7500)
    url = presigner.get("meetings-bucket", "team notes/q4.txt")
    parts = urlsplit(url)
    assert parts.scheme == "https"
    assert parts.hostname == "meetings-bucket.s3.eu-west-1.amazonaws.com"
    assert parts.path == "/team%20notes/q4.txt"
    query = _query(url)
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["X-Amz-Expires"] == "7500"
    assert "/eu-west-1/s3/aws4_request" in query["X-Amz-Credential"]
    assert "Signature" not in query  # the SigV2 parameter


def test_presigned_put_signs_the_content_type() -> None:
    url = Presigner(make_s3_client("us-east-1", env=CREDS), 60).put(
        "b", "summaries/x.txt", SUMMARY_CONTENT_TYPE
    )
    assert "content-type" in _query(url)["X-Amz-SignedHeaders"].split(";")


def test_presigned_get_pins_the_version() -> None:
    url = Presigner(make_s3_client("us-east-1", env=CREDS), 60).get("b", "x.txt", version_id="v123")
    assert _query(url)["versionId"] == "v123"


def test_ip_endpoint_falls_back_to_path_style() -> None:
    url = Presigner(make_s3_client("us-east-1", "http://127.0.0.1:5000", CREDS), 60).get("b", "x.txt")
    assert url.startswith("http://127.0.0.1:5000/b/x.txt?")
