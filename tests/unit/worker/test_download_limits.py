"""Downloads and uploads against servers that answer badly: dripped bodies and heads, partial content,
compressed bodies and bombs, malformed or cut answers, chunked trailers, redirects; and existing
metadata nested too deep.

Each shape asserts a clear error naming the problem and valid metadata (the job's metadata goes to
moto over HTTP), or a whole summary. The transcript comes from `devstack.faults.RawServer`.
"""

from __future__ import annotations

import gzip
import json
import logging
import time
import zlib
from typing import Any

import pytest

from devstack.faults import RawServer
from dispatcher.presign import Presigner
from tests.support.jobs import (
    META_KEY,
    SENTENCE,
    answer,
    assert_reported,
    has_object,
    metadata,
    pull_job,
    run_job,
    run_raw,
)
from tests.support.procs import scaled

TRANSCRIPT = (SENTENCE + "Bob: The confidential merger with Initech closes in March.\n") * 40


def test_a_body_dripped_a_byte_at_a_time_is_abandoned_at_the_download_deadline(
    s3: Any, bucket: str, presigner: Presigner
) -> None:
    body = TRANSCRIPT.encode()
    pieces = answer("200 OK", {"Content-Length": str(len(body))}, b"")[:1] + [bytes([b]) for b in body]
    with RawServer(lambda: pieces, pause_s=0.25) as server:
        tick = time.monotonic()
        result, meta = run_raw(server, s3, bucket, presigner, deadline_s=1.5)
    assert time.monotonic() - tick < 10
    assert_reported(result, meta, "download did not finish within its 1.5 s deadline", "download_failed")


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Range": "bytes 0-99/5000", "Content-Length": "100"},
        {"Content-Range": "bytes 0-99/*", "Content-Length": "100"},
    ],
    ids=["known_total", "unknown_total"],
)
def test_206_partial_content_is_refused_not_summarised_in_part(
    headers: dict[str, str], s3: Any, bucket: str, presigner: Presigner
) -> None:
    with RawServer(lambda: answer("206 Partial Content", headers, TRANSCRIPT.encode()[:100])) as server:
        result, meta = run_raw(server, s3, bucket, presigner)
    assert_reported(result, meta, "HTTP 206 (Partial Content: only part of the object)", "download_failed")
    assert not has_object(s3, bucket, "summaries/m_summary.txt")


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize(
    ("encoding", "pack"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", _raw_deflate),
        ("GZIP", gzip.compress),
    ],
    ids=["gzip", "x_gzip", "deflate_zlib", "deflate_raw", "upper_case"],
)
def test_compressed_transcript_is_decoded_and_summarised(
    encoding: str, pack: Any, s3: Any, bucket: str, presigner: Presigner
) -> None:
    body = pack(TRANSCRIPT.encode())
    headers = {"Content-Encoding": encoding, "Content-Length": str(len(body))}
    with RawServer(lambda: answer("200 OK", headers, body)) as server:
        result, meta = run_raw(server, s3, bucket, presigner)
    assert result["status"] == "ok", result
    assert meta["input"]["bytes"] == len(TRANSCRIPT.encode())


def test_gzip_bomb_stops_at_the_size_cap(s3: Any, bucket: str, presigner: Presigner) -> None:
    # 1 GB of "a" packs into ~1 MB; inflating it whole would take the worker down.
    packer = zlib.compressobj(wbits=zlib.MAX_WBITS | 16)
    block = b"a" * (1 << 20)
    bomb = b"".join(packer.compress(block) for _ in range(1024)) + packer.flush()
    headers = {"Content-Encoding": "gzip", "Content-Length": str(len(bomb))}
    with RawServer(lambda: answer("200 OK", headers, bomb)) as server:
        result, meta = run_raw(server, s3, bucket, presigner, max_bytes=4 << 20)
    assert_reported(result, meta, "transcript is over the 4194304-byte limit", "invalid_transcript")


@pytest.mark.parametrize(
    ("encoding", "body", "fragment"),
    [
        ("br", b"\x1b\x00\x00", "Content-Encoding 'br'; only gzip and deflate are decoded"),
        ("gzip, gzip", b"x", "Content-Encoding 'gzip, gzip'"),
        (
            "gzip",
            b"Alice: this is not gzip at all, it is the transcript itself.",
            "compressed body is corrupt",
        ),
    ],
    ids=["brotli", "stacked", "corrupt_gzip"],
)
def test_undecodable_content_encoding_is_named(
    encoding: str, body: bytes, fragment: str, s3: Any, bucket: str, presigner: Presigner
) -> None:
    headers = {"Content-Encoding": encoding, "Content-Length": str(len(body))}
    with RawServer(lambda: answer("200 OK", headers, body)) as server:
        result, meta = run_raw(server, s3, bucket, presigner)
    assert_reported(result, meta, fragment, "invalid_transcript")
    assert "transcript itself" not in result["error"]


MALFORMED = {
    # No status line: the transcript itself comes back where HTTP was expected.
    "not_http_at_all": lambda: [TRANSCRIPT.encode()],
    "bad_chunk_size": lambda: answer("200 OK", {"Transfer-Encoding": "chunked"}, TRANSCRIPT.encode()),
    "transcript_in_an_over_long_header": lambda: [
        b"HTTP/1.1 200 OK\r\nX-Junk: " + TRANSCRIPT.encode().replace(b"\n", b" ") * 3 + b"\r\n\r\n"
    ],
    "body_longer_than_declared_chunks": lambda: answer(
        "200 OK", {"Transfer-Encoding": "chunked"}, b"10\r\n" + TRANSCRIPT.encode()[:200] + b"\r\n0\r\n\r\n"
    ),
}


@pytest.mark.parametrize("pause_s", [0.0, 0.05], ids=["one_segment", "body_after_head"])
@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_response_fails_the_download_at_once_without_transcript_bytes(
    name: str, pause_s: float, s3: Any, bucket: str, presigner: Presigner, caplog: pytest.LogCaptureFixture
) -> None:
    """A response that is not valid HTTP ends the download as failed, never at its deadline.

    With the body arriving after the head, aiohttp's C parser used to close the connection on a bad
    chunk and leave the body stream waiting for ever (the job then waited out its 600 s deadline).
    """
    caplog.set_level(logging.DEBUG, logger="worker")
    with RawServer(MALFORMED[name], pause_s=pause_s) as server:
        result, meta = run_raw(server, s3, bucket, presigner, deadline_s=scaled(60))
    assert "deadline" not in result["error"], result["error"]
    assert_reported(result, meta, "failed", "download_failed")
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("worker"))
    for text in (result["error"], json.dumps(meta), logged):
        for words in ("Initech", "merger", "ship the export", "Alice", "secret"):
            assert words not in text, (words, text[:500])


# Round three: every redirect kind, successes that are not the whole object, servers that stop
# mid-answer or never answer, chunked bodies with trailers, slow answers to uploads and probes.
NOT_THE_OBJECT = {
    **{
        f"redirect_{code}": (
            f"{code} Moved",
            {"Location": "http://127.0.0.1:9/elsewhere", "Content-Length": "0"},
            b"",
            f"redirected ({code}); redirects are not followed",
        )
        for code in (300, 301, 302, 303, 304, 305, 307, 308)
    },
    "no_content_204": ("204 No Content", {}, b"", "HTTP 204 (not 200)"),
    "non_authoritative_203": ("203 Non-Authoritative Information", {}, TRANSCRIPT.encode(), "HTTP 203"),
    "switching_protocols_101": ("101 Switching Protocols", {"Upgrade": "h2c"}, b"", "HTTP 101"),
    # A 200 carrying a range was summarised as the whole object.
    "content_range_on_a_200": (
        "200 OK",
        {"Content-Range": "bytes 0-99/5000", "Content-Length": "100"},
        TRANSCRIPT.encode()[:100],
        "HTTP 200 with a Content-Range: only part of the object",
    ),
}


@pytest.mark.parametrize("name", NOT_THE_OBJECT)
def test_redirects_and_answers_that_are_not_the_whole_object_are_refused(
    name: str, s3: Any, bucket: str, presigner: Presigner
) -> None:
    status, headers, body, fragment = NOT_THE_OBJECT[name]
    with RawServer(lambda: answer(status, headers, body)) as server:
        result, meta = run_raw(server, s3, bucket, presigner)
    assert_reported(result, meta, fragment, "download_failed")
    assert server.requests == ["GET /bucket/t.txt"]  # never followed, never retried
    assert not has_object(s3, bucket, "summaries/m_summary.txt")


_HEAD = f"HTTP/1.1 200 OK\r\nContent-Length: {len(TRANSCRIPT.encode())}\r\n".encode()
CUT_SHORT = {
    "closed_mid_body": lambda: [_HEAD + b"\r\n", TRANSCRIPT.encode()[:700]],
    "closed_mid_chunk": lambda: [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"%x\r\n" % len(TRANSCRIPT.encode()) + TRANSCRIPT.encode()[:700],
    ],
    # ServerDisconnectedError's text is the partly parsed response: these headers came back whole.
    "closed_mid_headers": lambda: [_HEAD + b"X-Note: " + TRANSCRIPT.encode()[:700].replace(b"\n", b" ")],
    "closed_before_any_byte": lambda: [],
    "content_length_longer_than_the_body": lambda: answer(
        "200 OK", {"Content-Length": str(len(TRANSCRIPT.encode()) + 100)}, TRANSCRIPT.encode()
    ),
}


@pytest.mark.parametrize("name", CUT_SHORT)
def test_a_server_that_stops_mid_answer_fails_the_download_without_response_bytes(
    name: str, s3: Any, bucket: str, presigner: Presigner, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="worker")
    with RawServer(CUT_SHORT[name]) as server:
        result, meta = run_raw(server, s3, bucket, presigner, deadline_s=scaled(60))
    assert "deadline" not in result["error"]
    assert_reported(result, meta, "failed", "download_failed")
    assert 1 <= len(server.requests) <= 4  # attempts=2 (aiohttp itself retries a silent close once)
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("worker"))
    for text in (result["error"], json.dumps(meta), logged):
        assert "Initech" not in text and "ship the export" not in text, text[:500]


@pytest.mark.parametrize("trailer", [b"", b"X-Checksum: abc\r\nX-Other: 1\r\n"], ids=["plain", "trailers"])
def test_chunked_bodies_with_trailers_are_read_whole(
    trailer: bytes, s3: Any, bucket: str, presigner: Presigner
) -> None:
    body = TRANSCRIPT.encode()
    chunks = b"".join(
        b"%x\r\n%s\r\n" % (len(body[i : i + 333]), body[i : i + 333]) for i in range(0, len(body), 333)
    )
    head = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\nConnection: close\r\n\r\n"
    )
    with RawServer(lambda: [head, chunks, b"0\r\n" + trailer + b"\r\n"]) as server:
        result, meta = run_raw(server, s3, bucket, presigner)
    assert result["status"] == "ok", result
    assert meta["input"]["bytes"] == len(body)


def _silence() -> Any:
    """Accept the request, then say nothing (until the server is stopped)."""
    for _ in range(600):
        time.sleep(0.1)
        yield b""


def test_a_server_that_never_sends_headers_is_abandoned_at_the_download_deadline(
    s3: Any, bucket: str, presigner: Presigner
) -> None:
    with RawServer(_silence) as server:
        tick = time.monotonic()
        result, meta = run_raw(server, s3, bucket, presigner, deadline_s=1.5)
    assert time.monotonic() - tick < scaled(10)
    assert_reported(result, meta, "download did not finish within its 1.5 s deadline", "download_failed")


def test_a_summary_put_whose_answer_is_dripped_ends_at_the_deadline_with_metadata(
    s3: Any, bucket: str, presigner: Presigner
) -> None:
    """Only downloads had a total deadline: a PUT answered a byte every 0.25 s held the job for ever."""
    pieces = [b"HTTP/1.1 200 OK\r\nContent-Length: 400\r\n\r\n"] + [b"x"] * 400
    raw = pull_job(s3, bucket, presigner, TRANSCRIPT.encode())
    with RawServer(lambda: pieces, pause_s=0.25) as server:
        raw["summary_put_url"] = server.url("/bucket/summaries/m_summary.txt")

        tick = time.monotonic()
        result = run_job(raw, attempts=3, download_deadline_s=1.5)
    assert time.monotonic() - tick < scaled(15)
    assert_reported(result, metadata(s3, bucket), "upload of summary did not finish within", "upload_failed")


def test_existing_metadata_nested_too_deep_does_not_stop_the_job(
    s3: Any, bucket: str, presigner: Presigner
) -> None:
    """The duplicate check parsed the existing metadata with json.loads: RecursionError ended the job."""
    s3.put_object(Bucket=bucket, Key=META_KEY, Body=b"[" * 100_000 + b"]" * 100_000)
    raw = pull_job(s3, bucket, presigner, TRANSCRIPT.encode())
    raw["metadata_get_url"] = presigner.get(bucket, META_KEY)
    assert run_job(raw)["status"] == "ok"
    assert metadata(s3, bucket)["status"] == "ok"
