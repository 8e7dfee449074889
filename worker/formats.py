"""Transcript formats: decoded text → speaker turns with start times, whatever tool wrote it.

Formats: WebVTT (`webvtt-py`: voice tags, cue ids, multi-line cues), SRT (`srt`), AWS Transcribe
output JSON (speaker labels, items with times), Whisper / faster-whisper / WhisperX JSON
(segments), and plain text (`Speaker: text`, `[00:01:02] Speaker: text`, `Speaker (00:01:02):
text`, or no speakers at all, read by `worker.engines.utterances`).

Detection looks at the content first and the name second: a `.txt` that starts with `WEBVTT` is
WebVTT, because people save captions under whatever name their tool offers; a `.vtt`, `.srt` or
`.json` whose content is not that format is refused (the metadata would otherwise say `ok` over a
summary of timestamps). An explicit `options.format` wins over both.

Cues are display units, not turns: consecutive cues of one speaker merge into one turn, and a cue
without a speaker joins the one before it until a sentence ends, so no sentence is cut at a cue
border. A turn keeps its first cue's start time. Nothing here knows about tokens or models.

The turns come back as one `Transcript` (one rendered turn per line): plain text is read as a
stream straight into it, so a 64 MB file of one-word turns never exists as 9M objects.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from worker.engines import (
    FORMATS,
    Transcript,
    Utterance,
    iter_utterances,
    render_turns,
    split_speaker,
    utterances,
)
from worker.errors import TranscriptError

# Where the name alone decides; `.json` is AWS Transcribe or Whisper, told apart by content.
EXTENSIONS = {".vtt": "webvtt", ".srt": "srt", ".json": "json", ".txt": "text"}
_SRT_START = re.compile(r"\A\s*\d+\s*\n\s*\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}\s*-->")
_TAG = re.compile(r"</?[^>]+>")
_SENTENCE_END = re.compile(r"[.!?…。！？]['\"”’)\]]*$")


@dataclass(frozen=True)
class Parsed:
    format: str
    transcript: Transcript
    # The turns as read, for the cue formats (their vendor parsers hold every cue anyway); plain
    # text is read as a stream and keeps none.
    cues: list[Utterance] | None = None

    @property
    def timed(self) -> bool:
        return self.transcript.timed

    @property
    def turns(self) -> list[Utterance]:
        """The turns as objects (times to the second when read back from plain text)."""
        return self.cues if self.cues is not None else list(self.transcript.utterances())


def parse(text: str, key: str | None = None, explicit: str | None = None) -> Parsed:
    """Detect the format (explicit > content > extension) and read the turns."""
    fmt = explicit if explicit and explicit != "auto" else detect(text, key)
    readers: dict[str, Callable[[str], Iterable[Utterance]]] = {
        "webvtt": _webvtt,
        "srt": _srt,
        "aws-transcribe": _aws_transcribe,
        "whisper": _whisper,
        "text": iter_utterances,
    }
    if fmt not in readers:  # pragma: no cover - SummaryOptions.format is a Literal of FORMATS
        raise TranscriptError(f"unknown transcript format {fmt!r} (known: {', '.join(FORMATS)})")
    read = readers[fmt](text)
    cues = read if isinstance(read, list) else None
    turns = render_turns(read)
    if not turns.turns:
        raise TranscriptError(
            "transcript has speaker labels but no speech"
            if fmt == "text"
            else f"the {fmt} transcript holds no speech"
        )
    return Parsed(fmt, turns, cues)


def detect(text: str, key: str | None = None) -> str:
    head = text.lstrip()[:4096]
    if head.startswith("WEBVTT"):
        return "webvtt"
    if _SRT_START.match(head):
        return "srt"
    data = _json(text) if head[:1] in "{[" else None
    if data is not None:
        if isinstance(data, dict) and isinstance(data.get("results"), dict):
            return "aws-transcribe"
        if isinstance(data, list) or (isinstance(data, dict) and "segments" in data):
            return "whisper"
    by_name = EXTENSIONS.get(PurePosixPath(key).suffix.lower()) if key else None
    if by_name in (None, "text"):
        return "text"
    raise TranscriptError(
        f"{PurePosixPath(key or '').name!r} is named like a {by_name} transcript"
        " but its content is not one "
        "(expected a WEBVTT header, numbered SRT cues, or AWS Transcribe / Whisper JSON)"
    )


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _merge(cues: Iterable[tuple[str | None, str, float | None]]) -> list[Utterance]:
    """Cues → turns: one speaker's consecutive cues merge; speakerless cues merge until a sentence ends.

    A turn's cues are joined once it ends: appending each cue to the turn's string re-copied it
    every time, so 160K one-word Whisper segments with no sentence end (8 MB) took 190 s."""
    turns: list[Utterance] = []
    speaker_now: str | None = None
    parts: list[str] = []
    start_now: float | None = None
    for speaker, text, start in cues:
        text = " ".join(text.split())
        if not text:
            continue
        if parts:
            same = speaker is not None and speaker == speaker_now
            # Tools label a speaker at a change of turn only: an unlabelled cue continues the turn.
            continued = speaker is None and (speaker_now is not None or not _SENTENCE_END.search(parts[-1]))
            if same or continued:
                parts.append(text)
                continue
            turns.append(Utterance(speaker_now, " ".join(parts), start_now))
        speaker_now, parts, start_now = speaker, [text], start
    if parts:
        turns.append(Utterance(speaker_now, " ".join(parts), start_now))
    return turns


def _cue(raw: str, voice: str | None) -> tuple[str | None, str]:
    """A cue's speaker (voice tag, else a `Name:` label or `[Name]`) and its text without markup."""
    text = _TAG.sub("", raw).replace("\n", " ").strip()
    if voice:
        return voice.strip(), text
    bracket = re.match(r"^\s*(?:-\s*)?\[(?P<name>[^\]\d][^\]]{0,40})\]\s*", text)
    if bracket:
        return bracket.group("name").strip(), text[bracket.end() :]
    return split_speaker(text.removeprefix("- "))


# WebVTT is handed to webvtt-py this many characters at a time (cut at a blank line, which no cue
# holds): it keeps a `Caption` per cue, 25 × a file of one-word cues when given the whole of it.
_VTT_PIECE_CHARS = 1 << 20


def _webvtt(text: str) -> list[Utterance]:
    import webvtt  # vendor parser: imported where it is used, so the rest of the worker starts without it

    def cues() -> Iterable[tuple[str | None, str, float | None]]:
        for piece in _vtt_pieces(text):
            for caption in webvtt.from_string(piece).captions:
                speaker, body = _cue(caption.raw_text, caption.voice)
                yield speaker, body, caption.start_time.in_milliseconds() / 1000

    try:
        return _merge(cues())
    except webvtt.errors.MalformedFileError as exc:
        raise TranscriptError(f"malformed WebVTT: {exc}") from exc


def _vtt_pieces(text: str) -> Iterable[str]:
    """The file itself when small; else its header block with the first cues, then the next cues
    under a bare `WEBVTT` header, each piece ending at a blank line."""
    start = 0
    while start < len(text):
        end = len(text)
        if end - start > _VTT_PIECE_CHARS:
            cut = text.find("\n\n", start + _VTT_PIECE_CHARS)
            end = len(text) if cut < 0 else cut + 2
        yield text[start:end] if start == 0 else "WEBVTT\n\n" + text[start:end]
        start = end


def _srt(text: str) -> list[Utterance]:
    import srt

    def cues() -> Iterable[tuple[str | None, str, float | None]]:
        # Read lazily: a list of every Subtitle beside the turns was most of the peak.
        for sub in srt.parse(text):
            speaker, body = _cue(sub.content, None)
            yield speaker, body, sub.start.total_seconds()

    try:
        return _merge(cues())
    except srt.SRTParseError as exc:
        raise TranscriptError(f"malformed SRT: {exc}") from exc


def _number(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _aws_transcribe(text: str) -> list[Utterance]:
    results = json.loads(text)["results"]
    items = results.get("items") or []
    if not items:
        transcripts = results.get("transcripts") or []
        return utterances(" ".join(str(t.get("transcript", "")) for t in transcripts))
    # Older outputs put speakers only in speaker_labels.segments[].items; newer ones on each item.
    speaker_at: dict[str, str] = {}
    for segment in (results.get("speaker_labels") or {}).get("segments") or []:
        for item in segment.get("items") or []:
            speaker_at[str(item.get("start_time"))] = str(item.get("speaker_label"))
    # Words gathered per speaker run and joined once (appending to a string re-copied it per word).
    runs: list[tuple[str | None, list[str], float | None]] = []
    speaker: str | None = None
    for item in items:
        alternatives = item.get("alternatives") or [{}]
        word = str(alternatives[0].get("content", ""))
        if item.get("type") == "punctuation":
            if runs and runs[-1][1]:
                runs[-1][1][-1] += word
            continue
        speaker = item.get("speaker_label") or speaker_at.get(str(item.get("start_time"))) or speaker
        start = _number(item.get("start_time"))
        if runs and runs[-1][0] == speaker:
            runs[-1][1].append(word)
        else:
            runs.append((speaker, [word], start))
    return _merge((who, " ".join(words), at) for who, words, at in runs)


def _whisper(text: str) -> list[Utterance]:
    data = json.loads(text)
    segments = data if isinstance(data, list) else data.get("segments") or []
    cues = []
    for segment in segments:
        if not isinstance(segment, dict):
            continue
        speaker = segment.get("speaker")
        cues.append(
            (str(speaker) if speaker else None, str(segment.get("text", "")), _number(segment.get("start")))
        )
    if not cues and isinstance(data, dict):
        return utterances(str(data.get("text", "")))
    return _merge(cues)
