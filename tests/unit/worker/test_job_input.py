"""The strict job input: unknown fields, both or neither of text and URL, bounds on options.

Each case asserts a clear error that names the field and, where a metadata PUT URL exists, that the
metadata file says `status: "error"` with the same message; the job is refused before any work.
"""

from __future__ import annotations

from typing import Any

import pytest

from dispatcher.presign import Presigner
from tests.support.jobs import SENTENCE, assert_reported, has_object, metadata, pull_job, run_job, with_meta

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
    result = run_job(with_meta(presigner, bucket, raw))
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
