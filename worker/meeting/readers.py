"""The caption formats' readers: decoded text → speaker turns with start times, as a stream.

WebVTT (`webvtt-py`: voice tags, cue ids, multi-line cues; cues without the header too) and SRT
(`srt`, cue numbers optional); the merging of cues into turns that the JSON formats' readers
(`worker.meeting.json_readers`: AWS Transcribe, the Whisper family) share. Plain text is read by
`worker.meeting.turns`. Which reader reads a transcript is `worker.meeting.formats`' table.

Cues are display units, not turns: consecutive cues of one speaker merge into one turn, and a cue
without a speaker joins the one before it until a sentence ends, so no sentence is cut at a cue
border. A turn keeps its first cue's start time. A cue line opening with a dialogue dash or `>>`
is a new, unnamed speaker's. Rolling captions (YouTube, live captioning) repeat the previous cue's
lines; a line already shown by the same voice is dropped. Nothing here knows about tokens or models.

Every reader yields its turns as a stream, so a 64 MB file of one-word turns or cues never exists
as millions of objects.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator

from worker.errors import TranscriptError
from worker.meeting.turns import Utterance, one_line, speaker_label, split_speaker

# YouTube's auto-captions: a cue whose first line is blank (a space, stripped on decoding) and whose
# words carry their own times (`so<00:00:00.320><c> today</c>`).
_KARAOKE_GAP = re.compile(r"(-->[^\n]*)\n\n(?=[^\n]*<(?:\d{2}:)?\d{2}:\d{2}\.\d{3}>)")
# A caption tool's mark of a new speaker without a name: ">> " (broadcast) or a dialogue dash.
_CHANGE = re.compile(r"^\s*(?:>>+|[-–—](?=\s))\s*")
_TAG = re.compile(r"</?[^>]+>|\{\\[^}]*\}")  # HTML-like tags, and SRT's ASS overrides `{\an8}`
_VOICE = re.compile(r"<v(?:\.[\w.-]+)*\s+(?P<name>[^>]+)>")
_SENTENCE_END = re.compile(r"[.!?…。！？]['\"”’)\]]*$")


Cue = tuple[str | None, str, float | None]


def merge_cues(cues: Iterable[tuple[Cue, bool]]) -> Iterator[Utterance]:
    """(cue, starts a new unnamed speaker's turn) → turns, as a stream: one speaker's consecutive
    cues merge; speakerless cues merge until a sentence ends.

    A turn's cues are joined once it ends: appending each cue to the turn's string re-copied it
    every time, so 160K one-word Whisper segments with no sentence end (8 MB) took 190 s."""
    speaker_now: str | None = None
    parts: list[str] = []
    start_now: float | None = None
    for (label, text, start), change in cues:
        text = one_line(text)
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
        text = one_line(" ".join(lines_))
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

    return merge_cues(cues())


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
