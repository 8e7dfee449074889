"""The extractive engine's summary of a transcript, read back as the worker stores its structure."""

from __future__ import annotations

from typing import Any

from worker.engines import ExtractiveEngine
from worker.meeting import iter_utterances, parse_structure


def summarised(transcript: str, max_tokens: int = 1024) -> dict[str, Any]:
    """`parse_structure` of the summary with the meeting's turns, as worker/runner.py reads it: a
    label is a speaker only when the meeting has one of that name."""
    summary = ExtractiveEngine().summarise(transcript, max_tokens)
    return parse_structure(summary, list(iter_utterances(transcript)))
