"""Load now what reading a meeting loads on first use, so a worker's first job is not its slowest.

py3langid decompresses its model on the first detection (~0.6 s here), the caption parsers
(`webvtt`, `srt`) are imported by their readers, the code-page detector (`charset-normalizer`) by
the first legacy file, and the patterns compiled from the language
records are built by their first use. The handler calls `warm()` once at start-up, after the engine
is up and before the runpod SDK takes a job; a few lines of a meeting run through every step.
"""

from __future__ import annotations

from worker.meeting.decoding import decode
from worker.meeting.formats import FORMATS, parse_transcript
from worker.meeting.signals import DecisionSignals, detect_language, due_date, spoken_languages
from worker.meeting.structure import parse_structure

_MEETING = (
    "Ann: We decided to ship the release on Friday, March 3.\n"
    "Bob: Dana, please send the notes by Monday. Ich schicke die Zahlen bis Freitag.\n"
)
_CAPTIONS = {
    "webvtt": "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Ann>Hello there.\n",
    "srt": "1\n00:00:01,000 --> 00:00:02,000\nAnn: Hello there.\n",
}


def warm() -> None:
    for fmt in FORMATS:
        if fmt.name in _CAPTIONS:
            parse_transcript(_CAPTIONS[fmt.name], explicit=fmt.name)
    decode("Zoë: the café opens at nine.\n".encode("cp1252"))
    text = parse_transcript(_MEETING).transcript.sample()
    code = detect_language(text)
    spoken_languages([text] * 4)
    signals = DecisionSignals(code, ("de",))
    for sentence in text.split(". "):
        signals.is_decision(sentence)
        signals.is_action(sentence)
        due_date(sentence)
    parse_structure("## Overview\nA call.\n## Action items\n- Send the notes (Owner: Dana, Due: Monday)\n")
