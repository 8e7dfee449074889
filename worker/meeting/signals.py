"""What a meeting's sentences signal: their language, decisions, action items, dates and owners.

Language detection is `py3langid` (its model ships inside the wheel; nothing is downloaded), on a
sample of the transcript's speech. Detection needs text: below about 120 letters ("Ok, merci.")
py3langid's 97 languages guess wildly, so a short transcript is read as the most likely of the
localized languages.

Decision and action-item detection is not English-only: each language's record
(`worker.meeting.languages`) has its own cues (the transcript's language and English are both
checked, because meetings switch), and two signals need no cue at all: a date or time (`3.4.`,
`2026-03-03`, `15:30`, `3月3日`, `3월 3일`, weekdays) and an owner (`@dana`, a name opening the
sentence: "Dave, please ...", or a name and a verb that assigns: "Markus soll ...", "Marie s'occupe
de ...", "张伟负责..."). A sentence is an action item when it carries a cue, or a date together with
an owner. Months that are also names or verbs (May, March, April, June, August) are dates only
beside a day, a year or a word like "by", and a name followed by a relative clause ("May, who is
joining us") is no owner. Every pattern here is compiled from the records.

A mixed meeting is read in pieces (`spoken_languages`): each localized language spoken in a fifth
of them adds its cues, so a German meeting's French half still has its decisions found.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from worker.meeting.languages import LANGUAGES, NAMES, Language, alternation

# Below this many letters, detection chooses among the localized languages only.
_SHORT = 120


def detect_language(text: str) -> str:
    """The language of `text` as an ISO 639-1 code (offline; English for text without letters)."""
    import py3langid  # vendor model, loaded on first use only

    sample = text[:20_000]
    letters = len(re.findall(r"[^\W\d_]", sample))
    if not letters:
        return "en"
    if letters < _SHORT:
        # A few words ("Ok, merci.", "Ja.") are too little for 97 languages (they came out Slovak
        # and Hausa): a short transcript is taken to be in one of the languages we localize.
        return str(next(code for code, _ in py3langid.rank(sample) if code in LANGUAGES))
    code, _score = py3langid.classify(sample)
    return str(code)


# Mixed meetings: the transcript is read in pieces of about this many characters, at most this
# many of them, and a localized language spoken in this share of them counts as spoken.
_PIECE = 1500
_PIECES = 60
_SPOKEN_SHARE = 0.2


def spoken_languages(texts: list[str]) -> tuple[str, ...]:
    """The localized languages a meeting's sentences are spoken in, each in a fair share of it
    (a German meeting whose French half decides something gets French cues too)."""
    import py3langid

    # A short meeting is read in shorter pieces (never under 200 characters: too few to tell).
    piece = max(200, min(_PIECE, sum(len(t) for t in texts[:20_000]) // 10))
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for text in texts:
        current.append(text)
        size += len(text) + 1
        if size >= piece:
            pieces.append(" ".join(current))
            current, size = [], 0
    if size >= piece // 3:
        pieces.append(" ".join(current))
    if len(pieces) < 2:
        return ()
    step = max(len(pieces) // _PIECES, 1)
    sample = pieces[::step]
    counts: dict[str, int] = {}
    for text in sample:
        code = str(py3langid.classify(text)[0])
        counts[code] = counts.get(code, 0) + 1
    return tuple(
        code for code, n in sorted(counts.items()) if code in LANGUAGES and n >= _SPOKEN_SHARE * len(sample)
    )


def _cue(lang: Language, cues: tuple[str, ...]) -> str:
    # Languages written without spaces (Chinese, Japanese, Korean) have no word boundaries to match.
    pattern = "|".join(cues)
    return f"(?:{pattern})" if not lang.spaced else rf"\b(?:{pattern})"


def _cues(kind: str, code: str, also: tuple[str, ...] = ()) -> re.Pattern[str]:
    langs = [LANGUAGES[c] for c in dict.fromkeys((code, *also, "en")) if c in LANGUAGES]
    return re.compile("|".join(_cue(lang, getattr(lang, kind)) for lang in langs), re.IGNORECASE)


_SPACED = [lang for lang in LANGUAGES.values() if lang.spaced]
_UNSPACED = [lang for lang in LANGUAGES.values() if not lang.spaced]
# A date or time, in words of a known language or in digits (language-neutral).
DATE = re.compile(
    rf"(?:\b(?:{'|'.join(d for lang in _SPACED for d in lang.dates)})\b(?:\s+\d{{1,2}}(?:st|nd|rd|th)?\b)?|"
    r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}[./]\d{1,2}(?:[./]\d{2,4}|\.)|\b\d{1,2}:\d{2}\b|"
    rf"{'|'.join(d for lang in _UNSPACED for d in lang.dates)})",
    re.IGNORECASE,
)
_AMBIGUOUS_MONTHS = frozenset(m for lang in LANGUAGES.values() for m in lang.ambiguous_months)
_BEFORE_A_DATE = re.compile(
    rf"\b(?:{alternation(w for lang in LANGUAGES.values() for w in lang.before_dates)})\s+$",
    re.IGNORECASE,
)
_YEAR_AFTER = re.compile(r"^,?\s+\d{4}\b")


def _dates(text: str) -> Iterator[re.Match[str]]:
    for match in DATE.finditer(text):
        word = match.group(0)
        if word.lower() in _AMBIGUOUS_MONTHS and not (
            _BEFORE_A_DATE.search(text[: match.start()]) or _YEAR_AFTER.match(text[match.end() :])
        ):
            continue  # a bare "May": without a day, a year or "by", a name or a verb
        yield match


_RELATIVE = alternation(w for lang in LANGUAGES.values() for w in lang.relative)
# An addressed owner: "@dana", or a name opening the sentence and followed by a comma (not by a
# relative clause: "May, who is joining us, ..." names May but gives her nothing).
OWNER = re.compile(rf"@(?P<handle>[\w.-]+)|^(?P<name>{NAMES['latin']})[,，、](?!\s*(?:{_RELATIVE})\b)")


def _assigned() -> re.Pattern[str]:
    """A named owner: a name opening the sentence followed by the words that give them the task
    ("Markus soll ...", "Marie s'occupe de ...", "Carol will draft ...", "张伟负责...", "鈴木さんは...")."""
    by_person: dict[str, list[str]] = {}
    for lang in _SPACED:
        by_person.setdefault(lang.person, []).extend(lang.assigning)
    parts = [
        rf"^(?P<name{i}>{person})\s+(?:{'|'.join(verbs)})\b"
        for i, (person, verbs) in enumerate(by_person.items())
    ]
    parts += [rf"^(?P<{lang.code}>{lang.person})(?:{'|'.join(lang.assigning)})" for lang in _UNSPACED]
    return re.compile("|".join(parts))


ASSIGNED = _assigned()
# Sentence openers that look like a vocative name but are not one; conjunctions among them are
# skipped before a name ("Et Paul, tu peux ...", "And Dana, please ...").
_NOT_NAMES = frozenset(w for lang in LANGUAGES.values() for w in lang.fillers)


@dataclass(frozen=True)
class DecisionSignals:
    """Decision and action-item detection for one language, the others the meeting also speaks
    (`also`), English, and the neutral signals."""

    code: str
    also: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "_decision", _cues("decision_cues", self.code, self.also))
        object.__setattr__(self, "_action", _cues("action_cues", self.code, self.also))

    def is_decision(self, text: str) -> bool:
        return bool(self._decision.search(text))  # type: ignore[attr-defined]

    def is_decision_in(self, code: str, text: str) -> bool:
        """A decision by `code`'s own cue words (which language of a mixed meeting decided)."""
        lang = LANGUAGES.get(code)
        if lang is None:
            return False
        return bool(re.search(_cue(lang, lang.decision_cues), text, re.IGNORECASE))

    def is_action(self, text: str) -> bool:
        if self._action.search(text):  # type: ignore[attr-defined]
            return True
        return bool(due_date(text) and addressed_owner(text))


def due_date(text: str) -> str | None:
    """The first date or time named in `text`, as written."""
    match = next(_dates(text), None)
    return match.group(0) if match else None


def addressed_owner(text: str) -> str | None:
    """The person a sentence gives a task to, if it names one: addressed ("Dave, please ...",
    "@dana") or named with a verb that assigns ("Marie s'occupe de ...", "张伟负责...")."""
    text = text.strip()
    for _ in range(3):  # "And so, Dana, ..." : conjunctions and fillers before the name
        first = re.match(r"([^\W\d_]+)[,，]?\s+", text)
        if not first or first.group(1).lower() not in _NOT_NAMES:
            break
        text = text[first.end() :]
    match = OWNER.search(text)
    if match and (match.group("name") or "").lower() not in _NOT_NAMES:
        return match.group("handle") or match.group("name")
    assigned = ASSIGNED.match(text)
    if assigned:
        name = next(n for n in assigned.groups() if n)
        if name.split()[0].lower() not in _NOT_NAMES:
            return name
    return None
