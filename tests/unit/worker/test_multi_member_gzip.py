"""Multi-member gzip bodies: every member is decoded, data after the last member is refused with the
reason, a body cut inside a later member is a truncated download, and a bomb spread over many
members stops at the size cap. Downloads come from a raw local server (`devstack.faults.RawServer`)
through the worker's JobRunner; metadata goes to moto over HTTP.
"""

from __future__ import annotations

import gzip
import zlib
from typing import Any

import pytest

from devstack.faults import RawServer
from dispatcher.presign import Presigner
from tests.support.jobs import answer, assert_reported, run_raw

LINES = [
    f"{'Alice' if i % 2 else 'Bob'}: Item {i} of the review: we decided to ship the export on day {i}.\n"
    for i in range(120)
]


WHOLE = "".join(LINES).encode()
HALF = len(LINES) // 2


def _members(*parts: bytes) -> bytes:
    return b"".join(gzip.compress(part) for part in parts)


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


# Bodies of several gzip members (RFC 1952 §2.2: "a gzip file consists of a series of members"),
# which gzip(1), Python's gzip module and S3 clients that compress in parts all write.
MEMBERS = {
    "two_members": _members("".join(LINES[:HALF]).encode(), "".join(LINES[HALF:]).encode()),
    "a_member_per_line": _members(*(line.encode() for line in LINES)),
    "an_empty_member_between": _members("".join(LINES[:HALF]).encode(), b"", "".join(LINES[HALF:]).encode()),
    "an_empty_member_first": _members(b"", WHOLE),
    "an_empty_member_last": _members(WHOLE, b""),
    # Python's gzip module reads NUL padding between and after members as nothing.
    "zero_padding_after_the_last_member": _members(WHOLE[:100], WHOLE[100:]) + b"\x00" * 16,
}


def _pieces(body: bytes, size: int) -> list[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)]


@pytest.mark.parametrize("piece", [0, 7], ids=["one_piece", "seven_byte_pieces"])
@pytest.mark.parametrize("name", MEMBERS)
def test_every_member_of_a_multi_member_gzip_body_is_decoded(
    name: str, piece: int, s3: Any, bucket: str, presigner: Presigner
) -> None:
    """Only the first member was decoded: the rest of the transcript was dropped with `status: ok`."""
    body = MEMBERS[name]
    head = answer("200 OK", {"Content-Encoding": "gzip", "Content-Length": str(len(body))}, b"")[0]
    pieces = [head, *(_pieces(body, piece) if piece else [body])]
    with RawServer(lambda: pieces, pause_s=0.001 if piece else 0.0) as server:
        result, meta = run_raw(server, s3, bucket, presigner)
    assert result["status"] == "ok", result
    assert meta["schema"] == 1 and meta["status"] == "ok"
    assert meta["input"]["bytes"] == len(WHOLE)
    assert meta["input"]["utterances"] == len(LINES)


NOT_A_MEMBER = {
    "text_after_a_member": (
        gzip.compress(WHOLE) + b"Alice: this is not gzip at all, it is the transcript itself.",
        "gzip",
        "not a gzip member",
    ),
    "zip_after_a_member": (gzip.compress(WHOLE) + b"PK\x03\x04" + b"\x00" * 40, "gzip", "not a gzip member"),
    "garbage_between_members": (
        gzip.compress(WHOLE[:100]) + b"\xff\xfe garbage" + gzip.compress(WHOLE[100:]),
        "gzip",
        "not a gzip member",
    ),
    "a_corrupt_second_member": (
        gzip.compress(WHOLE[:100]) + gzip.compress(WHOLE[100:])[:10] + b"\xff" * 64,
        "gzip",
        "compressed body is corrupt",
    ),
    "data_after_a_deflate_stream": (
        zlib.compress(WHOLE) + b"Alice: this is not deflate, it is the transcript itself.",
        "deflate",
        "data after the end of the deflate stream",
    ),
    "data_after_a_raw_deflate_stream": (
        _raw_deflate(WHOLE) + b"Alice: this is not deflate, it is the transcript itself.",
        "deflate",
        "data after the end of the deflate stream",
    ),
}


@pytest.mark.parametrize("name", NOT_A_MEMBER)
def test_data_after_the_last_compressed_member_is_refused_with_the_reason(
    name: str, s3: Any, bucket: str, presigner: Presigner
) -> None:
    body, encoding, fragment = NOT_A_MEMBER[name]
    headers = {"Content-Encoding": encoding, "Content-Length": str(len(body))}
    with RawServer(lambda: answer("200 OK", headers, body)) as server:
        result, meta = run_raw(server, s3, bucket, presigner)
    assert_reported(result, meta, fragment, "invalid_transcript")
    assert meta["schema"] == 1
    assert "transcript itself" not in result["error"]


def test_a_body_cut_inside_a_later_member_is_a_truncated_download(
    s3: Any, bucket: str, presigner: Presigner
) -> None:
    second = gzip.compress(WHOLE[100:])
    body = gzip.compress(WHOLE[:100]) + second[: len(second) // 2]
    headers = {"Content-Encoding": "gzip", "Content-Length": str(len(body))}
    with RawServer(lambda: answer("200 OK", headers, body)) as server:
        result, meta = run_raw(server, s3, bucket, presigner)
    assert_reported(result, meta, "the compressed body ends early", "download_failed")


def test_a_bomb_spread_over_many_members_stops_at_the_size_cap(
    s3: Any, bucket: str, presigner: Presigner
) -> None:
    # 64 members of 1 MB of "a" each (~1 KB packed): the cap counts every member's output.
    body = _members(*[b"a" * (1 << 20)] * 64)
    headers = {"Content-Encoding": "gzip", "Content-Length": str(len(body))}
    with RawServer(lambda: answer("200 OK", headers, body)) as server:
        result, meta = run_raw(server, s3, bucket, presigner, max_bytes=4 << 20)
    assert_reported(result, meta, "transcript is over the 4194304-byte limit", "invalid_transcript")
