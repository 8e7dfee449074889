"""A summary's text → its machine-readable structure, tolerantly, whichever engine wrote it.

    {"overview": str,
     "key_points": [{"text", "speaker"?, "start"?}],
     "decisions": [{"text", "speaker"?, "start"?}],
     "action_items": [{"owner", "task", "due", "start"?}],
     "parsed": bool, "raw"?: str}

Headings are recognised in every language `worker.engines` knows (and a few English synonyms LLMs
like: "Summary", "Next steps", "To-dos"), with or without Markdown (`##`, `**`, a trailing colon,
content on the heading's line). Bullets may be `-`, `*`, `•` or numbered. A time reference
(`[00:01:02]`, `[01:02]`, `(01:02)`) is kept as `start` (seconds) only when it is the start of an
utterance of the transcript, so a model cannot invent one; either way it is taken out of the text.
An action item's owner is the person it is addressed to ("Dave, please ..."), else its `Name:`
label; its due date a trailing "(due ...)" or the first date it names. When fewer than two
headings are found, the structure is empty, `parsed` is false and `raw` keeps the text.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import Any

from worker.engines import (
    LANGUAGES,
    Utterance,
    addressed_owner,
    due_date,
    seconds,
    split_speaker,
)

_SECTIONS = ("overview", "key_points", "decisions", "action_items")
_HEADINGS: dict[str, str] = {}
for _lang in LANGUAGES.values():
    for _section, _name in zip(_SECTIONS, _lang.headings, strict=True):
        _HEADINGS[_name.lower()] = _section
_HEADINGS.update(
    {
        "summary": "overview",
        "key takeaways": "key_points",
        "main points": "key_points",
        "action points": "action_items",
        "next steps": "action_items",
        "to-dos": "action_items",
        "todos": "action_items",
        "tasks": "action_items",
    }
)
_NONE = {lang.none.lower() for lang in LANGUAGES.values()} | {"none.", "n/a", "-", "none"}
_UNASSIGNED = {lang.unassigned.lower() for lang in LANGUAGES.values()}
_HEADING_LINE = re.compile(
    r"^\s*#{0,6}\s*[*_]{0,2}(?P<name>[^:：*_#\n]{1,40})[*_]{0,2}\s*(?:[:：]\s*[*_]{0,2}\s*(?P<rest>.*))?$"
)
_BULLET = re.compile(r"^\s*(?:[-*•·]|\d{1,3}[.)])\s+")
_TIME_REF = re.compile(r"[\[(](?P<time>\d{1,2}:\d{2}(?::\d{2})?)[\])]\s*")
_DUE = re.compile(
    r"\s*\((?:due|fällig|échéance|fecha límite|scadenza|prazo|deadline|截止|期限|기한)?[:\s]*"
    r"(?P<due>[^()]{1,40})\)\s*\.?$",
    re.IGNORECASE,
)


def parse(
    text: str, turns: Sequence[Utterance] = (), starts: Collection[int] | None = None
) -> dict[str, Any]:
    """`starts`: the transcript's whole-second turn starts, when the caller has them instead of `turns`."""
    if starts is None:
        starts = {int(t.start) for t in turns if t.start is not None}
    sections: dict[str, list[str]] = {name: [] for name in _SECTIONS}
    current: str | None = None
    found = 0
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        found_heading = _heading(stripped)
        if found_heading is not None:
            current, rest = found_heading
            found += 1
            if rest:
                sections[current].append(rest)
            continue
        if current is not None:
            sections[current].append(stripped)
    if found < 2:
        return {
            "overview": "",
            "key_points": [],
            "decisions": [],
            "action_items": [],
            "parsed": False,
            "raw": text,
        }
    overview = " ".join(_BULLET.sub("", line) for line in sections["overview"] if not _is_none(line))
    return {
        "overview": _tidy(_TIME_REF.sub("", overview)),
        "key_points": [_item(line, starts) for line in sections["key_points"] if not _is_none(line)],
        "decisions": [_item(line, starts) for line in sections["decisions"] if not _is_none(line)],
        "action_items": [_action(line, starts) for line in sections["action_items"] if not _is_none(line)],
        "parsed": True,
    }


def _heading(line: str) -> tuple[str, str] | None:
    match = _HEADING_LINE.match(line)
    if not match or _BULLET.match(line):
        return None
    section = _HEADINGS.get(match.group("name").strip().lower())
    if section is None:
        return None
    return section, (match.group("rest") or "").strip().strip("*_").strip()


def _is_none(line: str) -> bool:
    return _BULLET.sub("", line).strip().rstrip(".").lower() in _NONE


def _timed(line: str, starts: Collection[int]) -> tuple[str, int | None]:
    """The line without bullet and time references, and the first reference that is a turn's start."""
    body = _BULLET.sub("", line).strip()
    start = None
    for match in _TIME_REF.finditer(body):
        value = int(seconds(match.group("time")))
        if start is None and value in starts:
            start = value
    return _tidy(_TIME_REF.sub("", body)), start


def _tidy(text: str) -> str:
    return re.sub(r"\s+([.,;:!?])", r"\1", text).strip()


def _item(line: str, starts: Collection[int]) -> dict[str, Any]:
    body, start = _timed(line, starts)
    speaker, text = split_speaker(body)
    item: dict[str, Any] = {"text": text, "speaker": speaker}
    if start is not None:
        item["start"] = start
    return item


def _action(line: str, starts: Collection[int]) -> dict[str, Any]:
    body, start = _timed(line, starts)
    label, task = split_speaker(body)
    when = None
    match = _DUE.search(task)
    if match:
        when = match.group("due").strip()
        task = task[: match.start()].strip()
    owner = addressed_owner(task) or label
    if owner and owner.lower() in _UNASSIGNED:
        owner = None
    item: dict[str, Any] = {"owner": owner, "task": task, "due": when or due_date(task)}
    if start is not None:
        item["start"] = start
    return item
