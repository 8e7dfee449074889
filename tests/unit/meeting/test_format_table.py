"""Formats are one table: the options' names, the dispatcher's suffixes and the template's S3
filters all follow it, so a new format is one row plus its reader."""

from __future__ import annotations

import json
from typing import Any, get_args

import pytest
from cfnlint.decode import decode_str

from dispatcher.settings import Settings
from tests.support.paths import ROOT
from worker.engines import SummaryOptions
from worker.meeting import FORMATS, TranscriptFormat, detect_format, parse_transcript
from worker.meeting.formats import DETECT, FormatName

EXTENSIONS = {ext for fmt in FORMATS for ext in fmt.extensions}


def _template_suffixes() -> tuple[list[str], list[str]]:
    """The suffixes of the bucket's notifications and of the existing bucket's EventBridge rule."""
    document, errors = decode_str((ROOT / "template.yaml").read_text())
    assert not errors
    text = json.dumps(document)
    found: list[str] = []
    wildcards: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("Name") == "suffix":
                found.append(node["Value"])
            if "wildcard" in node:
                wildcards.append(str(node["wildcard"].get("Fn::Sub", node["wildcard"])))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(text))
    return found, wildcards


def test_the_options_accept_exactly_the_tables_format_names() -> None:
    assert get_args(FormatName) == tuple(fmt.name for fmt in FORMATS)


def test_every_format_row_is_complete_and_its_aliases_name_it() -> None:
    for fmt in FORMATS:
        assert fmt.extensions and all(ext.startswith(".") for ext in fmt.extensions), fmt.name
        for alias in (fmt.name, *fmt.aliases):
            assert SummaryOptions(format=alias).format == fmt.name  # type: ignore[arg-type]
    for word in DETECT:
        assert SummaryOptions(format=word).format is None  # type: ignore[arg-type]


def test_dispatcher_input_suffixes_default_is_the_tables_extensions() -> None:
    assert set(Settings.input_suffixes) == EXTENSIONS
    assert len(Settings.input_suffixes) == len(EXTENSIONS)


def test_template_filters_are_the_tables_extensions() -> None:
    suffixes, wildcards = _template_suffixes()
    assert set(suffixes) == EXTENSIONS  # the bucket's notifications, with and without a prefix
    assert {w.removeprefix("${InputPrefix}*") for w in wildcards} == EXTENSIONS  # an existing bucket's rule


# One export of each format, from the fixtures tests/unit/meeting/test_formats.py reads.
SAMPLES = {
    "webvtt": "meeting.vtt",
    "srt": "meeting.srt",
    "aws-transcribe": "aws_transcribe.json",
    "whisper": "whisper.json",
    "text": "timed.txt",
}


@pytest.mark.parametrize("fmt", FORMATS, ids=[fmt.name for fmt in FORMATS])
def test_each_format_is_sniffed_from_its_content_and_read_by_its_reader(fmt: TranscriptFormat) -> None:
    text = (ROOT / "tests" / "transcripts" / SAMPLES[fmt.name]).read_text()
    assert detect_format(text) == fmt.name
    assert parse_transcript(text).transcript.turns == len(list(fmt.read(text))) > 0
