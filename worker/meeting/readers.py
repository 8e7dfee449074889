"""The transcript formats' readers: decoded text → speaker turns with start times, as a stream.

WebVTT (`webvtt-py`: voice tags, cue ids, multi-line cues; cues without the header too), SRT
(`srt`, cue numbers optional), AWS Transcribe output JSON (speaker labels, else channel labels;
items with times), Whisper / faster-whisper / WhisperX / whisper.cpp JSON (segments, or one a line;
a WhisperX segment without a speaker takes its words' most frequent one). Plain text is read by
`worker.meeting.turns`. Which reader reads a transcript is `worker.meeting.formats`' table.

Cues are display units, not turns: consecutive cues of one speaker merge into one turn, and a cue
without a speaker joins the one before it until a sentence ends, so no sentence is cut at a cue
border. A turn keeps its first cue's start time. A cue line opening with a dialogue dash or `>>`
is a new, unnamed speaker's. Rolling captions (YouTube, live captioning) repeat the previous cue's
lines; a line already shown by the same voice is dropped. Nothing here knows about tokens or models.

Every reader yields its turns as a stream, so a 64 MB file of one-word turns or cues never exists
as millions of objects (the JSON formats still hold their parsed document while they are read).
"""

from __future__ import annotations

import html
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from worker.errors import TranscriptError
from worker.meeting.decoding import normalise
from worker.meeting.turns import Utterance, speaker_label, split_speaker, utterances

# YouTube's auto-captions: a cue whose first line is blank (a space, stripped on decoding) and whose
# words carry their own times (`so<00:00:00.320><c> today</c>`).
_KARAOKE_GAP = re.compile(r"(-->[^\n]*)\n\n(?=[^\n]*<(?:\d{2}:)?\d{2}:\d{2}\.\d{3}>)")
# A caption tool's mark of a new speaker without a name: ">> " (broadcast) or a dialogue dash.
_CHANGE = re.compile(r"^\s*(?:>>+|[-–—](?=\s))\s*")
_TAG = re.compile(r"</?[^>]+>|\{\\[^}]*\}")  # HTML-like tags, and SRT's ASS overrides `{\an8}`
_VOICE = re.compile(r"<v(?:\.[\w.-]+)*\s+(?P<name>[^>]+)>")
_SENTENCE_END = re.compile(r"[.!?…。！？]['\"”’)\]]*$")


# The JSON keys the readers below use. Every other key is dropped as each object is parsed, so a
# document is held without what the tools add per word or segment (end times, confidences, token
# ids, log-probabilities): at most a few fields an item for the length of the parse.
_JSON_KEYS = frozenset(
    {
        *("results", "transcripts", "transcript", "items", "type", "alternatives", "content"),
        *("speaker_label", "speaker_labels", "segments", "channel_label", "channel_labels", "channels"),
        *("start_time", "transcription", "text", "speaker", "words", "start", "offsets", "from"),
    }
)


# Values repeated on every item, held once (the parser makes a new string per occurrence).
_SHARED_VALUES = frozenset({"type", "speaker", "speaker_label", "channel_label"})


def _slim(obj: dict[str, Any]) -> Any:
    """`json` object hook: only the keys the readers use; an AWS alternative becomes its word."""
    kept = {key: value for key, value in obj.items() if key in _JSON_KEYS}
    if len(kept) == 1 and isinstance(kept.get("content"), str):
        return kept["content"]
    for key in _SHARED_VALUES & kept.keys():
        if isinstance(kept[key], str) and len(kept[key]) <= 64:
            kept[key] = sys.intern(kept[key])
    return kept


def json_document(text: str) -> Any:
    try:
        return json.loads(text, object_hook=_slim)
    except ValueError:
        return json_lines(text)


def json_lines(text: str) -> list[Any] | None:
    """JSON lines (one segment object a line, as whisper.cpp and streaming tools write), else None."""
    try:
        rows = [json.loads(line, object_hook=_slim) for line in text.splitlines() if line.strip()]
    except ValueError:
        return None
    return rows if rows and all(isinstance(row, dict) for row in rows) else None


Cue = tuple[str | None, str, float | None]


def _merge(cues: Iterable[tuple[Cue, bool]]) -> Iterator[Utterance]:
    """(cue, starts a new unnamed speaker's turn) → turns, as a stream: one speaker's consecutive
    cues merge; speakerless cues merge until a sentence ends.

    A turn's cues are joined once it ends: appending each cue to the turn's string re-copied it
    every time, so 160K one-word Whisper segments with no sentence end (8 MB) took 190 s."""
    speaker_now: str | None = None
    parts: list[str] = []
    start_now: float | None = None
    for (label, text, start), change in cues:
        text = " ".join(text.split())
        if not text:
            continue
        speaker = speaker_label(label) if label is not None else None
        if parts and not change:
            same = speaker is not None and speaker == speaker_now
            # Tools label a speaker at a change of turn only: an unlabelled cue continues the turn.
            continued = speaker is None and (speaker_now is not None or not _SENTENCE_END.search(parts[-1]))
            if same or continued:
                parts.append(text)
                continue
        if parts:
            yield Utterance(speaker_now, " ".join(parts), start_now)
        speaker_now, parts, start_now = speaker, [text], start
    if parts:
        yield Utterance(speaker_now, " ".join(parts), start_now)


def _cues(raw: str, voice: str | None, start: float | None) -> Iterator[tuple[Cue, bool]]:
    """A cue's parts, each (speaker, text, start) and whether it starts a new speaker's turn.

    The speaker is the voice tag, else a `Name:` label or `[Name]`; a line opening with a dialogue
    dash or `>>` is a new speaker's (two dashed lines in one cue are two people talking)."""
    parts: list[tuple[list[str], bool, str | None]] = []
    for raw_line in raw.split("\n"):
        # A second voice tag inside one cue is a second speaker ("<v Alice>Hi</v>\n<v Bob>Hello").
        tagged = _VOICE.search(raw_line)
        line = html.unescape(_TAG.sub("", raw_line))
        mark = _CHANGE.match(line)
        if tagged and parts and tagged.group("name").strip() != (parts[-1][2] or voice):
            parts.append(([line], True, tagged.group("name").strip()))
        elif mark or not parts:
            parts.append(([line[mark.end() :] if mark else line], bool(mark), None if parts else voice))
        else:
            parts[-1][0].append(line)
    for lines_, new_turn, speaker_tag in parts:
        text = " ".join(" ".join(lines_).split())
        if speaker_tag:
            yield (speaker_tag.strip(), text, start), new_turn
            continue
        bracket = re.match(r"^\[(?P<name>[^\]\d][^\]]{0,40})\]\s*[:：]?\s*", text)
        if bracket:
            yield (bracket.group("name").strip(), text[bracket.end() :], start), new_turn
        else:
            speaker, body = split_speaker(text)
            yield (speaker, body, start), new_turn


def _read_cues(items: Iterable[tuple[str, str | None, float | None]]) -> Iterator[Utterance]:
    """(raw cue text, voice, start) → turns, as a stream; a cue repeating the lines of the one
    before it (rolling captions: YouTube, live captioning) keeps only its new lines."""

    def cues() -> Iterator[tuple[Cue, bool]]:
        previous: list[str] = []
        last_voice: str | None = None
        for raw, voice, start in items:
            lines_ = [line for line in raw.split("\n") if _TAG.sub("", line).strip()]
            shown = [_TAG.sub("", line).strip() for line in lines_]
            seen_before = previous if voice == last_voice else []
            new = [line for line, seen in zip(lines_, shown, strict=True) if seen not in seen_before]
            previous, last_voice = shown, voice
            yield from _cues("\n".join(new), voice, start)

    return _merge(cues())


def read_webvtt(text: str) -> Iterator[Utterance]:
    import webvtt  # vendor parser: imported where it is used, so the rest of the worker starts without it

    if not text.lstrip().startswith("WEBVTT"):
        text = "WEBVTT\n\n" + text
    text = _KARAOKE_GAP.sub(r"\1\n", text)

    def captions() -> Iterator[tuple[str, str | None, float | None]]:
        for piece in _vtt_pieces(text):
            for caption in webvtt.from_string(piece).captions:
                yield caption.raw_text, caption.voice, caption.start_time.in_milliseconds() / 1000

    try:
        yield from _read_cues(captions())
    except webvtt.errors.MalformedFileError as exc:
        raise TranscriptError(f"malformed WebVTT: {exc}") from exc


# WebVTT is handed to webvtt-py this many characters at a time (cut at a blank line, which no cue
# holds): it keeps a `Caption` per cue, 25 × a file of one-word cues when given the whole of it.
_VTT_PIECE_CHARS = 1 << 20


def _vtt_pieces(text: str) -> Iterator[str]:
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


def read_srt(text: str) -> Iterator[Utterance]:
    import srt

    try:
        # Read lazily: a list of every Subtitle beside the turns was most of the peak.
        yield from _read_cues((sub.content, None, sub.start.total_seconds()) for sub in srt.parse(text))
    except srt.SRTParseError as exc:
        raise TranscriptError(f"malformed SRT: {exc}") from exc


def _number(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def read_aws_transcribe(text: str) -> Iterable[Utterance]:
    results = json.loads(text, object_hook=_slim)["results"]
    channels = (results.get("channel_labels") or {}).get("channels") or []
    channel_at: dict[str, str] = {}
    for channel in channels:
        for item in channel.get("items") or []:
            if item.get("start_time") is not None:
                channel_at[str(item.get("start_time"))] = str(channel.get("channel_label"))
    items = results.get("items") or _interleave(channels)
    if not items:
        transcripts = results.get("transcripts") or []
        return utterances(normalise(" ".join(str(t.get("transcript", "")) for t in transcripts)))
    # Older outputs put speakers only in speaker_labels.segments[].items; newer ones on each item.
    speaker_at: dict[str, str] = {}
    for segment in (results.get("speaker_labels") or {}).get("segments") or []:
        for item in segment.get("items") or []:
            speaker_at[str(item.get("start_time"))] = str(item.get("speaker_label"))
    # Words gathered per speaker run and joined once (appending to a string re-copied it per word).
    runs: list[tuple[str | None, list[str], float | None]] = []
    speaker: str | None = None
    for item in items:
        first = (item.get("alternatives") or [""])[0]  # its word (`_slim`), or the object
        word = str(first.get("content", "") if isinstance(first, dict) else first)
        if item.get("type") == "punctuation":
            if runs and runs[-1][1]:
                runs[-1][1][-1] += word
            continue
        # Channel identification (one speaker a channel: call centres) labels items by channel.
        speaker = (
            item.get("speaker_label")
            or speaker_at.get(str(item.get("start_time")))
            or item.get("channel_label")
            or channel_at.get(str(item.get("start_time")))
            or speaker
        )
        start = _number(item.get("start_time"))
        if runs and runs[-1][0] == speaker:
            runs[-1][1].append(word)
        else:
            runs.append((speaker, [word], start))
    return _merge(((who, " ".join(words), at), False) for who, words, at in runs)


def _interleave(channels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Channel-identified output without top-level items: the channels' words in time order, each
    punctuation mark kept after its word."""
    words: list[tuple[float, int, dict[str, Any]]] = []
    for channel in channels:
        at = 0.0
        for item in channel.get("items") or []:
            at = _number(item.get("start_time")) or at
            words.append((at, len(words), {**item, "channel_label": channel.get("channel_label")}))
    return [item for _, _, item in sorted(words, key=lambda w: (w[0], w[1]))]


def _start(segment: dict[str, Any]) -> float | None:
    start = _number(segment.get("start"))
    offsets = segment.get("offsets")
    if start is None and isinstance(offsets, dict) and _number(offsets.get("from")) is not None:
        return float(offsets["from"]) / 1000
    return start


def read_whisper(text: str) -> Iterable[Utterance]:
    data = json_document(text)
    # whisper.cpp (`-oj`) writes "transcription" segments timed by "offsets" in milliseconds.
    segments = data if isinstance(data, list) else data.get("segments") or data.get("transcription") or []
    cues = []
    for segment in segments:
        if not isinstance(segment, dict):
            continue
        speaker = segment.get("speaker")
        if speaker is None:
            # WhisperX leaves a segment unlabelled when its words' speakers disagree: the most
            # frequent one speaks it.
            voices = Counter(w.get("speaker") for w in segment.get("words") or [] if isinstance(w, dict))
            voices.pop(None, None)
            speaker = voices.most_common(1)[0][0] if voices else None
        cues.append(
            (
                str(speaker) if speaker is not None else None,
                str(segment.get("text", "")),
                _start(segment),
            )
        )
    if not cues and isinstance(data, dict):
        return utterances(normalise(str(data.get("text", ""))))
    return _merge((cue, False) for cue in cues)
