"""A summary's text → its machine-readable structure, tolerantly, whichever engine wrote it.

    {"overview": str,
     "key_points": [{"text", "speaker"?, "start"?}],
     "decisions": [{"text", "speaker"?, "start"?}],
     "action_items": [{"owner", "task", "due", "start"?}],
     "parsed": bool, "raw"?: str}

Headings are recognised in every language `worker.meeting.languages` knows, with the synonyms LLMs like in
each ("Summary", "Next steps", "Zusammenfassung", "Prochaines étapes", "Acuerdos", ...), with or
without Markdown (`##`, `**`, a trailing colon, content on the heading's line). Bullets may be `-`,
`*`, `•` or numbered, with or without a checkbox (`[ ]`) and bold names; action items may also be a
Markdown table (columns named by its header, else owner / task / due), spell out "Owner:" and
"Due:" (also as sentences or sub-bullets of their own), or put the owner and the date after the
task (after a dash or an arrow, or in a trailing bracket: "— Bob — Friday", "[Bob, Friday]"); an
answer that is the structure as JSON (bare or fenced) is read as such. "None" is recognised in the
ways models say it ("None identified.", "No action items were assigned."). A time reference
(`[00:01:02]`, `[01:02]`, `(01:02)`) is kept as `start` (seconds) only when it is the start of an
utterance of the transcript, so a model cannot invent one; either way it is taken out of the text.
An action item's owner is the person it is addressed to ("Dave, please ..."), else its `Name:`
label; its due date a trailing "(due ...)" or the first date it names. When fewer than two
headings are found, the structure is empty, `parsed` is false and `raw` keeps the text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Container, Iterator, Sequence
from typing import Any

from worker.meeting.decoding import unify_breaks
from worker.meeting.languages import LANGUAGES, all_labels, alternation
from worker.meeting.signals import LowerCaseWords, addressed_owner, common_words, due_date, is_name
from worker.meeting.turns import Utterance, lines, seconds, split_speaker

_SECTIONS = ("overview", "key_points", "decisions", "action_items")
# Our headings first, then the synonyms models write, in every language (a heading one language
# uses for another section never moves it).
_HEADINGS: dict[str, str] = {}
for _lang in LANGUAGES.values():
    for _section, _name in zip(_SECTIONS, _lang.headings, strict=True):
        _HEADINGS[_name.lower()] = _section
for _section in _SECTIONS:
    for _lang in LANGUAGES.values():
        for _name in getattr(_lang, f"{_section}_also"):
            _HEADINGS.setdefault(_name, _section)
_NONE = {lang.none.lower() for lang in LANGUAGES.values()} | {"none.", "n/a", "-", "none"}
# "None identified.", "No action items were assigned.", "Keine Entscheidungen.", "Aucune décision."
_NONE_WORDS = frozenset(word for lang in LANGUAGES.values() for word in lang.none_words)
_NONE_TAIL = re.compile(
    r"\b(?:identified|recorded|mentioned|noted|made|assigned|discussed|specified|agreed|"
    r"at this (?:time|point)|so far|yet)$"
)
_NO_ITEMS = re.compile(
    r"^no (?:specific |explicit |clear |formal |other |further )?(?:decisions?|action items?|actions?|"
    r"tasks?|next steps|key points?|items?|owners?)\b",
    re.IGNORECASE,
)
_CHECKBOX = re.compile(r"^\[[ xX✓✔]\]\s*")
_EMPHASIS = re.compile(r"\*\*|__|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)")
# "Carol — draft the announcement", "Bob - send the notes": a name, a spaced dash, the task.
_NAME = r"[^\W\d_][\w.'’-]*(?:\s[^\W\d_][\w.'’-]*){0,2}"
_NAME_DASH = re.compile(rf"^(?P<name>{_NAME})\s+[—–-]\s+")
# After the task: "Send the deck — Bob — Friday", "... → Bob", "... [Bob, Friday]", "... (Bob, by Friday)".
_AFTER_TASK = re.compile(r"\s+(?P<sep>[—–-]|→|->)\s+")
_TRAILING_GROUP = re.compile(r"\s*[(\[](?P<inner>[^()\[\]]{1,80})[)\]]\s*\.?$")
_PERSON = re.compile(rf"^(?:@(?P<handle>[\w.-]+)|(?P<name>{_NAME}))$")
# A date said alone, not a task that names one ("check both vendors by Friday").
_DATE_WORDS = 4
_OWNER_KEYS = tuple(dict.fromkeys(word for lang in LANGUAGES.values() for word in lang.owner_fields))
_DUE_KEYS = alternation(word for lang in LANGUAGES.values() for word in lang.due_fields)
_TASK_KEYS = tuple(dict.fromkeys(word for lang in LANGUAGES.values() for word in lang.task_columns))
# "Owner: Bob", "Due: Friday", "Task: send the deck", separated by , ; | or a spaced dash.
_FIELD = re.compile(
    rf"[(\[,;|—–-]?\s*(?P<key>{alternation(_OWNER_KEYS)}|{_DUE_KEYS}|{alternation(_TASK_KEYS)})\s*[:：]\s*"
    r"(?P<value>[^,;()\[\]|]+?)\s*[)\]]?(?=\s[—–-]\s|[,;|]|$)",
    re.IGNORECASE,
)
# "Send the deck. Owner: Bob. Due: Friday.": fields said as sentences of their own.
_FIELD_SENTENCE = re.compile(
    rf"(?<=[^\W\d_])\.\s+(?=(?:{alternation(_OWNER_KEYS)}|{_DUE_KEYS})\s*[:：])", re.IGNORECASE
)
# An owner or a due date on a line of its own ("  - Owner: Bob" under its task): the item above's.
_FIELD_LINE = re.compile(rf"^(?P<key>{alternation(_OWNER_KEYS)}|{_DUE_KEYS})\s*[:：]", re.IGNORECASE)
_OWNER_KEY = re.compile(rf"^(?:{alternation(_OWNER_KEYS)}|owned by)\s*[:：]?\s*", re.IGNORECASE)
_DUE_KEY = re.compile(rf"^(?:{_DUE_KEYS})\s*[:：]?\s*", re.IGNORECASE)
_TABLE_RULE = re.compile(r"^\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?$")
_HEDGE = re.compile(r"\s*[(\[]([^()\[\]]*)[)\]]$")
_UNASSIGNED = {lang.unassigned.lower() for lang in LANGUAGES.values()} | {
    w for lang in LANGUAGES.values() for w in lang.left_open
}
# The extractive engine's first line, in every language (a language without a record extends the
# English one: "... The transcript is in Swedish (sv).]").
_OUR_LABELS = tuple(label.removesuffix("]") for label in all_labels())
_HEADING_LINE = re.compile(
    r"^\s*#{0,6}\s*[*_]{0,2}(?P<name>[^:：*_#\n]{1,40})[*_]{0,2}\s*(?:[:：]\s*[*_]{0,2}\s*(?P<rest>.*))?$"
)
_BULLET = re.compile(r"^\s*(?:[-*•·]|\d{1,3}[.)])\s+")
# "[01:02]", "(00:01:02)", a range "[01:02–01:30]" (its start counts), "[at 01:02]".
_TIME_REF = re.compile(
    r"[\[(](?:at\s+)?(?P<time>\d{1,3}:\d{2}(?::\d{2})?)(?:\s*[-–—]\s*\d{1,3}:\d{2}(?::\d{2})?)?[\])]\s*"
)
# A trailing parenthesis: a due date when labelled "(due ...)" or when it names a date ("(by
# Friday)"); "(Android 9 devices)" stays part of the task.
_DUE = re.compile(rf"\s*\((?P<label>{_DUE_KEYS})?[:\s]*(?P<due>[^()]{{1,40}})\)\s*\.?$", re.IGNORECASE)
# Table columns: who owns a task (exact), when it is due and what it is (prefixes: "dates").
_WHO = frozenset(_OWNER_KEYS) | {word for lang in LANGUAGES.values() for word in lang.who}
_WHEN = re.compile(_DUE_KEYS + "|" + alternation(w for lang in LANGUAGES.values() for w in lang.when))
_TASK = re.compile(alternation(word for lang in LANGUAGES.values() for word in lang.task_columns))


def parse_structure(
    text: str,
    turns: Sequence[Utterance] = (),
    starts: Collection[int] | None = None,
    own_sections: Sequence[tuple[str, str]] = (),
    common: Container[str] | None = None,
) -> dict[str, Any]:
    """`starts`: the transcript's whole-second turn starts, when the caller has them instead of `turns`.
    `common`: the words the transcript writes in lower case (`common_words`), likewise; never an owner.
    `own_sections`: (key, heading) of a summary profile's sections beyond the four standard ones
    (contract/profiles.py); their items come back under `sections`, by key."""
    own = {heading.strip().lower(): key for key, heading in own_sections}
    if starts is None:
        starts = {int(t.start) for t in turns if t.start is not None}
    # A label before an item is its speaker only when the meeting has one of that name (a model's
    # "**Budget:** capped at 40k" names a topic); without the meeting, every label is.
    known = common is not None or bool(turns)
    # An owner is never a word the meeting writes in lower case ("Please, next slide."), unless it
    # is a speaker's name (`LowerCaseWords.speaks`).
    if common is None:
        common = common_words("\n".join(t.render() for t in turns))
    meeting: Container[str] = common if known else ()
    answer = _json_answer(text)
    if answer is not None:
        try:
            read = _from_json(answer, starts, common, meeting)
            if own:
                read["sections"] = {k: _strings(answer.get(k)) for k in own.values()}
            return read
        except RecursionError:
            pass  # values nested too deep to render: read as text (issue 21)
    sections: dict[str, list[str]] = {name: [] for name in (*_SECTIONS, *own.values())}
    current: str | None = None
    found = 0
    # Our extractive frame (its label first) puts every heading on a line of its own: there, a
    # sentence such as "Decision: we keep the office." is the overview's, not a heading.
    ours = text.lstrip().startswith(_OUR_LABELS)
    # The lines the body has: every separator a `\n`, and no other split (issue 21).
    for line in lines(unify_breaks(text)):
        stripped = line.strip()
        if not stripped:
            continue
        found_heading = _heading(stripped, own)
        if found_heading is not None and not (ours and found_heading[1]):
            current, rest = found_heading
            found += 1
            if rest:
                sections[current].append(rest)
            continue
        if current is not None:
            sections[current].append(stripped)
    extra = {
        key: [_tidy(_TIME_REF.sub("", _clean(line))) for line in sections[key] if not _is_none(line)]
        for key in own.values()
    }
    if found < 2:
        return {
            "overview": "",
            "key_points": [],
            "decisions": [],
            "action_items": [],
            "parsed": False,
            "raw": text,
        } | ({"sections": {key: [] for key in own.values()}} if own else {})
    overview = " ".join(_clean(line) for line in sections["overview"] if not _is_none(line))
    return ({"sections": extra} if own else {}) | {
        "overview": _tidy(_TIME_REF.sub("", overview)),
        "key_points": [
            _item(line, starts, meeting) for line in _rows(sections["key_points"]) if not _is_none(line)
        ],
        "decisions": [
            _item(line, starts, meeting) for line in _rows(sections["decisions"]) if not _is_none(line)
        ],
        "action_items": _actions(sections["action_items"], starts, common),
        "parsed": True,
    }


def _json_answer(text: str) -> dict[str, Any] | None:
    """A model that answered with the structure as JSON (bare or in a ``` fence)."""
    body = re.sub(r"^\s*```(?:json)?\s*|\s*```\s*$", "", text.strip())
    if not body.startswith("{"):
        return None
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # nested too deep for the parser: not our structure
        return None
    if not isinstance(data, dict) or not any(name in data for name in _SECTIONS):
        return None
    return data


def _from_json(
    data: dict[str, Any], starts: Collection[int], common: Container[str], meeting: Container[str] = ()
) -> dict[str, Any]:
    def lines(value: Any) -> list[str]:
        items = value if isinstance(value, list) else [value] if value else []
        out = []
        for item in items:
            if isinstance(item, dict):
                text = str(item.get("text") or item.get("task") or item.get("decision") or "")
                speaker = item.get("speaker") or item.get("owner")
                extra = [f"{k}: {item[k]}" for k in ("owner", "due") if item.get(k) and k in item]
                when = item.get("start") or item.get("time")
                head = f"[{when}] " if isinstance(when, str) else ""
                if "task" in item or "owner" in item:
                    out.append(f"{head}{text}" + "".join(f"; {e}" for e in extra))
                else:
                    out.append(f"{head}{speaker}: {text}" if speaker else f"{head}{text}")
            elif item:
                out.append(str(item))
        return out

    overview = data.get("overview") or data.get("summary") or ""
    return {
        "overview": _tidy(_TIME_REF.sub("", " ".join(lines(overview)))),
        "key_points": [
            _item(line, starts, meeting) for line in lines(data.get("key_points")) if not _is_none(line)
        ],
        "decisions": [
            _item(line, starts, meeting) for line in lines(data.get("decisions")) if not _is_none(line)
        ],
        "action_items": _actions(lines(data.get("action_items")), starts, common),
        "parsed": True,
    }


def _strings(value: Any) -> list[str]:
    return [v.strip() for v in value if isinstance(v, str) and v.strip()] if isinstance(value, list) else []


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _table(lines: list[str]) -> Iterator[tuple[str, list[str] | None]]:
    """Each line, or for a Markdown table each body row with its header's cells (rules dropped)."""
    header: list[str] | None = None
    for index, line in enumerate(lines):
        if not line.startswith("|"):
            header = None
            yield line, None
        elif _TABLE_RULE.match(line):
            continue
        elif index + 1 < len(lines) and _TABLE_RULE.match(lines[index + 1]):
            header = _cells(line)
        else:
            yield line, header or []


def _rows(lines: list[str]) -> list[str]:
    """Key points or decisions, a Markdown table's rows as plain lines."""
    return [
        line if header is None else " — ".join(c for c in _cells(line) if c) for line, header in _table(lines)
    ]


def _actions(lines: list[str], starts: Collection[int], common: Container[str]) -> list[dict[str, Any]]:
    """Action items from bullets, or from a table whose header names its owner / task / due columns
    (without a header: owner, task, due by position)."""
    out = []
    for line, header in _table(_with_fields(lines)):
        if header is None:
            if not _is_none(line):
                out.append(_action(line, starts, common))
            continue
        cells = _cells(line)
        columns = [_column(cell) for cell in header] if any(_column(c) for c in header) else []
        columns = columns or ["owner", "task", "due"][: len(cells)]
        row = dict(zip(columns, cells, strict=False))
        task = row.get("task") or " ".join(c for c, k in zip(cells, columns, strict=False) if not k)
        fields = "".join(f"; {k}: {row[k]}" for k in ("owner", "due") if row.get(k))
        out.append(_action(f"{task}{fields}", starts, common))
    return out


def _with_fields(lines: list[str]) -> list[str]:
    """An owner or a due date on a line of its own joins the item above it, unless that one has its own."""
    out: list[str] = []
    for line in lines:
        # A numbered item, or one that names its own task, stands alone ("7. Owner: Carol — Task: ...").
        alone = re.match(r"\s*\d{1,3}[.)]\s", line) or any(
            f.group("key").lower() in _TASK_KEYS for f in _FIELD.finditer(_clean(line))
        )
        field = None if alone else _FIELD_LINE.match(_clean(line))
        above = out[-1] if out and not out[-1].startswith("|") and not line.startswith("|") else None
        if field and above is not None and field.group("key").lower() not in above.lower():
            out[-1] = f"{above}; {_clean(line)}"
        else:
            out.append(line)
    return out


def _person(text: str, common: Container[str]) -> str | None:
    """A name said alone ("Bob", "Bob Stone", "@bob"): capitalised, and no filler, title or date."""
    match = _PERSON.match(text.strip())
    if match is None:
        return None
    if match.group("handle"):
        return match.group("handle")
    name = match.group("name")
    return name if all(w[:1].isupper() for w in name.split()) and is_name(name, common) else None


def _who_when(parts: list[str], common: Container[str]) -> tuple[str | None, str | None, bool] | None:
    """(owner, due date, whether either was named by its key) when every part is one of them, at
    most one of each; else None (the parts are more of the task)."""
    owner = when = None
    keyed = False
    for part in (p.strip().rstrip(".").strip() for p in parts):
        who, due = _OWNER_KEY.match(part), _DUE_KEY.match(part)
        keyed = keyed or bool(who or due)
        date = (due_date(part) or _short_day(part)) if len(part.split()) <= _DATE_WORDS else None
        if who and owner is None and (name := _person(part[who.end() :], common)):
            owner = name
        elif due and when is None and part[due.end() :]:
            when = part[due.end() :].strip()
        elif date and when is None:
            when = date
        elif owner is None and (name := _person(part, common)):
            owner = name
        else:
            return None
    return (owner, when, keyed) if owner or when else None


# A weekday as models shorten it in an item's owner and date fields: "(Fri)", "— Thu".
_SHORT_DAY = re.compile(
    r"(?:mon|tues?|wed|thu(?:rs?)?|fri|sat|sun)\.?(?:\s+\d{1,2}(?:[./]\d{1,2}){0,2})?", re.I
)


def _short_day(part: str) -> str | None:
    return part if _SHORT_DAY.fullmatch(part) else None


def _trailing_group(text: str, common: Container[str]) -> tuple[str, str | None, str | None]:
    """The owner and due date in a trailing bracket with a date or a key in it ("[Bob, Friday]",
    "(assigned to Bob; deadline: Friday)") or with only the name of one of the meeting's speakers
    ("(Bob)"), taken out of the text; "(Android, iOS)" and "(Android)" stay."""
    group = _TRAILING_GROUP.search(text)
    found = _who_when(re.split(r"[,;]", group.group("inner")), common) if group else None
    speaker = found is not None and isinstance(common, LowerCaseWords) and common.speaks(found[0] or "")
    if group is None or found is None or not (found[1] or found[2] or speaker):
        return text, None, None
    return text[: group.start()].rstrip(), found[0], found[1]


def _after_task(task: str, common: Container[str]) -> tuple[str, str | None, str | None]:
    """The owner and due date a model writes after the task and a dash, with a date or a handle
    ("— Bob — Friday", "— @bob, due Friday"), or after an arrow ("→ Bob"), taken out of it; "— Android"
    stays the task's."""
    owner = when = None
    pieces = _AFTER_TASK.split(task)
    # [task, sep, part, sep, part ...]: the longest tail of up to three parts first
    for cut in range(max(2, len(pieces) - 5), len(pieces), 2):
        tail = [p for piece in pieces[cut::2] for p in re.split(r"[,;]", piece)]
        found = _who_when(tail, common)
        arrow = pieces[cut - 1] in ("→", "->")
        if found and (found[1] or found[2] or arrow or any(p.strip().startswith("@") for p in tail)):
            if (found[0] and owner) or (found[1] and when):
                break
            owner, when = owner or found[0], when or found[1]
            task = " ".join(pieces[: cut - 1]).rstrip()
            break
    return task, owner, when


def _column(header: str) -> str:
    name = _clean(header).lower()
    if name in _WHO:
        return "owner"
    if _WHEN.match(name):
        return "due"
    if _TASK.match(name):
        return "task"
    return ""


def _heading(line: str, own: dict[str, str]) -> tuple[str, str] | None:
    match = _HEADING_LINE.match(line)
    if not match or _BULLET.match(line):
        return None
    name = match.group("name").strip().lower()
    section = own.get(name) or _HEADINGS.get(name)
    if section is None:
        return None
    return section, (match.group("rest") or "").strip().strip("*_").strip()


def _clean(line: str) -> str:
    """A line without its bullet, checkbox and Markdown emphasis."""
    return _EMPHASIS.sub("", _CHECKBOX.sub("", _BULLET.sub("", line).strip())).strip()


def _is_none(line: str) -> bool:
    """ "None", and the ways models say it: "None identified.", "No action items were assigned."."""
    body = _clean(line).strip().rstrip(".").lower()
    if body in _NONE:
        return True
    words = body.split()
    if not words:
        return False
    # Short only: "Keine Änderungen am Budget" and "None of the vendors qualified" are decisions.
    return bool(
        _NO_ITEMS.match(body)
        or (words[0].strip(",:") in _NONE_WORDS and (len(words) <= 2 or _NONE_TAIL.search(body)))
    )


def _timed(line: str, starts: Collection[int]) -> tuple[str, int | None]:
    """The line without bullet and time references, and the first reference that is a turn's start."""
    body = _clean(line)
    start = None
    for match in _TIME_REF.finditer(body):
        value = int(seconds(match.group("time")))
        if start is None and value in starts:
            start = value
    return _tidy(_TIME_REF.sub("", body)), start


def _tidy(text: str) -> str:
    return re.sub(r"\s+([.,;:!?])", r"\1", text).strip()


def _item(line: str, starts: Collection[int], meeting: Container[str] = ()) -> dict[str, Any]:
    """`meeting`: the meeting's words (`common_words`), which know its speakers; without them, any
    label is a speaker."""
    body, start = _timed(line, starts)
    speaker, text = split_speaker(body)
    if speaker and isinstance(meeting, LowerCaseWords) and not meeting.speaks(speaker):
        speaker, text = None, body  # a topic ("Budget: capped at 40k"), not a speaker
    item: dict[str, Any] = {"text": text, "speaker": speaker}
    if start is not None:
        item["start"] = start
    return item


def _action(line: str, starts: Collection[int], common: Container[str]) -> dict[str, Any]:
    body, start = _timed(line, starts)
    body = _FIELD_SENTENCE.sub("; ", body)
    body, *grouped = _trailing_group(body, common)
    # Fields a model spells out: "Send the notes (Owner: Bob, Due: Thursday)", "...; owner: Bob".
    fields: dict[str, str] = {}
    for field in reversed(list(_FIELD.finditer(body))):
        name = field.group("key").lower()
        key = "owner" if name in _OWNER_KEYS else "task" if name in _TASK_KEYS else "due"
        fields.setdefault(key, re.sub(r"(?<=[^\W\d_])\.$", "", field.group("value").strip()))
        body = body[: field.start()] + body[field.end() :]
    body = re.sub(r"\s*\(\s*\)|[\s,;|—–-]+$", "", body).strip()
    label, task = split_speaker(body)
    dashed = None if label else _NAME_DASH.match(task)
    if dashed and not _person(dashed.group("name"), common):
        dashed = None
    if dashed:
        label, task = dashed.group("name"), task[dashed.end() :]
    task = task or fields.get("task", "")
    after: list[str | None] = [None, None]
    if "owner" not in fields and grouped[0] is None:
        task, *after = _after_task(task, common)
    when = fields.get("due") or grouped[1] or after[1]
    match = None if when else _DUE.search(task)
    if match and (match.group("label") or due_date(match.group("due"))):
        when = match.group("due").strip() if match.group("label") else due_date(match.group("due"))
        task = task[: match.start()].strip()
    owner = (
        fields.get("owner")
        or grouped[0]
        or (None if label else after[0])
        or addressed_owner(task, common)
        or label
    )
    hedged = _HEDGE.search(owner) if owner else None  # "Anna (TBC)"; a label's "(Guest)" stays
    if owner and hedged and hedged.group(1).strip().lower() in _UNASSIGNED:
        owner = owner[: hedged.start()].strip()
    if owner and owner.lower() in _UNASSIGNED:
        owner = None
    if when and when.strip().rstrip(".").lower() in _UNASSIGNED:
        when = None
    item: dict[str, Any] = {"owner": owner or None, "task": task, "due": when or due_date(task)}
    if start is not None:
        item["start"] = start
    return item
