"""The meeting's text: bytes → text → turns and sentences → languages → the summary's structure.

Pure string work, no I/O and no model: decoding (`decoding`), the transcript formats' one table
(`formats`) and their readers (`readers`), speaker turns and sentences (`turns`), each language's
words, one record each (`languages`), the signals compiled from them (`signals`: language,
decisions, action items, dates, owners), the structure read back from any engine's summary
(`structure`), the frame of our own summaries read back as input (`frame`: part headings,
labels, headings, "None"), and a token count that needs no model with the content terms a ranking compares
(`words`). It imports nothing from the worker but `worker.errors`, so the engines (which may
import only this layer and the errors) and the job runner share one reading of a meeting.
"""

from __future__ import annotations

from worker.meeting.decoding import Decoded, decode, normalise
from worker.meeting.formats import FORMATS, Parsed, TranscriptFormat, detect_format, parse_transcript
from worker.meeting.frame import part_heading, strip_frame
from worker.meeting.languages import (
    ENGLISH,
    LANGUAGES,
    Language,
    all_headings,
    all_labels,
    all_nones,
    language_for,
    language_name,
    resolve_language,
)
from worker.meeting.signals import (
    DecisionSignals,
    addressed_owner,
    common_words,
    detect_language,
    due_date,
    found_owners,
    one_per_commitment,
    one_per_decision,
    spoken_languages,
)
from worker.meeting.structure import parse_structure
from worker.meeting.turns import (
    Transcript,
    Utterance,
    clock,
    iter_sentences,
    iter_utterances,
    lines,
    render_turns,
    seconds,
    sentences,
    split_speaker,
    utterances,
)
from worker.meeting.warm import warm
from worker.meeting.words import (
    DENSE_RUN,
    NO_WEIGHTS,
    STOP_WORDS,
    clean_verbatim,
    content_count,
    count_word_tokens,
    term_weights,
    terms,
    truncate,
)

__all__ = [
    "DENSE_RUN",
    "ENGLISH",
    "FORMATS",
    "LANGUAGES",
    "NO_WEIGHTS",
    "STOP_WORDS",
    "DecisionSignals",
    "Decoded",
    "Language",
    "Parsed",
    "Transcript",
    "TranscriptFormat",
    "Utterance",
    "addressed_owner",
    "all_headings",
    "all_labels",
    "all_nones",
    "clean_verbatim",
    "clock",
    "common_words",
    "content_count",
    "count_word_tokens",
    "decode",
    "detect_format",
    "detect_language",
    "due_date",
    "found_owners",
    "iter_sentences",
    "iter_utterances",
    "language_for",
    "language_name",
    "lines",
    "normalise",
    "one_per_commitment",
    "one_per_decision",
    "parse_structure",
    "parse_transcript",
    "part_heading",
    "render_turns",
    "resolve_language",
    "seconds",
    "sentences",
    "split_speaker",
    "spoken_languages",
    "strip_frame",
    "term_weights",
    "terms",
    "truncate",
    "utterances",
    "warm",
]
