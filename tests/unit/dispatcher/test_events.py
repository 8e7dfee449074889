"""S3 event parsing and key rules: the traps of docs/ARCHITECTURE.md that live in pure code."""

from __future__ import annotations

import pytest

from dispatcher.events import output_keys, parse_event, skip_reason
from tests.support.paths import load_event


def test_object_key_is_url_decoded() -> None:
    # S3 encodes a space as "+", and "+" itself as "%2B": unquote_plus, not unquote.
    parsed = parse_event(load_event("s3_put_encoded_key.json"))
    assert [o.key for o in parsed.objects] == ["team notes/Q4 (final)+v2 café.txt"]


def test_every_record_of_an_event_is_handled() -> None:
    parsed = parse_event(load_event("s3_put_many_records.json"))
    assert [o.key for o in parsed.objects] == ["a.txt", "folder/b.txt", "c d.txt"]
    assert [o.sequencer for o in parsed.objects] == ["01", "02", "03"]


def test_version_etag_and_size_are_kept_for_the_upload_identity_and_metadata() -> None:
    (obj,) = parse_event(load_event("s3_put.json")).objects
    assert obj.bucket == "meetings-bucket"
    assert obj.version_id == "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"
    assert obj.etag == "0123456789abcdef0123456789abcdef"
    assert obj.size == 1024


def test_unversioned_bucket_has_no_version_id() -> None:
    (obj,) = parse_event(load_event("s3_put_unversioned.json")).objects
    assert obj.version_id is None


def test_s3_test_event_is_ignored_with_a_reason() -> None:
    parsed = parse_event(load_event("s3_test_event.json"))
    assert parsed.objects == []
    assert "s3:TestEvent" in parsed.skipped[0].reason


@pytest.mark.parametrize(
    "event", [None, "text", [], {}, {"detail-type": "Scheduled Event"}, {"Records": "x"}]
)
def test_non_s3_event_is_ignored(event: object) -> None:
    parsed = parse_event(event)
    assert parsed.objects == []
    assert "not an S3 event" in parsed.skipped[0].reason


def test_delete_record_is_not_dispatched() -> None:
    parsed = parse_event(load_event("s3_delete.json"))
    assert parsed.objects == []
    assert "not an upload" in parsed.skipped[0].reason


def test_record_missing_fields_is_skipped_and_others_still_handled() -> None:
    event = load_event("s3_put_many_records.json")
    del event["Records"][1]["s3"]["object"]["key"]
    parsed = parse_event(event)
    assert [o.key for o in parsed.objects] == ["a.txt", "c d.txt"]
    assert "record 1: missing" in parsed.skipped[0].reason


def test_summary_prefix_does_not_retrigger() -> None:
    # The worker's writes go through presigned URLs: AWS loop detection cannot see them.
    for obj in parse_event(load_event("s3_put_summary_output.json")).objects:
        assert skip_reason(obj.key, "summaries/", ".txt", "_summary") is not None


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("notes.md", "does not end in '.txt'"),
        ("MEETING.TXT", "does not end in '.txt'"),
        ("elsewhere/x_summary.txt", "looks like a summary"),
        ("summaries/x.txt", "under the output prefix"),
    ],
)
def test_keys_that_must_not_be_summarised(key: str, reason: str) -> None:
    assert reason in (skip_reason(key, "summaries/", ".txt", "_summary") or "")


@pytest.mark.parametrize(
    ("key", "summary", "metadata"),
    [
        ("session1.txt", "summaries/session1_summary.txt", "summaries/session1_summary.json"),
        ("a/b/c.txt", "summaries/a/b/c_summary.txt", "summaries/a/b/c_summary.json"),
        ("x.txt.txt", "summaries/x.txt_summary.txt", "summaries/x.txt_summary.json"),
        (
            "team notes (1)+.txt",
            "summaries/team notes (1)+_summary.txt",
            "summaries/team notes (1)+_summary.json",
        ),
    ],
)
def test_output_keys_follow_the_seed(key: str, summary: str, metadata: str) -> None:
    assert output_keys(key, "summaries/", ".txt", "_summary") == (summary, metadata)


def test_eventbridge_object_created_event_is_understood() -> None:
    import json

    from dispatcher.events import parse_event
    from tests.support.paths import EVENTS

    event = json.loads((EVENTS / "eventbridge_object_created.json").read_text())
    parsed = parse_event(event)
    assert parsed.skipped == []
    (ref,) = parsed.objects
    assert ref.bucket == "team-transcripts"
    # EventBridge does not URL-encode keys: a '+' stays a '+', a space stays a space.
    assert ref.key == "incoming/weekly sync 2026-11-30T13:09+plan.txt"
    assert ref.version_id == "uhggCJ2_B6gU2JaXWXebnXFDstO0ID6G"
    assert ref.etag == "4af981f98d22a0b9979da24b259e5e42" and ref.size == 1841
    assert ref.sequencer == "0064D3901D00059242"


def test_eventbridge_event_other_than_object_created_is_skipped() -> None:
    import json

    from dispatcher.events import parse_event
    from tests.support.paths import EVENTS

    event = json.loads((EVENTS / "eventbridge_object_created.json").read_text())
    event["detail-type"] = "Object Deleted"
    parsed = parse_event(event)
    assert parsed.objects == [] and "Object Deleted" in parsed.skipped[0].reason


SUFFIXES = (".txt", ".vtt", ".srt", ".json")


@pytest.mark.parametrize(
    ("key", "summary"),
    [
        ("a/b/c.txt", "summaries/a/b/c_summary.txt"),  # the seed's rule, unchanged
        ("call.vtt", "summaries/call_summary.vtt.txt"),
        ("call.srt", "summaries/call_summary.srt.txt"),
        ("call.json", "summaries/call_summary.json.txt"),
        ("call.vtt.txt", "summaries/call.vtt_summary.txt"),
    ],
)
def test_new_formats_keep_their_extension_in_the_output_key(key: str, summary: str) -> None:
    assert output_keys(key, "summaries/", SUFFIXES, "_summary")[0] == summary


def test_no_two_inputs_of_one_folder_share_an_output_key() -> None:
    names = ["call", "call.vtt", "call_summary", "call.txt", "call.json", "x.srt", "x"]
    keys = [n + s for n in names for s in SUFFIXES]
    outputs = [k for key in keys for k in output_keys(key, "summaries/", SUFFIXES, "_summary")]
    assert len(outputs) == len(set(outputs))


@pytest.mark.parametrize("key", ["a/call_summary.vtt.txt", "call_summary.vtt", "call_summary.json.json"])
def test_summaries_of_new_formats_do_not_retrigger(key: str) -> None:
    assert skip_reason(key, "summaries/", SUFFIXES, "_summary") is not None
