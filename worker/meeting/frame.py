"""Our own summaries as input: the frame around their content, in every language.

A long transcript's partial summaries are joined under one part heading each (`part_heading`)
before a reduce step reads them. An engine that reads our summaries back (the extractive engine
ranks their lines) takes the frame off first (`strip_frame`): the label, the section headings and
"None" of every language, the part headings, and the fixed lines of the engine's own it names; an
item's "- " goes too. Every other line is content and stays, trimmed, in its place.
"""

from __future__ import annotations

from collections.abc import Collection

from worker.meeting.languages import all_headings, all_labels, all_nones

_PART_HEADING = "## Part "
_FRAME = all_labels() | all_headings() | all_nones()


def part_heading(number: int) -> str:
    """The heading partial summary `number` (from 1) is joined under for a reduce step."""
    return f"{_PART_HEADING}{number}"


def strip_frame(content: str, own: Collection[str] = ()) -> str:
    """`content` without our summaries' frame nor the engine's `own` fixed lines, the rest kept."""
    skip = _FRAME | frozenset(own)
    lines = []
    for line in content.split("\n"):
        stripped = line.strip()
        if stripped in skip or stripped.startswith(_PART_HEADING) or stripped.removeprefix("- ") in skip:
            continue
        lines.append(stripped.removeprefix("- "))
    return "\n".join(lines)
