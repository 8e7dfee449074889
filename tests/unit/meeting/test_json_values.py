"""JSON transcripts with odd values (issue 21, class 4): non-finite, negative or absurd times;
nesting deeper than the parser goes; fields of the wrong type.

A bad time is dropped and its turn kept (untimed, never a 300-digit clock); a document nested too
deep or a field of the wrong type is refused as `invalid_transcript` naming the field, with valid
metadata, never `internal_error`. Documents are the real exports in tests/transcripts
(whisperx.json, whisper_cpp.json, whisper.jsonl, aws_transcribe.json) with one value changed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from dispatcher.presign import Presigner
from tests.support.jobs import summarise
from tests.support.paths import fixture, fixture_json
from worker.errors import TranscriptError
from worker.meeting import decode, parse_transcript

Doc = dict[str, Any]
# Times as tools and hand edits write them: JSON's non-standard words (Python's json writes them),
# negatives, numbers past any recording, numbers past a float, words.
BAD_TIMES = {
    "nan": "NaN",
    "infinity": "Infinity",
    "minus_infinity": "-Infinity",
    "negative": "-12.5",
    "absurd": "1e300",
    "past_a_float": "1" + "0" * 400,
    "true": "true",
    "word": '"soon"',
    "object": '{"s": 1}',
}


def _raw(doc: Doc, marker: str, value: str) -> str:
    return json.dumps(doc).replace(json.dumps(marker), value)


def _whisperx(value: str) -> tuple[str, str]:
    doc = fixture_json("whisperx.json")
    doc["segments"][1]["start"] = "@@"
    return _raw(doc, "@@", value), "call.json"


def _whisper_cpp(value: str) -> tuple[str, str]:
    doc = fixture_json("whisper_cpp.json")
    doc["transcription"][1]["offsets"]["from"] = "@@"
    return _raw(doc, "@@", value), "call.json"


def _jsonl(value: str) -> tuple[str, str]:
    lines = fixture("whisper.jsonl").splitlines()
    lines[1] = lines[1].replace('"start": 2.1', f'"start": {value}')
    return "\n".join(lines), "call.jsonl"


def _aws(value: str) -> tuple[str, str]:
    doc = fixture_json("aws_transcribe.json")
    doc["results"]["items"][3]["start_time"] = "@@"
    return _raw(doc, "@@", value), "call.json"


TIMED = {"whisperx": _whisperx, "whisper_cpp": _whisper_cpp, "jsonl": _jsonl, "aws": _aws}


def _words(text: str) -> list[str]:
    return " ".join(t.text for t in parse_transcript(decode(text.encode()).text, "a.json").turns).split()


@pytest.mark.parametrize("value", BAD_TIMES)
@pytest.mark.parametrize("shape", TIMED)
def test_a_bad_time_is_dropped_and_its_turn_kept(shape: str, value: str) -> None:
    """NaN and Infinity ended as internal_error (int(nan)), 1e300 as a 300-digit clock."""
    body, key = TIMED[shape](BAD_TIMES[value])
    good, _ = TIMED[shape]("4.0")
    parsed = parse_transcript(decode(body.encode()).text, key)
    assert _words(body) == _words(good)  # nothing lost
    assert all(t.start is None or 0 <= t.start < 7 * 86400 for t in parsed.turns)
    clocks = re.findall(r"^\[([^\]]*)\]", parsed.transcript.body, re.MULTILINE)
    assert all(re.fullmatch(r"\d{2}:\d{2}:\d{2}", c) for c in clocks), clocks


@pytest.mark.parametrize("value", ["nan", "negative", "absurd", "past_a_float"])
def test_a_bad_time_still_gives_an_ok_summary_and_valid_metadata(
    value: str, s3: Any, bucket: str, presigner: Presigner
) -> None:
    body, key = _whisperx(BAD_TIMES[value])
    result, meta, _ = summarise(s3, bucket, presigner, body.encode(), key)
    assert result["status"] == "ok" and meta["status"] == "ok", result
    assert meta["input"]["format"] == "whisper" and meta["input"]["timed"]


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def _set(path: Callable[[Doc], Doc], key: str, value: Any, name: str = "whisperx.json") -> str:
    doc = fixture_json(name)
    path(doc)[key] = "@@"
    return _raw(doc, "@@", value if isinstance(value, str) else json.dumps(value))


def _nothing(doc: Doc) -> Doc:
    return doc


def _segment(n: int) -> Callable[[Doc], Doc]:
    return lambda doc: doc["segments"][n]


def _results(doc: Doc) -> Doc:
    return doc["results"]  # type: ignore[no-any-return]


def _aws_item(n: int) -> Callable[[Doc], Doc]:
    return lambda doc: doc["results"]["items"][n]


WRONG = {
    # (document, key, the field the error names)
    "segments_a_number": (_set(_nothing, "segments", 5), "segments"),
    "segments_a_string": (_set(_nothing, "segments", '"abc"'), "segments"),
    "segments_an_object": (_set(_nothing, "segments", {"0": {"text": "hi"}}), "segments"),
    "a_segment_a_string": (_set(lambda d: d, "segments", ["hello", {"text": "hi"}]), "segments[0]"),
    "text_an_object": (_set(_segment(1), "text", {"en": "hi"}), "segments[1].text"),
    "text_a_list": (_set(_segment(0), "text", ["a", "b"]), "segments[0].text"),
    "speaker_an_object": (_set(_segment(1), "speaker", {"id": 1}), "segments[1].speaker"),
    "speaker_a_list": (_set(_segment(1), "speaker", ["A", "B"]), "segments[1].speaker"),
    "speaker_true": (_set(_segment(1), "speaker", True), "segments[1].speaker"),
    "words_a_number": (_set(_segment(1), "words", 5, "whisperx_words.json"), "segments[1].words"),
    "segments_nested_too_deep": (_set(_nothing, "segments", _deep(100_000)), "nested too deep"),
    "a_text_nested_too_deep": (_set(_segment(0), "text", _deep(50_000)), "nested too deep"),
    "jsonl_row_a_number": (fixture("whisper.jsonl") + "\n5\n", "lines[2]"),
    "jsonl_row_nested_too_deep": (fixture("whisper.jsonl") + "\n" + _deep(100_000), "nested too deep"),
    "aws_items_a_string": (_set(_results, "items", '"abc"', "aws_transcribe.json"), "results.items"),
    "aws_item_a_number": (_set(_results, "items", [5], "aws_transcribe.json"), "results.items[0]"),
    "aws_alternatives_a_number": (
        _set(_aws_item(2), "alternatives", 5, "aws_transcribe.json"),
        "results.items[2].alternatives",
    ),
    "aws_speaker_labels_a_string": (
        _set(_results, "speaker_labels", '"spk_0"', "aws_transcribe.json"),
        "results.speaker_labels",
    ),
    "aws_label_an_object": (
        _set(_aws_item(0), "speaker_label", {"spk": 0}, "aws_transcribe.json"),
        "results.items[0].speaker_label",
    ),
    "aws_nested_too_deep": (
        _set(_results, "items", _deep(100_000), "aws_transcribe.json"),
        "nested too deep",
    ),
}


@pytest.mark.parametrize("name", WRONG)
def test_a_field_of_the_wrong_type_or_too_deep_is_refused_naming_it(name: str) -> None:
    """internal_error before: TypeError (`segments: 5`), AttributeError (`items: "abc"`), RecursionError."""
    body, field = WRONG[name]
    with pytest.raises(TranscriptError, match=r"nested too deep|, not ") as caught:
        list(parse_transcript(decode(body.encode()).text, "call.json").reread())
    assert field in str(caught.value)


@pytest.mark.parametrize(
    "name", ["segments_a_number", "speaker_an_object", "aws_nested_too_deep", "aws_items_a_string"]
)
def test_a_refused_json_transcript_has_valid_metadata_naming_the_field(
    name: str, s3: Any, bucket: str, presigner: Presigner
) -> None:
    body, field = WRONG[name]
    result, meta, _ = summarise(s3, bucket, presigner, body.encode(), "call.json")
    assert meta["status"] == "error" and meta["error"]["code"] == "invalid_transcript", meta["error"]
    assert field in meta["error"]["message"] and meta["error"]["message"] == result["error"]


LABELS = {"a_number": (7, "7"), "zero": (0, "0"), "a_float": (1.5, "1.5"), "a_string_number": ('"3"', "3")}


@pytest.mark.parametrize("name", LABELS)
def test_a_label_written_as_a_number_keeps_its_turns(name: str) -> None:
    value, shown = LABELS[name]
    body = _set(_segment(1), "speaker", value)
    turns = parse_transcript(decode(body.encode()).text, "call.json").turns
    assert any(t.speaker and shown in t.speaker for t in turns), turns
