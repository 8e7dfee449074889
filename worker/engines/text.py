"""Transcript text → speaker turns (utterances) → sentences: the units engines rank and chunk.

Pure string work, shared by the summariser (chunks fall on turn and sentence boundaries) and the
extractive engine (which ranks sentences and attributes each to its speaker). It lives in the
engine package because engines may import nothing else from the worker; the worker uses it through
`worker.engines`' public names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# "Alice:", "ALICE SMITH:", "Speaker 1:", "[00:01:02] Bob:", "PM:" at the start of a line.
_SPEAKER = re.compile(
    r"^\s*(?:\[?\(?\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?\)?\]?\s*[-–]?\s*)?"
    r"(?P<speaker>[^\W\d_][\w .'’-]{0,40}?)\s*:(?:\s+|$)",
)
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[^\s])")
# Chinese and Japanese end sentences with full-width marks and no space after them; a closing
# bracket or quote right after the mark stays with its sentence.
_CLOSERS = "」』”’）)】〕\\]"
_CJK_END = re.compile(rf"(?:(?<=[。！？｡])(?![{_CLOSERS}])|(?<=[。！？｡][{_CLOSERS}]))\s*(?=\S)")
# Thai has no sentence punctuation: a space between Thai words is where a sentence (or clause) ends.
_THAI_GAP = re.compile(r"(?<=[\u0e00-\u0e7f])\s+(?=[\u0e00-\u0e7f])")


@dataclass(frozen=True, slots=True)
class Utterance:
    speaker: str | None
    text: str

    def render(self) -> str:
        return f"{self.speaker}: {self.text}" if self.speaker else self.text


def utterances(text: str) -> list[Utterance]:
    """Split on speaker turns; lines without a speaker label continue the previous turn.

    A transcript without any labels becomes one utterance per paragraph.
    """
    turns: list[Utterance] = []
    speaker: str | None = None
    buffer: list[str] = []

    def flush() -> None:
        # One line (the common case) is kept as it is: no second copy of every turn.
        body = (buffer[0] if len(buffer) == 1 else " ".join(buffer)).strip()
        if body:
            turns.append(Utterance(speaker, body))
        buffer.clear()

    for line in text.split("\n"):
        match = _SPEAKER.match(line)
        if match:
            flush()
            speaker = match.group("speaker").strip()
            buffer.append(line[match.end() :])
        elif not line.strip():
            if speaker is None:
                flush()
        else:
            buffer.append(line.strip())
    flush()
    return turns


def sentences(text: str) -> list[str]:
    """Split text on sentence-final punctuation (Latin, CJK full-width, Thai spacing); text with
    none stays one sentence."""
    out: list[str] = []
    for part in _SENTENCE_END.split(text):
        for piece in _CJK_END.split(part):
            out.extend(s.strip() for s in _THAI_GAP.split(piece) if s.strip())
    return out
