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

A decision is listed only when stated as made (`DecisionSignals.is_decision`: "we decided", "let's
go with", not "we have to decide", "if we go with", "we haven't decided", a question, a mention of
what was decided or an agenda line); other talk about deciding is a key point. A sentence that talks
about deciding is no action item unless it gives a named person a dated task
(`DecisionSignals.is_action_item`), and of two action items with the same owner and due date (a
commitment and its read-back) the later is kept (`one_per_commitment`). A request ("Can you send
me the estimate?", "Please give us a heads-up") is owned by the person asked, never the person asking
(`person_asked`): the one it or its turn addresses, else the next speaker who takes it on; a task
given to a participant by the label they speak under ("So the Industrial Designer will ...") is
theirs (`participant_tasked`); `found_owners` gives both to the extractive engine.

A mixed meeting is read in pieces (`spoken_languages`): each localized language spoken in a fifth
of them adds its cues, so a German meeting's French half still has its decisions found.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from worker.meeting.languages import LANGUAGES, NAMES, Language, alternation
from worker.meeting.recaps import ENUMERATED
from worker.meeting.words import NUMBER_WORDS, STOP_WORDS, content_count, terms

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
    # Whole words elsewhere ("please" not in "pleased"); a cue ending in a space or a colon ("i'll ",
    # "decision:") has its boundary already.
    return f"(?:{pattern})" if not lang.spaced else rf"\b(?:{pattern})(?:(?<=[\s:])|\b)"


def _cues(kind: str, code: str, also: tuple[str, ...] = ()) -> re.Pattern[str]:
    langs = [LANGUAGES[c] for c in dict.fromkeys((code, *also, "en")) if c in LANGUAGES]
    return re.compile("|".join(_cue(lang, getattr(lang, kind)) for lang in langs), re.IGNORECASE)


_SPACED = [lang for lang in LANGUAGES.values() if lang.spaced]
_UNSPACED = [lang for lang in LANGUAGES.values() if not lang.spaced]
# A date or time, in words of a known language or in digits (language-neutral).
DATE = re.compile(
    rf"(?:\b(?:{'|'.join(d for lang in _SPACED for d in lang.dates)})\b(?:\s+\d{{1,2}}(?:st|nd|rd|th)?\b)?|"
    r"\b\d{4}-\d{2}-\d{2}\b|(?<![\d.])\b\d{1,2}(?:\.\d{1,2}(?:\.\d{2,4}|\.)|/\d{1,2}(?:/\d{2,4})?)(?![.\d]*\d)|"
    r"\b\d{1,2}:\d{2}\b|"
    rf"{'|'.join(d for lang in _UNSPACED for d in lang.dates)})",
    re.IGNORECASE,
)
_AMBIGUOUS_MONTHS = frozenset(m for lang in LANGUAGES.values() for m in lang.ambiguous_months)
_BEFORE_A_DATE = re.compile(
    rf"\b(?:{alternation(w for lang in LANGUAGES.values() for w in lang.before_dates)})\s+$",
    re.IGNORECASE,
)
_YEAR_AFTER = re.compile(r"^,?\s+\d{4}\b")
# A day and month in digits without a year ("4.12.", "3/4") is a date only after a word that
# introduces one ("bis 4.12.", "by 3/4"): "go in 4.12." and "ships 4.11." name versions.
_NUMERIC_DAY = re.compile(r"^(?P<a>\d{1,2})[./](?P<b>\d{1,2})[./]?$")
_BEFORE_A_NUMERIC_DATE = re.compile(
    rf"\b(?:{alternation(w for lang in LANGUAGES.values() for w in lang.before_numeric_dates)})\s+$",
    re.IGNORECASE,
)


def _dates(text: str) -> Iterator[re.Match[str]]:
    for match in DATE.finditer(text):
        word = match.group(0)
        numeric = _NUMERIC_DAY.match(word)
        if numeric and not (
            max(int(numeric["a"]), int(numeric["b"])) <= 31
            and min(int(numeric["a"]), int(numeric["b"])) <= 12
            and _BEFORE_A_NUMERIC_DATE.search(text[: match.start()])
        ):
            continue  # a version ("4.11.") or a score, not a day
        if word.lower() in _AMBIGUOUS_MONTHS and not (
            _BEFORE_A_DATE.search(text[: match.start()]) or _YEAR_AFTER.match(text[match.end() :])
        ):
            continue  # a bare "May": without a day, a year or "by", a name or a verb
        yield match


_RELATIVE = alternation(w for lang in LANGUAGES.values() for w in lang.relative)
# An addressed owner: "@dana", or a name opening the sentence and followed by a comma (not by a
# relative clause: "May, who is joining us, ..." names May but gives her nothing).
OWNER = re.compile(rf"@(?P<handle>[\w.-]+)|^(?P<name>{NAMES['latin']})[,，、](?!\s*(?:{_RELATIVE})\b)")


# A word that only ends like a present-tense verb ("Budget was", "Update that", "Review next steps").
_NOT_VERBS = alternation(
    sorted(
        STOP_WORDS
        | {w for lang in LANGUAGES.values() for w in (*lang.fillers, *lang.articles)}
        | {"next", "last", "best"}
    )
)


# Verbs that report a view or a wish ("says", "meint"): no task, though they end like one.
_REPORTING = alternation(w for lang in LANGUAGES.values() for w in lang.reporting)


def _after_name(verbs: Iterable[str]) -> str:
    """The words after a name that give it the task: each after a space, except the contractions
    glued to the name ("Dana'll", "Dana's gonna"); never after a possessive ("Dana's report")."""
    spaced = [v for v in verbs if not v.startswith(_GLUED)]
    glued = [v for v in verbs if v.startswith(_GLUED)]
    after = rf"(?<!['’]s)\s+(?:{'|'.join(spaced)})"
    return rf"(?:{after}|{'|'.join(glued)})" if glued else after


_GLUED = "(?:'|’)"
# A function word after a name the chair hands a task on to says no task ("ask Ethan about it").
_STOPPED = alternation(sorted(STOP_WORDS))


@functools.cache
def _assigned(speaking: frozenset[str] | None = None) -> re.Pattern[str]:
    """A named owner: a name opening the sentence followed by the words that give them the task
    ("Markus soll ...", "Marie s'occupe de ...", "Carol will draft ...", "Dana'll send ...", "张伟负责...",
    "鈴木さんは..."). A verb given by its ending ("Priya sends") is no function word, and is read only
    in the languages `speaking` (all when None): German's "-t" ("Anna schickt") is an English past
    tense ("Tom went to Berlin on Friday"), which reports and assigns nothing."""
    by_person: dict[str, list[str]] = {}
    for lang in _SPACED:
        by_person.setdefault(lang.person, []).extend(
            rf"(?!(?:{_NOT_VERBS}|{_REPORTING})\b){verb}" if "[" in verb else verb
            for verb in lang.assigning
            if "[" not in verb or speaking is None or lang.code in speaking
        )
    parts = [
        rf"^(?P<name{i}>{person}){_after_name(verbs)}\b"
        for i, (person, verbs) in enumerate(by_person.items())
    ]
    parts += [rf"^(?P<{lang.code}>{lang.person})(?:{'|'.join(lang.assigning)})" for lang in _UNSPACED]
    return re.compile("|".join(parts))


# Sentence openers that look like a vocative name but are not one; conjunctions among them are
# skipped before a name ("Et Paul, tu peux ...", "And Dana, please ...").
_ARTICLES = frozenset(w for lang in LANGUAGES.values() for w in lang.articles)
_NOT_NAMES = frozenset(w for lang in LANGUAGES.values() for w in lang.fillers) | _ARTICLES
# Never an owner: the fillers, titles ("Chair, ..."), prepositions that open a date ("In May, ...").
_NOT_OWNERS = _NOT_NAMES | frozenset(w for lang in LANGUAGES.values() for w in lang.not_owners)
# Which languages have a word as a filler: "ben" is French for "well", and a name in an English meeting.
_FILLER_OF: dict[str, set[str]] = {}
for _lang in LANGUAGES.values():
    for _word in _lang.fillers:
        _FILLER_OF.setdefault(_word, set()).add(_lang.code)


def is_name(name: str, common: Container[str] = ()) -> bool:
    """A name, not a filler, a pronoun ("I'll"), a title, a date ("In May") or words the meeting
    writes in lower case."""
    words = [re.sub(r"['’].*$", "", w).lower() for w in name.split()]
    return (
        bool(words)
        and not ENUMERATED.match(f"{name},")  # "Three, hiring is frozen": a numbered item
        and (not any(w in _NOT_OWNERS and not _foreign(common, w) for w in words) or _speaks(common, name))
        and not all(w in common for w in words)
        and next(_dates(name), None) is None
    )


_Unsettled = tuple[re.Pattern[str], re.Pattern[str] | None, re.Pattern[str], re.Pattern[str]]


def _condition_first(lang: Language) -> str:
    """A sentence that opens (after fillers) with a condition, its clause closed before the cue:
    "If the audit passes, we'll go with B", "So, falls es billiger ist, ..." (not "Even if ...")."""
    openers = rf"(?:(?:{alternation(lang.fillers)})\W+)*" if lang.fillers else ""
    conceded = "".join(rf"(?<!\b{re.escape(word)}\s)" for word in lang.concessive)
    return rf"^\W*{openers}{conceded}{_cue(lang, lang.conditional)}[^,;:.!?，、。；：]*[,;:，、；：]"


def _question_first(lang: Language) -> str:
    """A sentence that asks by its word order, after fillers, its question mark left out: "Have we
    decided on the colour", "So are we agreed ...", "Haben wir uns geeinigt", "Est-ce qu'on a ..."."""
    openers = rf"(?:(?:{alternation(lang.fillers)})\W+)*" if lang.fillers else ""
    return rf"^\W*{openers}(?:{'|'.join(lang.questions)})\b"


def _unsettled(codes: tuple[str, ...]) -> _Unsettled:
    """What makes a decision cue none: in its clause before it, right after it, anywhere before it
    in its sentence (a talk outside the meeting, reported: "I talked to Mari and ..."), and a
    condition or a question the sentence opens with."""
    langs = [LANGUAGES[c] for c in dict.fromkeys((*codes, "en")) if c in LANGUAGES]
    before = re.compile("|".join(_cue(lang, lang.unsettled) for lang in langs), re.IGNORECASE)
    after = [rf"^.{{0,8}}{_cue(lang, lang.unsettled_after)}" for lang in langs if lang.unsettled_after]
    elsewhere = re.compile("|".join(_cue(lang, lang.elsewhere) for lang in langs), re.IGNORECASE)
    conditioned = "|".join(_condition_first(lang) for lang in langs)
    asking = "|".join(_question_first(lang) for lang in langs if lang.questions)
    opening = re.compile("|".join(p for p in (conditioned, asking) if p), re.IGNORECASE)
    return before, (re.compile("|".join(after)) if after else None), elsewhere, opening


# How far after a cue `unsettled_after` looks ("决定了吗", "we decided that already and").
_AFTER_CHARS = 24
# A number, in digits or words: a score says nothing decided ("We'll go for a three.").
_NUMBER = re.compile(rf"\b(?:\d+(?:[.,]\d+)?|{'|'.join(NUMBER_WORDS)})\b", re.IGNORECASE)
# How far before a cue a negation, condition or intention still qualifies it: its clause.
_CLAUSE = re.compile(r"[^,;:.!?，、。；：]{0,60}$")
# An action cue's clause from the cue on: "I'll be out on Friday" up to its comma or stop.
_CLAUSE_ON = re.compile(r"[^,;:.!?，、。；：]*")


# A name right before a decision cue, inside the sentence ("uh Chuck Fillmore agreed to record",
# "Jerry also agreed"): one person's consent, reported, not the meeting's decision.
_NAMED_SUBJECT = re.compile(rf"(?<=[\w,]\s)(?P<name>{NAMES['latin']})(?:\s+[a-z']+)?\s+$")


def _one_persons(before: str) -> bool:
    named = _NAMED_SUBJECT.search(before)
    return named is not None and is_name(named["name"])


# Quotation marks, each opener with the closers it takes: English “…” and ‘…’, German „…“ and ‚…‘,
# French «…», the CJK 「…」 and 『…』, and the plain '…' and "…" (an apostrophe is none: "it's",
# "'cause", "the students' results").
_CLOSERS = {"“": "”", "„": "“”", "‘": "’", "‚": "‘’", "«": "»", "「": "」", "『": "』"}
# A plain ' before these is an elision, not an opening mark ("'cause", "'til", "'90s").
_ELIDED = re.compile(r"(?:cause|cos|coz|til|till|em|bout|round|kay|n\b|s\b|\d)", re.IGNORECASE)


def _quoted(before: str) -> bool:
    """Inside a quotation: someone else's words ('they said " no, we decided we're not
    interested "', Hansard's "of saying: one—'Let's go with ...'"), reported, not the meeting's
    decision."""
    open_marks: list[str] = []
    for i, char in enumerate(before):
        top = open_marks[-1] if open_marks else ""
        if top and char in _CLOSERS.get(top, ""):
            open_marks.pop()
        elif char in _CLOSERS:
            open_marks.append(char)
        elif char == '"' and top == '"':
            open_marks.pop()
        elif char == '"':
            open_marks.append(char)
        elif char in "'’":
            prev, rest = before[i - 1 : i], before[i + 1 : i + 8]  # a few characters, not a copy
            if top in ("'", "‘") and not rest[:1].isalpha():
                open_marks.pop()  # closes: "'no', so ..."
            elif char == "'" and not prev.isalnum() and rest[:1].isalpha() and not _ELIDED.match(rest):
                open_marks.append(char)  # opens: "of saying: '..."
    return bool(open_marks)


def _settled(
    cues: re.Pattern[str],
    unsettled: _Unsettled,
    text: str,
    names: bool = True,
) -> re.Match[str] | None:
    """A cue that no negation, condition, intention or single person (`names`: where a capital
    letter marks a name) qualifies, outside a quotation or a talk held elsewhere, in a sentence
    that is no question."""
    if text.rstrip().endswith(("?", "？")):
        return None
    before, after, elsewhere, opening = unsettled
    if opening.match(text):
        return None  # "If the audit passes, we'll go with B", "Have we decided on the colour"
    for match in cues.finditer(text):
        clause = _CLAUSE.search(text[: match.start()])
        if clause and before.search(clause.group(0)):
            continue
        if names and _one_persons(text[: match.start()]):
            continue
        if _quoted(text[: match.start()]) or elsewhere.search(text[: match.start()]):
            continue
        if after is not None and after.search(text[match.end() : match.end() + _AFTER_CHARS]):
            continue
        return match
    return None


@dataclass(frozen=True)
class DecisionSignals:
    """Decision and action-item detection for one language, the others the meeting also speaks
    (`also`), English, and the neutral signals."""

    code: str
    also: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "_decision", _cues("decision_cues", self.code, self.also))
        object.__setattr__(self, "_deliberation", _cues("deliberation_cues", self.code, self.also))
        object.__setattr__(self, "_unsettled", _unsettled((self.code, *self.also)))
        object.__setattr__(self, "_request", _cues("requests", self.code, self.also))
        object.__setattr__(self, "_action", _cues("action_cues", self.code, self.also))
        object.__setattr__(self, "_conditional", _cues("conditional", self.code, self.also))
        object.__setattr__(self, "_no_one", _cues("no_one", self.code, self.also))
        object.__setattr__(self, "_in_meeting", _cues("in_meeting", self.code, self.also))
        object.__setattr__(self, "_not_tasks", _cues("not_tasks", self.code, self.also))
        object.__setattr__(self, "_asking", _cues("asking", self.code, self.also))
        object.__setattr__(self, "_agenda", _cues("agenda", self.code, self.also))

    @property
    def speaking(self) -> tuple[str, ...]:
        """The languages whose words this reads: the meeting's, the others it speaks, English."""
        return (self.code, *self.also, "en")

    def is_decision(self, text: str) -> bool:
        """A decision stated as made: "we decided", not "we have to decide", "if we go with",
        "we haven't decided", a question, or, undated, the meeting's order of business ("let's go
        for the presentations")."""
        return self._decision_cue(text) is not None

    def decided(self, text: str) -> str:
        """What a decision stated as made says beside its cue, numbers left out: "HubSpot" of "So
        we'll go with HubSpot."; nothing for "So that's decided.", for a score ("We'll go for a
        three.") or for a sentence that is no decision."""
        cue = self._decision_cue(text)
        said = f"{text[: cue.start()]} {text[cue.end() :]}" if cue else ""
        return _NUMBER.sub(" ", said)  # a score says nothing decided: "We'll go for a three."

    def _decision_cue(self, text: str) -> re.Match[str] | None:
        if not due_date(text) and self._agenda.search(text):  # type: ignore[attr-defined]
            return None
        names = not LANGUAGES[self.code].nouns_capitalised if self.code in LANGUAGES else True
        return _settled(self._decision, self._unsettled, text, names)  # type: ignore[attr-defined]

    def is_decision_in(self, code: str, text: str) -> bool:
        """A decision stated as made in `code`'s own words (which language of a mixed meeting decided)."""
        if code not in LANGUAGES or (not due_date(text) and _cues("agenda", code).search(text)):
            return False
        cues = _cues("decision_cues", code)
        return _settled(cues, _unsettled((code,)), text, not LANGUAGES[code].nouns_capitalised) is not None

    def is_deliberation(self, text: str) -> bool:
        """Talk about deciding, settled or not: a key point when it is no decision."""
        return bool(self._deliberation.search(text))  # type: ignore[attr-defined]

    def is_deliberation_in(self, code: str, text: str) -> bool:
        """Talk about deciding in `code`'s own words (which language of a mixed meeting speaks)."""
        lang = LANGUAGES.get(code)
        return lang is not None and bool(re.search(_cue(lang, lang.deliberation_cues), text, re.IGNORECASE))

    def is_action(self, text: str) -> bool:
        # A question is an action item only as a request ("Can you ...?", "Pieter, ...?").
        request = self._request.search(text)  # type: ignore[attr-defined]
        asks = request or addressed_owner(text, speaking=self.speaking)
        if text.rstrip().endswith(("?", "？")) and not asks:
            return False
        # Undated, an act of the meeting itself ("I'll show you the tools", "Please, next slide") or
        # a request to say something ("Can you tell us ...") is no task to do after it.
        if not due_date(text) and (
            self._in_meeting.search(text)  # type: ignore[attr-defined]
            or (request and self._asking.search(text, request.end()))  # type: ignore[attr-defined]
        ):
            return False
        # A cue in a condition ("So if we need to have a target group, ...") commits nobody; a
        # request may be put as one ("If you could send it by Friday, please"). Nor does one whose
        # clause says nobody acts ("Nobody has been assigned yet", "Niemand wird ... schicken").
        # Nor one whose clause thanks, praises or says someone is away ("I'll be out on Friday").
        for match in self._action.finditer(text):  # type: ignore[attr-defined]
            clause = _CLAUSE.search(text[: match.start()])
            before = clause.group(0) if clause else ""
            if self._no_one.search(before):  # type: ignore[attr-defined]
                continue
            after = _CLAUSE_ON.match(text, match.start())
            said = f"{before} {after.group(0) if after else ''}"
            if self._not_tasks.search(said):  # type: ignore[attr-defined]
                continue
            if request or not self._conditional.search(before):  # type: ignore[attr-defined]
                return True
        return bool(
            due_date(text)
            and addressed_owner(text, speaking=self.speaking)
            and not self._not_tasks.search(text)  # type: ignore[attr-defined]
        )

    def asks(self, text: str) -> bool:
        """A request to someone else ("Can you ...", "Please ...", "Kannst du ..."): its owner is
        the person asked (`person_asked`), not the speaker."""
        return bool(self._request.search(text))  # type: ignore[attr-defined]

    def is_action_item(self, text: str) -> bool:
        """An action item, not a decision: "We decided to move the launch to June" is a decision even
        though it names a date; "Dana sends the deck by Friday, as we agreed" gives a person a task."""
        if not self.is_action(text):
            return False
        return not self.is_deliberation(text) or bool(
            due_date(text) and addressed_owner(text, speaking=self.speaking)
        )


def due_date(text: str) -> str | None:
    """The first date or time named in `text`, as written."""
    match = next(_dates(text), None)
    return match.group(0) if match else None


class LowerCaseWords:
    """The words a meeting writes in lower case somewhere, asked one at a time: capitalised at a
    turn's start ("Only buttons we need ...", "Please, next slide."), one of them is no name. A
    lookup searches the text once per word asked (a few owner candidates), so no set of every word
    of a huge transcript is ever built."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._known: dict[str, bool] = {}
        self._speakers: dict[str, bool] = {}
        self._languages: set[str] | None = None

    def speaks(self, name: str) -> bool:
        """Whether a turn of the text is labelled with `name` ("Ben:", "Ben Stone:"): a speaker's name
        is a name even where another language has it as a filler ("ben": French "well")."""
        if name not in self._speakers:
            # "Ben:", "Ben Stone:", "[00:01:02] Ben:" (a rendered turn: `Utterance.render`)
            label = rf"{re.escape(name)}(?:[ \t]+[^\W\d_][\w'’.-]*){{0,3}}"
            pattern = rf"^[ \t]*(?:\[[\d:.]+\][ \t]*)?{label}[ \t]*[:：]"
            self._speakers[name] = re.search(pattern, self._text, re.MULTILINE) is not None
        return self._speakers[name]

    def languages(self) -> set[str] | None:
        """The languages the text speaks (English always: every meeting's cues include it); None
        for a text without letters (a structure read back without its transcript)."""
        if self._languages is None and re.search(r"[^\W\d_]", self._text):
            spoken = spoken_languages(self._text.splitlines())
            self._languages = {detect_language(self._text), *spoken, "en"}
        return self._languages

    def __contains__(self, word: object) -> bool:
        if not isinstance(word, str) or not word.islower():
            return False
        if word not in self._known:
            pattern = rf"(?<![\w'’-]){re.escape(word)}(?![\w'’-])"
            self._known[word] = re.search(pattern, self._text) is not None
        return self._known[word]


def common_words(text: str) -> LowerCaseWords:
    """`text`'s lower-case words, as a container `addressed_owner` asks."""
    return LowerCaseWords(text)


def _speaks(common: Container[str], name: str) -> bool:
    return isinstance(common, LowerCaseWords) and common.speaks(name)


def _foreign(common: Container[str], word: str) -> bool:
    """A filler only in languages the meeting does not speak ("Ben" in an English meeting)."""
    of = _FILLER_OF.get(word.lower(), set())
    spoken = common.languages() if isinstance(common, LowerCaseWords) else None
    return bool(of) and spoken is not None and not of & spoken


def _unfilled(text: str, common: Container[str] = ()) -> str:
    text = text.strip()
    for _ in range(3):  # "And so, Dana, ..." : conjunctions and fillers before the name
        first = re.match(r"([^\W\d_]+)[,，]?\s+", text)
        if not first or first.group(1).lower() not in _NOT_NAMES or first.group(1).lower() in _ARTICLES:
            break  # an article stays: the noun after it is no name
        if first.group(1)[:1].isupper() and (
            _speaks(common, first.group(1)) or _foreign(common, first.group(1))
        ):
            break  # "Ben, can you ...", said to the meeting's Ben, or in a meeting that speaks no French
        text = text[first.end() :]
    return text


def addressed(text: str, common: Container[str] = ()) -> str | None:
    """The person a sentence speaks to, if it names one: "Dave, ...", "@dana"."""
    match = OWNER.search(_unfilled(text, common))
    if match and (match.group("handle") or is_name(match.group("name"), common)):
        return match.group("handle") or match.group("name")
    return None


# A decision that goes on to name who does it: "We decided that Carol will ...", "agreed Bob will".
_DECIDED_THAT = re.compile(
    r"\b(?:decided|agreed|concluded|beschlossen|vereinbart|décidé|convenu|decidido|acordado|decidimos|"
    r"acordamos|deciso|concordato|combinamos|besloten|afgesproken),?(?:\s+(?:that|dass|que|che|dat))?\s+",
    re.IGNORECASE,
)


# A "dass" / "dat" clause puts its verb last: "dass Anna das Protokoll bis Freitag schickt", "dat Sanne
# het verslag stuurt" (a verb in -t or a modal at the clause's end; German nouns, capitalised, are none).
_VERB_LAST = re.compile(
    rf"^(?P<name>{NAMES['latin']})\s+(?:\S+\s+){{1,8}}?"
    r"(?:[a-zäöüß]{2,}t|wird|werden|soll|sollte|muss|zal|gaat|moet)(?=\s*(?:[,.;!]|$))"
)


def addressed_owner(
    text: str, common: Container[str] = (), speaking: Iterable[str] | None = None
) -> str | None:
    """The person a sentence gives a task to, if it names one: addressed ("Dave, please ...",
    "@dana") or named with a verb that assigns ("Marie s'occupe de ...", "张伟负责...", also after
    a decision: "We decided that Carol will ...", "beschlossen, dass Anna ... schickt"). `common`:
    the meeting's lower-case words (`common_words`); a name made only of them is none. A verb known
    by its ending counts in the languages `speaking`, else those `common` knows the meeting speaks
    (all without either)."""
    text = _unfilled(text, common)
    vocative = addressed(text, common)
    if vocative:
        return vocative
    decided = _DECIDED_THAT.search(text)
    rest = text[decided.end() :] if decided else ""
    verb_last = decided is not None and decided.group(0).rstrip().lower().endswith(("dass", "dat"))
    if speaking is None and isinstance(common, LowerCaseWords):
        speaking = common.languages()
    pattern = _assigned(None if speaking is None else frozenset(speaking))
    for assigned in (pattern.match(text), (verb_last and _VERB_LAST.match(rest)) or pattern.match(rest)):
        if assigned:
            name = next(n for n in assigned.groups() if n)
            if is_name(name, common):
                return name
    return None


class _Said(Protocol):
    @property
    def speaker(self) -> str | None: ...
    @property
    def text(self) -> str: ...


Said = TypeVar("Said", bound=_Said)


# A reply that takes a request on: "Yeah, I'll do that.", "Of course.", "Ja, mach ich.", "好的".
_ASSENT = re.compile(
    rf"^[\W_]*(?:{alternation(w for lang in LANGUAGES.values() for w in lang.assent)})(?![\w'’-])",
    re.IGNORECASE,
)
# How far a request's turn may go on before the reply that takes it on (sentences).
_REPLY_WITHIN = 6


def person_asked(
    items: Sequence[Said], position: int, signals: DecisionSignals, common: Container[str] = ()
) -> str | None:
    """Who owns the request `items[position]` (`signals.asks`): the person it names ("Tom, can you
    ..."), else the one its turn addressed before it ("Priya, check with Darren. Let me know by
    tomorrow."), else the next speaker when their reply takes it on ("Yeah, I'll do that.", or a
    commitment of their own); None when nobody did. Never the person asking."""
    request = items[position]
    named = addressed_owner(request.text, common)
    if named:
        return named
    speaker = request.speaker
    back = position - 1
    while back >= max(0, position - _REPLY_WITHIN) and items[back].speaker == speaker:
        named = addressed(items[back].text, common)
        if named:
            return named
        back -= 1
    if speaker is None:
        return None
    for reply in items[position + 1 : position + 1 + _REPLY_WITHIN]:
        if reply.speaker == speaker:
            continue
        takes_it = _ASSENT.search(reply.text) or (
            signals.is_action(reply.text) and not signals.asks(reply.text)
        )
        return reply.speaker if takes_it and reply.speaker else None
    return None


def _deadline(text: str) -> str | None:
    """The date a task is due: the first one said as a deadline ("by Wednesday", "bis Freitag"),
    else the first one ("Tom emails them today and has an answer by Wednesday": Wednesday)."""
    first = None
    for match in _dates(text):
        if _BEFORE_A_NUMERIC_DATE.search(text[: match.start()]):
            return match.group(0)
        first = first or match.group(0)
    return first


def participant_tasked(
    speakers: Iterable[str], speaking: Iterable[str] | None = None
) -> Callable[[str], tuple[str, bool] | None] | None:
    """Who of the meeting's `speakers` a sentence gives a task by the name they speak under ("So the
    Industrial Designer will work on the components", "Marketing should look at the trends", "Markus
    soll ..."), as (their label, named after the verb); None for a meeting without names of three
    letters or more. In the verb-second languages `speaking` (all when None) the name may follow
    the verb ("Das Protokoll schreibt Bernd", "De notulen maakt Piet"), a verb that reports or
    states nothing to do excepted ("Das sagt Bernd", "Das hat Bernd erledigt")."""
    labels = {s.lower(): s for s in speakers if len(s) >= 3}
    if not labels:
        return None
    who = alternation(sorted(labels, key=len, reverse=True))
    verbs = dict.fromkeys(v for lang in _SPACED for v in lang.assigning if "[" not in v and v != "to")
    handed = "|".join(lang_handing for lang in _SPACED for lang_handing in lang.handing_on)
    pattern = re.compile(
        rf"\b(?P<who>{who}){_after_name(verbs)}\b|"
        # The chair hands it on: "I'll ask Ethan to book ...", "Let's have Ethan book ...".
        rf"\b(?:{handed})\s+(?P<handed>{who})\s+(?:to\s+)?(?!(?:{_STOPPED})\b)[^\W\d_]{{2,}}\b",
        re.IGNORECASE,
    )
    second = [lang for lang in _SPACED if lang.verb_second and (speaking is None or lang.code in speaking)]
    # Up to three words before the verb, then the verb (its ending: "-t"), a reflexive, the name.
    inverted = (
        None
        if not second
        else re.compile(
            rf"^[\W_]*(?:[\w'’-]+\s+){{1,3}}?(?!(?:{_REPORTING})\b)[^\W\d_]{{2,}}t\s+(?:(?:sich|zich)\s+)?"
            rf"(?P<who>{who})\b",
            re.IGNORECASE,
        )
    )

    def tasked(text: str) -> tuple[str, bool] | None:
        found = pattern.search(text)
        if found:
            return labels[(found["who"] or found["handed"]).lower()], False
        found = inverted.search(text) if inverted is not None else None
        return (labels[found["who"].lower()], True) if found else None

    return tasked


def found_owners(
    items: Sequence[Said], signals: DecisionSignals, common: Container[str] = ()
) -> Iterator[tuple[int, str | None, bool]]:
    """(position, owner, shown) of each sentence whose owner the structure cannot read from it
    alone: a request's, the person asked (`person_asked`, None when nobody took it on), and a task
    given to a participant by the label they speak under (`participant_tasked`). `shown`: said
    after the sentence, which a task that names its owner where the parser reads it needs not."""
    tasked = participant_tasked({s.speaker for s in items if s.speaker}, signals.speaking)
    for position, item in enumerate(items):
        if signals.asks(item.text):
            yield position, person_asked(items, position, signals, common), True
        elif tasked and (found := tasked(item.text)) and not signals.is_decision(item.text):
            owner, after_verb = found
            # Named after the verb, the participant is the subject: the sentence's opener is not.
            named = None if after_verb else addressed_owner(item.text, common)
            yield position, named or owner, named is None


def one_per_commitment(items: Sequence[Said], signals: DecisionSignals) -> list[Said]:
    """One item per commitment: of two action items with the same owner and the same due date,
    as its first date or its deadline ("Tom: I'll email them today", "Tom: I'll have an answer by
    Wednesday", then the read-back "Tom emails them today and has an answer by Wednesday"), the
    later. An item whose owner was found (`owned`: a request's, the person asked, None when nobody
    took it on) is that `owner`'s."""

    def commitment(item: Said) -> set[tuple[str, str]]:
        if getattr(item, "owned", False):
            owner = getattr(item, "owner", None)
        else:
            owner = addressed_owner(item.text, speaking=signals.speaking) or item.speaker
        if not owner or not signals.is_action_item(item.text):
            return set()
        return {(owner.lower(), when.lower()) for when in (due_date(item.text), _deadline(item.text)) if when}

    keys = [commitment(item) for item in items]
    return [
        item
        for position, item in enumerate(items)
        if not any(keys[position] & later for later in keys[position + 1 :])
    ]


# Two decisions choose the same thing when their first this many content words after the cue agree.
_OBJECT_WORDS = 2


def one_per_decision(items: Sequence[Said], signals: DecisionSignals) -> list[Said]:
    """One item per decision: of two decisions stated as made that choose the same thing (the same
    first two content words after their cue: "let's go for a touch screen one with several
    submenus" and, later, "so let's go with a um touch screen with ... battery technology"), the
    later, the settled version. Anything else passes untouched, in order."""

    def chosen(item: Said) -> tuple[str, ...] | None:
        cue = signals._decision_cue(item.text)
        if cue is None:
            return None
        said = [w for w in terms(item.text[cue.end() :]) if w not in STOP_WORDS and content_count([w])]
        return tuple(said[:_OBJECT_WORDS]) if len(said) >= _OBJECT_WORDS else None

    keys = [chosen(item) for item in items]
    return [
        item
        for position, item in enumerate(items)
        if keys[position] is None or keys[position] not in keys[position + 1 :]
    ]
