"""Speaker labels that must round-trip (issue 21, class 2).

The readers accept any label a voice tag or a JSON speaker field holds; the body renders a turn as
`Label: text`, and that line, an LLM answer quoting it, and the structure read from either must give
the same label back. Labels with parentheses, slashes, `@`, pronouns, full-width brackets, or
longer than 40 characters were lost: their words and action items went to the previous speaker,
an LLM answer's owner became null. Labels no line could hold as they are (a colon, a bracket, a
number) are written in one shape that reads back, the same everywhere.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from dispatcher.presign import Presigner
from tests.support.jobs import summarise
from tests.support.paths import fixture, fixture_json
from worker.meeting import decode, parse_structure, parse_transcript, split_speaker

# As people and tools write them: a guest marker, a title and a role, an e-mail-like handle,
# pronouns, a full-width bracket (Chinese meeting tools), a long role, names with & and +.
KEPT = [
    "Alex Smith (Guest)",
    "Dr. Jane O'Neil / PM",
    "sam@corp",
    "Kim (she/her)",
    "李娜（主持人）",
    "José García-López (Invitado)",
    "Representative of the Regional Transportation Planning Office",
    "O'Brien & Partners",
    "@dana",
    "Speaker 12 (remote)",
]
# Labels no `Label:` line can hold as written, and what they read back as.
RESHAPED = {
    "Team: Alice": "Team Alice",
    "[Guest] Alex": "Guest Alex",
    "7": "Speaker 7",
    "  Alice \t Martin  ": "Alice Martin",
}
ALL = {**{label: label for label in KEPT}, **RESHAPED}


def _whisper(label: str) -> tuple[str, str]:
    doc = fixture_json("whisperx.json")
    for segment in doc["segments"][1:2]:
        segment["speaker"] = label
    return json.dumps(doc), "call.json"


def _aws(label: str) -> tuple[str, str]:
    doc = fixture_json("aws_transcribe.json")
    items = [i for i in doc["results"]["items"] if i["type"] == "pronunciation"]
    for item in items[len(items) // 2 :]:
        item["speaker_label"] = label
    for segment in doc["results"]["speaker_labels"]["segments"]:
        for item in segment["items"]:
            item.pop("speaker_label", None)
    return json.dumps(doc), "call.json"


def _webvtt(label: str) -> tuple[str, str]:
    text = fixture("meeting.vtt")
    return text.replace("<v Bob>", f"<v {label}>").replace("<v Bob Lee>", f"<v {label}>"), "call.vtt"


SHAPES = {"whisperx": _whisper, "aws": _aws, "webvtt": _webvtt}


def _turns(body: str, key: str) -> Any:
    return parse_transcript(decode(body.encode()).text, key)


@pytest.mark.parametrize("label", ALL)
@pytest.mark.parametrize("shape", SHAPES)
def test_a_label_the_readers_accept_reads_back_from_the_rendered_body(shape: str, label: str) -> None:
    body, key = SHAPES[shape](label)
    parsed = _turns(body, key)
    speakers = [t.speaker for t in parsed.turns]
    assert ALL[label] in speakers, speakers
    # The body the engines read gives the same speakers back, turn for turn.
    assert [t.speaker for t in parsed.transcript.utterances()] == speakers


@pytest.mark.parametrize("label", ALL)
def test_an_llm_answer_quoting_the_label_keeps_its_owner_and_speaker(label: str) -> None:
    shown = ALL[label]
    answer = (
        "## Overview\nThe team reviewed the budget.\n\n## Key points\n"
        f"- [00:00:03] {shown}: the budget is twelve thousand euros.\n"
        "## Decisions\n- Launch in March.\n\n## Action items\n"
        f"- {shown}: send the revised budget (due Friday)\n- **{shown}**: book the room\n"
    )
    structure = parse_structure(answer, starts={3})
    assert structure["key_points"][0]["speaker"] == shown
    assert [a["owner"] for a in structure["action_items"]] == [shown, shown], structure["action_items"]
    assert structure["action_items"][0]["due"] == "Friday"
    assert split_speaker(f"{shown}: hello") == (shown, "hello")


def test_ordinary_speech_ending_in_a_colon_is_still_no_speaker() -> None:
    for line in (
        "So what we finally decided after a very long discussion is: ship it",
        "however, the plan is: wait",
        "10 people said: yes",
    ):
        assert split_speaker(line)[0] is None, line


@pytest.mark.parametrize("label", KEPT[:5])
def test_the_labels_action_items_keep_their_owner_in_the_metadata(
    label: str, s3: Any, bucket: str, presigner: Presigner
) -> None:
    lines = [
        "WEBVTT",
        "",
        "00:00:01.000 --> 00:00:04.000",
        "<v Alice Martin>Good morning, let's review the launch plan for the mobile app.",
        "",
        "00:00:05.000 --> 00:00:09.000",
        f"<v {label}>I'll send the revised budget to finance by Friday.",
        "",
        "00:00:10.000 --> 00:00:14.000",
        "<v Alice Martin>We decided to move the launch to the end of March.",
    ]
    result, meta, summary = summarise(s3, bucket, presigner, "\n".join(lines).encode(), "call.vtt")
    assert result["status"] == "ok", result
    owners = [a["owner"] for a in meta["structure"]["action_items"]]
    assert label in owners, (owners, summary)
    assert "Alice Martin" not in owners
