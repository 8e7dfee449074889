"""Transcript text → speaker turns (utterances) → sentences: the units engines rank and chunk.

Pure string work, shared by the summariser (chunks fall on turn and sentence boundaries) and the
extractive engine (which ranks sentences and attributes each to its speaker). It lives in the
engine package because engines may import nothing else from the worker; the worker uses it through
`worker.engines`' public names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TIME = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?"
# "Alice:", "ALICE SMITH:", "Speaker 1:", "[00:01:02] Bob:", "Bob (00:01:02):", "PM:" at the start
# of a line; the time, where there is one, is the turn's start.
_SPEAKER = re.compile(
    rf"^\s*(?:\[?\(?(?P<time>{_TIME})\)?\]?\s*[-–]?\s*)?"
    rf"(?P<speaker>[^\W\d_][\w .'’-]{{0,40}}?)\s*(?:[(\[](?P<after>{_TIME})[)\]])?\s*[:：](?:\s+|$)",
)
# "[00:01:02] text" with no speaker: a timed paragraph.
_TIMED_LINE = re.compile(rf"^\s*[\[(](?P<time>{_TIME})[\])]\s*[-–]?\s*")
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[^\s])")
# Chinese and Japanese end sentences with full-width marks and no space after them; a closing
# bracket or quote right after the mark stays with its sentence.
_CLOSERS = "」』”’）)】〕\\]"
_CJK_END = re.compile(rf"(?:(?<=[。！？｡])(?![{_CLOSERS}])|(?<=[。！？｡][{_CLOSERS}]))\s*(?=\S)")
# Thai has no sentence punctuation: a space between Thai words is where a sentence (or clause) ends.
_THAI_GAP = re.compile(r"(?<=[\u0e00-\u0e7f])\s+(?=[\u0e00-\u0e7f])")


@dataclass(frozen=True, slots=True)
class Utterance:
    """One speaker turn; `start` is its start time in seconds where the input has times."""

    speaker: str | None
    text: str
    start: float | None = None

    def render(self) -> str:
        """`[00:01:02] Speaker: text`: the shape `utterances` reads back, times and speakers kept."""
        head = f"[{clock(self.start)}] " if self.start is not None else ""
        return f"{head}{self.speaker}: {self.text}" if self.speaker else f"{head}{self.text}"


def clock(seconds: float) -> str:
    """Seconds → `hh:mm:ss` (whole seconds, rounded down: a reference points at the turn's start)."""
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def seconds(stamp: str) -> float:
    """`hh:mm:ss`, `mm:ss` or either with a fraction (`,` or `.`) → seconds."""
    value = 0.0
    for part in stamp.replace(",", ".").split(":"):
        value = value * 60 + float(part)
    return value


def utterances(text: str) -> list[Utterance]:
    """Split on speaker turns; lines without a speaker label continue the previous turn.

    A transcript without any labels becomes one utterance per paragraph.
    """
    turns: list[Utterance] = []
    speaker: str | None = None
    start: float | None = None
    buffer: list[str] = []

    def flush() -> None:
        # One line (the common case) is kept as it is: no second copy of every turn.
        body = (buffer[0] if len(buffer) == 1 else " ".join(buffer)).strip()
        if body:
            turns.append(Utterance(speaker, body, start))
        buffer.clear()

    for line in text.split("\n"):
        match = _SPEAKER.match(line)
        timed = None if match else _TIMED_LINE.match(line)
        if match:
            flush()
            speaker = match.group("speaker").strip()
            stamp = match.group("time") or match.group("after")
            start = seconds(stamp) if stamp else None
            buffer.append(line[match.end() :])
        elif timed and speaker is None:
            flush()
            start = seconds(timed.group("time"))
            buffer.append(line[timed.end() :])
        elif not line.strip():
            if speaker is None:
                flush()
        else:
            buffer.append(line.strip())
    flush()
    return turns


def split_speaker(line: str) -> tuple[str | None, str]:
    """`Alice: text` → ("Alice", "text"); a line without a speaker label → (None, line)."""
    match = _SPEAKER.match(line)
    if not match:
        return None, line.strip()
    return match.group("speaker").strip(), line[match.end() :].strip()


def sentences(text: str) -> list[str]:
    """Split text on sentence-final punctuation (Latin, CJK full-width, Thai spacing); text with
    none stays one sentence."""
    out: list[str] = []
    for part in _SENTENCE_END.split(text):
        for piece in _CJK_END.split(part):
            out.extend(s.strip() for s in _THAI_GAP.split(piece) if s.strip())
    return out
