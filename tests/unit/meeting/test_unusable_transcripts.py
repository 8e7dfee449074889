"""Transcript files that hold no meeting (empty, binary, labels only, no words) or too much, case by case.

Each case asserts a clear error that names the problem and that the metadata file says
`status: "error"` with the same message. Jobs run through the worker's JobRunner against moto over HTTP.
"""

from __future__ import annotations

import codecs
from typing import Any

import pytest

from dispatcher.presign import Presigner
from tests.support.jobs import SENTENCE, assert_reported, has_object, metadata, pull_job, run_job
from worker.settings import WorkerSettings

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
    result = run_job(
        pull_job(s3, bucket, presigner, SENTENCE.encode() * 100),
        settings=WorkerSettings(allow_loopback_urls=True, max_transcript_bytes=1000),
    )
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
