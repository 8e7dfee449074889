"""The JSON transcript formats' readers: AWS Transcribe output and Whisper-family segments.

Whisper, faster-whisper, WhisperX and whisper.cpp segments (a document's `segments` or
`transcription` array, a top-level array, or JSON lines) are read one at a time straight off the
text by the standard library's scanner (`JSONDecoder.raw_decode` at an index: no copy of the text,
NaN and Infinity read as Python reads them), so 32 MB of minimal segments never exist as a list of
dicts beside the turns. AWS Transcribe output is parsed whole, keeping only the keys its reader
uses (`_slim`): its speakers can sit in a separate `speaker_labels` table.

Values are checked where they are read, since a tool's bug or an edited file can put anything
anywhere: a field of the wrong type (`segments: 5`, a speaker that is an object, a text that is a
list) is refused naming its path; a time that is not a finite number of seconds from 0 to a week
(NaN, Infinity, negative, 1e300, a word) is dropped and its turn kept, untimed; a document nested
deeper than the parser goes is refused as such. Strings may hold raw control characters
(`strict=False`): decoding turned every line separator into `\\n`, inside strings too.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from worker.errors import TranscriptError
from worker.meeting.decoding import normalise
from worker.meeting.readers import merge_cues
from worker.meeting.turns import Utterance, utterances

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
# Whisper's arrays of segments, read one segment at a time.
_SEGMENTS = ("segments", "transcription")
# A time past this many seconds (a week) is no meeting's: dropped, not printed as a 300-digit clock.
_MAX_SECONDS = 7 * 24 * 3600
_BLANK = re.compile(r"[ \t\n\r]*")


def _slim(obj: dict[str, Any]) -> Any:
    """`json` object hook: only the keys the readers use; an AWS alternative becomes its word."""
    kept = {key: value for key, value in obj.items() if key in _JSON_KEYS}
    if len(kept) == 1 and isinstance(kept.get("content"), str):
        return kept["content"]
    for key in _SHARED_VALUES & kept.keys():
        if isinstance(kept[key], str) and len(kept[key]) <= 64:
            kept[key] = sys.intern(kept[key])
    return kept


_DECODER = json.JSONDecoder(object_hook=_slim, strict=False)


# ---- the document, one value at a time -----------------------------------------------------------------


def _skip(text: str, index: int) -> int:
    return _BLANK.match(text, index).end()  # type: ignore[union-attr]  # matches the empty string


def _value(text: str, index: int, path: str) -> tuple[Any, int]:
    """The JSON value at `index` and the index after it; ValueError when there is none."""
    try:
        return _DECODER.raw_decode(text, index)
    except RecursionError as exc:
        raise TranscriptError(f"the JSON transcript's {path} is nested too deep to read") from exc


def _elements(text: str, index: int, path: str, end: list[int]) -> Iterator[tuple[str, Any]]:
    """(path, value) of each element of the array opening at `index`; `end[0]`: the index after it."""
    index = _skip(text, index + 1)
    count = 0
    while not text.startswith("]", index):
        if count:
            if not text.startswith(",", index):
                raise ValueError(f"expected ',' or ']' at character {index}")
            index = _skip(text, index + 1)
        value, index = _value(text, index, f"{path}[{count}]")
        yield f"{path}[{count}]", value
        index = _skip(text, index)
        count += 1
    end[0] = index + 1


def _document(text: str) -> Iterator[tuple[bool, str, Any]]:
    """The JSON text as (is a segment, path, value), one segment at a time: each element of a
    top-level array or of a top-level object's `segments`/`transcription` array, each object of JSON
    lines (`lines[3]`); (False, key, value) for the other members of a top-level object (a JSON lines
    file's first object's members come this way, then the object as `lines[0]`). ValueError: not JSON."""
    end = [0]
    index = _skip(text, 0)
    if text.startswith("[", index):
        for path, value in _elements(text, index, "segments", end):
            yield True, path, value
        index = end[0]
    elif text.startswith("{", index):
        fields: dict[str, Any] = {}
        index = _skip(text, index + 1)
        while not text.startswith("}", index):
            if fields:
                if not text.startswith(",", index):
                    raise ValueError(f"expected ',' or '}}' at character {index}")
                index = _skip(text, index + 1)
            key, index = _DECODER.raw_decode(text, index)
            index = _skip(text, index)
            if not isinstance(key, str) or not text.startswith(":", index):
                raise ValueError(f"expected a key at character {index}")
            index = _skip(text, index + 1)
            if key in _SEGMENTS and text.startswith("[", index):
                for path, value in _elements(text, index, key, end):
                    yield True, path, value
                index, fields[key] = end[0], []
            else:
                fields[key], index = _value(text, index, key)
                yield False, key, fields[key]
            index = _skip(text, index)
        index = _skip(text, index + 1)
        rows = 0
        while index < len(text):  # JSON lines: the first object was a segment too
            row, index = _value(text, index, f"lines[{rows + 1}]")
            if rows == 0:
                yield True, "lines[0]", fields
            rows += 1
            yield True, f"lines[{rows}]", row
            index = _skip(text, index)
    else:
        raise ValueError("not a JSON array or object")
    if _skip(text, index) < len(text):
        raise ValueError(f"extra data at character {index}")


def json_shape(text: str) -> Any:
    """What the formats' sniffers look at, or None when the text is no JSON: a top-level object's keys
    with each container value as an empty one of its kind, `[]` for an array or JSON lines. The whole
    text is scanned (it must be JSON throughout), one value at a time."""
    shape: dict[str, Any] = {}
    array = text.lstrip().startswith("[")
    try:
        for segment, path, value in _document(text):
            if path.startswith("lines["):
                array = True
            elif segment:
                shape[path.partition("[")[0]] = []
            else:
                shape[path] = type(value)() if isinstance(value, (dict, list)) else value
    except ValueError:
        return None
    return [] if array else shape


# ---- values as they are read ------------------------------------------------------------------------


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    kinds: dict[type, str] = {str: "a string", list: "a list", dict: "an object"}
    return kinds.get(type(value), "null")


def _typed(value: Any, kind: type, path: str, fmt: str) -> Any:
    """`value` when it is a `kind`, an empty `kind` when it is missing; else refused naming `path`."""
    if value is None:
        return kind()
    if isinstance(value, kind) and not isinstance(value, bool):
        return value
    raise TranscriptError(f"the {fmt} transcript's {path} is {_kind(value)}, not {_kind(kind())}")


def _words(value: Any, path: str, fmt: str) -> str:
    """A text field: a string, or a number written as one."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise TranscriptError(f"the {fmt} transcript's {path} is {_kind(value)}, not a string")


def _label(value: Any, path: str, fmt: str) -> str | None:
    return _words(value, path, fmt) or None


def seconds_or_none(value: Any, scale: float = 1.0) -> float | None:
    """A time in seconds when `value` is a finite number (or numeric string) from 0 to a week."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value) / scale
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) and 0 <= number <= _MAX_SECONDS else None


# ---- Whisper ------------------------------------------------------------------------------------------


def _segment_cue(segment: Any, path: str) -> tuple[str | None, str, float | None]:
    fmt = "whisper"
    if not isinstance(segment, dict):
        raise TranscriptError(f"the {fmt} transcript's {path} is {_kind(segment)}, not an object")
    speaker = _label(segment.get("speaker"), f"{path}.speaker", fmt)
    if speaker is None:
        # WhisperX leaves a segment unlabelled when its words' speakers disagree: the most
        # frequent one speaks it.
        words = _typed(segment.get("words"), list, f"{path}.words", fmt)
        voices = Counter(
            _label(w.get("speaker"), f"{path}.words[{i}].speaker", fmt)
            for i, w in enumerate(words)
            if isinstance(w, dict)
        )
        voices.pop(None, None)
        speaker = voices.most_common(1)[0][0] if voices else None
    start = seconds_or_none(segment.get("start"))
    offsets = segment.get("offsets")
    if start is None and isinstance(offsets, dict):  # whisper.cpp: milliseconds
        start = seconds_or_none(offsets.get("from"), 1000)
    return speaker, _words(segment.get("text"), f"{path}.text", fmt), start


def read_whisper(text: str) -> Iterator[Utterance]:
    fields: dict[str, Any] = {}
    count = 0

    def cues() -> Iterator[tuple[tuple[str | None, str, float | None], bool]]:
        nonlocal count
        try:
            for segment, path, value in _document(text):
                if segment:
                    count += 1
                    yield _segment_cue(value, path), False
                else:
                    fields[path] = value
        except ValueError as exc:
            raise TranscriptError(f"the whisper transcript is not valid JSON: {exc}") from exc
        for name in _SEGMENTS:
            if name in fields:
                _typed(fields[name], list, name, "whisper")

    yield from merge_cues(cues())
    if not count:
        yield from utterances(normalise(_words(fields.get("text"), "text", "whisper")))


# ---- AWS Transcribe -----------------------------------------------------------------------------------


def read_aws_transcribe(text: str) -> Iterable[Utterance]:
    fmt = "aws-transcribe"
    try:
        document = _DECODER.decode(text)
    except RecursionError as exc:
        raise TranscriptError(f"the {fmt} transcript's JSON is nested too deep to read") from exc
    except ValueError as exc:
        raise TranscriptError(f"the {fmt} transcript is not valid JSON: {exc}") from exc
    results = _typed(_typed(document, dict, "document", fmt).get("results"), dict, "results", fmt)

    def listed(obj: Any, key: str, path: str) -> list[Any]:
        return _typed(_typed(obj, dict, path, fmt).get(key), list, f"{path}.{key}", fmt)

    channels = listed(
        _typed(results.get("channel_labels"), dict, "results.channel_labels", fmt),
        "channels",
        "results.channel_labels",
    )
    channel_at: dict[str, str] = {}
    for c, channel in enumerate(channels):
        where = f"results.channel_labels.channels[{c}]"
        label = _label(_typed(channel, dict, where, fmt).get("channel_label"), f"{where}.channel_label", fmt)
        for i, item in enumerate(listed(channel, "items", where)):
            at = _typed(item, dict, f"{where}.items[{i}]", fmt).get("start_time")
            if at is not None and label is not None:
                channel_at[str(at)] = label
    items = listed(results, "items", "results") or _interleave(channels)
    if not items:
        transcripts = listed(results, "transcripts", "results")
        said = (
            _words(
                _typed(t, dict, f"results.transcripts[{i}]", fmt).get("transcript"),
                f"results.transcripts[{i}].transcript",
                fmt,
            )
            for i, t in enumerate(transcripts)
        )
        return utterances(normalise(" ".join(said)))
    # Older outputs put speakers only in speaker_labels.segments[].items; newer ones on each item.
    speaker_at: dict[str, str] = {}
    labels = _typed(results.get("speaker_labels"), dict, "results.speaker_labels", fmt)
    for s, segment in enumerate(listed(labels, "segments", "results.speaker_labels")):
        where = f"results.speaker_labels.segments[{s}]"
        for i, item in enumerate(listed(segment, "items", where)):
            label = _label(item.get("speaker_label"), f"{where}.items[{i}].speaker_label", fmt)
            if label is not None:
                speaker_at[str(item.get("start_time"))] = label
    # Words gathered per speaker run and joined once (appending to a string re-copied it per word).
    runs: list[tuple[str | None, list[str], float | None]] = []
    speaker: str | None = None
    for i, item in enumerate(items):
        where = f"results.items[{i}]"
        _typed(item, dict, where, fmt)
        first = (_typed(item.get("alternatives"), list, f"{where}.alternatives", fmt) or [""])[0]
        word = _words(
            first.get("content") if isinstance(first, dict) else first, f"{where}.alternatives[0]", fmt
        )
        if item.get("type") == "punctuation":
            if runs and runs[-1][1]:
                runs[-1][1][-1] += word
            continue
        at = item.get("start_time")
        # Channel identification (one speaker a channel: call centres) labels items by channel.
        speaker = (
            _label(item.get("speaker_label"), f"{where}.speaker_label", fmt)
            or speaker_at.get(str(at))
            or _label(item.get("channel_label"), f"{where}.channel_label", fmt)
            or channel_at.get(str(at))
            or speaker
        )
        if runs and runs[-1][0] == speaker:
            runs[-1][1].append(word)
        else:
            runs.append((speaker, [word], seconds_or_none(at)))
    return merge_cues(((who, " ".join(words), at), False) for who, words, at in runs)


def _interleave(channels: list[Any]) -> list[dict[str, Any]]:
    """Channel-identified output without top-level items: the channels' words in time order, each
    punctuation mark kept after its word."""
    words: list[tuple[float, int, dict[str, Any]]] = []
    for channel in channels:
        at = 0.0
        for item in channel.get("items") or []:
            at = seconds_or_none(item.get("start_time")) or at
            words.append((at, len(words), {**item, "channel_label": channel.get("channel_label")}))
    return [item for _, _, item in sorted(words, key=lambda w: (w[0], w[1]))]
