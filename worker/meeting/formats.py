"""Transcript formats: one table (name, aliases, extensions, sniffing, reader) and the reading of a
transcript through it, whatever tool wrote it.

Detection looks at the content first and the name second: a `.txt` that starts with `WEBVTT` is
WebVTT, because people save captions under whatever name their tool offers; a `.vtt`, `.srt` or
`.json` whose content is not that format is refused (the metadata would otherwise say `ok` over a
summary of timestamps). An explicit `options.format` wins over both. A new format is one row of
`FORMATS` and its reader (`worker.meeting.readers`, `worker.meeting.json_readers`); the
dispatcher's `INPUT_SUFFIXES` and the template's filters list the table's extensions (a test checks
they match).

The turns come back as one `Transcript` (one rendered turn per line): every format is read as a
stream straight into it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Literal

from worker.errors import TranscriptError
from worker.meeting.json_readers import json_shape, read_aws_transcribe, read_whisper
from worker.meeting.readers import read_srt, read_webvtt
from worker.meeting.turns import Transcript, Utterance, iter_utterances, render_turns

# The names `options.format` accepts (`FORMATS`' names; a test keeps the two equal).
FormatName = Literal["webvtt", "srt", "aws-transcribe", "whisper", "text"]
# What a caller may write for "detect it": "json" is AWS Transcribe or Whisper, told apart by content.
DETECT = ("auto", "json")

# Cue numbers are optional: some tools write SRT without them.
_SRT_START = re.compile(r"\A\s*(?:\d+\s*\n)?\s*\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}\s*-->")
# WebVTT cues without the header (hour-less times): "00:01.000 --> 00:03.000".
_VTT_CUES = re.compile(r"\A\s*(?:\S+\s*\n)?\s*(?:\d{1,2}:)?\d{2}:\d{2}\.\d{3}\s*-->")


def _is_webvtt(head: str, _data: Any) -> bool:
    # SRT with dot-separated milliseconds looks like header-less WebVTT cues: its numbers say SRT.
    return head.startswith("WEBVTT") or bool(_VTT_CUES.match(head) and not _SRT_START.match(head))


def _is_srt(head: str, _data: Any) -> bool:
    return bool(_SRT_START.match(head))


def _is_aws_transcribe(_head: str, data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("results"), dict)


def _is_whisper(_head: str, data: Any) -> bool:
    return isinstance(data, list) or (
        isinstance(data, dict) and ("segments" in data or "transcription" in data)
    )


def _never(_head: str, _data: Any) -> bool:
    return False  # plain text is what nothing else is


@dataclass(frozen=True)
class TranscriptFormat:
    name: str
    aliases: tuple[str, ...]  # what people call it: an extension or a tool's name
    extensions: tuple[str, ...]  # keys the dispatcher sends; without content to tell, the name decides
    # (the text's first 4 KB, its JSON document or None) → is it this format; tried in table order.
    sniff: Callable[[str, Any], bool]
    read: Callable[[str], Iterable[Utterance]]


FORMATS: tuple[TranscriptFormat, ...] = (
    TranscriptFormat("webvtt", ("vtt",), (".vtt",), _is_webvtt, read_webvtt),
    TranscriptFormat("srt", (), (".srt",), _is_srt, read_srt),
    TranscriptFormat(
        "aws-transcribe",
        ("aws", "transcribe", "aws_transcribe", "amazon-transcribe"),
        (".json",),
        _is_aws_transcribe,
        read_aws_transcribe,
    ),
    TranscriptFormat(
        "whisper", ("whisperx", "faster-whisper", "jsonl"), (".json",), _is_whisper, read_whisper
    ),
    TranscriptFormat("text", ("txt", "plain", "plaintext"), (".txt",), _never, iter_utterances),
)


def format_name(value: str) -> str | None:
    """A format's name for what a caller wrote ("vtt", "AWS"; "auto" → None: detect); anything
    else comes back as written, for the options' validation to refuse."""
    name = value.strip().lower()
    if name in DETECT:
        return None
    return next((fmt.name for fmt in FORMATS if name == fmt.name or name in fmt.aliases), value)


@dataclass(frozen=True)
class Parsed:
    format: str
    transcript: Transcript
    # Reads the turns again, as objects with their exact times (tests and tools; the worker keeps
    # only `transcript`, so no format holds a Python object per cue beside it).
    reread: Callable[[], Iterable[Utterance]]

    @property
    def timed(self) -> bool:
        return self.transcript.timed

    @property
    def turns(self) -> list[Utterance]:
        return list(self.reread())


def parse_transcript(text: str, key: str | None = None, explicit: str | None = None) -> Parsed:
    """Detect the format (explicit > content > extension) and read the turns, as a stream."""
    name = explicit if explicit and explicit != "auto" else detect_format(text, key)
    fmt = next((fmt for fmt in FORMATS if fmt.name == name), None)
    if fmt is None:  # pragma: no cover - SummaryOptions.format is a Literal of FORMATS' names
        known = ", ".join(fmt.name for fmt in FORMATS)
        raise TranscriptError(f"unknown transcript format {name!r} (known: {known})")
    read = fmt.read
    turns = render_turns(read(text))
    if not turns.turns:
        raise TranscriptError(
            "transcript has speaker labels but no speech"
            if name == "text"
            else f"the {name} transcript holds no speech"
        )
    return Parsed(name, turns, lambda: read(text))


def detect_format(text: str, key: str | None = None) -> str:
    head = text.lstrip()[:4096]
    data = json_shape(text) if head[:1] in "{[" else None
    for fmt in FORMATS:
        if fmt.sniff(head, data):
            return fmt.name
    suffix = PurePosixPath(key).suffix.lower() if key else ""
    named = [fmt.name for fmt in FORMATS if suffix in fmt.extensions]
    if named in ([], ["text"]):
        return "text"
    raise TranscriptError(
        f"{PurePosixPath(key or '').name!r} is named like a {named[0] if len(named) == 1 else suffix[1:]}"
        " transcript but its content is not one "
        "(expected a WEBVTT header, numbered SRT cues, or AWS Transcribe / Whisper JSON)"
    )
