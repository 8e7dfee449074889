"""Languages: one record per localized language holding every word the worker needs in it.

The records are `languages.toml` beside this module, one table a language, read once at import
(package data, like py3langid's model): its headings and the synonyms models write for them, the
extractive label, its words for "none" and "unassigned", the names of owner and due fields and
table columns, decision and action-item cues and what cancels them (acts of the meeting itself,
requests to say something, agenda lines), weekdays, months and relative days, the words that
give a named person a task, relative pronouns and sentence fillers (which open a sentence without
being a name), the replies that take a request on, the script its names are written in, and what
the language is called. Every pattern the worker matches (`worker.meeting.signals`,
`worker.meeting.structure`) is compiled from these records, so a new language is one table in that
file; `tests/unit/meeting/test_languages.py` checks that every record is complete.

Localized: en, de, fr, es, it, pt, nl, zh, ja, ko; any other language gets English headings and a
label that names the language, so a reader knows why.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from importlib import resources
from typing import Any

# What a person's name opening a sentence looks like, per script.
NAMES = {
    "latin": r"[A-ZÀ-Þ][\w'’-]{1,30}(?:\s[A-ZÀ-Þ][\w'’-]{1,30})?",  # "Dave", "Marie Curie"
    "han": r"[\u4e00-\u9fff]{2,4}?",  # "张伟"
    "kana": r"[\u3040-\u30ff\u4e00-\u9fff]{1,6}?",  # "鈴木"
    "hangul": r"[가-힣]{2,4}",  # "민수"
}


# The fields that are regular expressions, one alternative an item.
PATTERNS = (
    "decision_cues", "deliberation_cues", "unsettled", "unsettled_after", "requests", "action_cues",
    "in_meeting", "asking", "agenda", "dates", "assigning", "handing_on", "questions",
)  # fmt: skip


@dataclass(frozen=True)
class Language:
    """Every word list of one language. The tuples are plain words, lower case (table columns are
    prefixes: "date" reads "dates"), except `PATTERNS`: regular expressions, one alternative an item.
    Only the fields in `MAY_BE_EMPTY` may be empty."""

    code: str
    name: str  # in English, for prompts and the fallback label
    native: tuple[str, ...]  # what the language is called in itself ("deutsch")
    overview: str
    key_points: str
    decisions: str
    action_items: str
    # Headings models write instead of ours, per section.
    overview_also: tuple[str, ...]
    key_points_also: tuple[str, ...]
    decisions_also: tuple[str, ...]
    action_items_also: tuple[str, ...]
    label: str  # the extractive engine's first line
    none: str
    unassigned: str
    left_open: tuple[str, ...]  # an owner or a due date a model leaves open: "TBD", "Offen", "待定"
    none_words: tuple[str, ...]  # a line opening with one says there is nothing ("Keine Entscheidungen")
    owner_fields: tuple[str, ...]  # "Owner: Bob", "Verantwortlich: Bob"
    due_fields: tuple[str, ...]  # "Due: Friday", "(fällig Freitag)"
    who: tuple[str, ...]  # a table column of owners, besides the owner fields
    when: tuple[str, ...]  # a table column of due dates, besides the due fields
    task_columns: tuple[str, ...]
    decision_cues: tuple[str, ...]  # a decision stated as made ("we decided", "Beschluss:")
    deliberation_cues: tuple[str, ...]  # talk about deciding, settled or not ("we have to decide")
    unsettled: tuple[str, ...]  # before a decision cue, it is none: negation, condition, intention
    unsettled_after: tuple[str, ...]  # the same after the cue, for languages that put them there
    conditional: tuple[str, ...]  # before an action cue, a condition: "if we need to", "wenn wir müssen"
    no_one: tuple[str, ...]  # before an action cue, nobody acts: "nobody has been assigned", "niemand"
    elsewhere: tuple[str, ...]  # before a decision cue, a talk outside the meeting: "I talked to Mari"
    requests: tuple[str, ...]  # a question that asks someone to act ("can you", "kannst du")
    action_cues: tuple[str, ...]
    in_meeting: tuple[str, ...]  # an act of the meeting itself ("I'll show you", "next slide"): no task
    not_tasks: tuple[str, ...]  # a thanks, praise or absence ("I'll be out on Friday"): no task
    asking: tuple[str, ...]  # a request to say something ("can you tell us"): a question, no task
    agenda: tuple[str, ...]  # the meeting's order of business ("the presentations", "Item 2:"): no decision
    dates: tuple[str, ...]  # weekdays, months, relative days ("tomorrow", "next week")
    script: str  # how a name is written: a key of NAMES
    assigning: tuple[str, ...]  # what follows a name to give them the task ("will", "soll", "负责")
    relative: tuple[str, ...]  # "May, who is joining us": a relative clause after a name, no owner
    fillers: tuple[str, ...]  # sentence openers that are not names ("okay", "and", "we")
    articles: tuple[str, ...]  # the word after one is a noun, not a name ("The Board will ...")
    # Sounds that only hold the floor ("um", "äh", "euh"): a clean-verbatim summary leaves them out.
    hesitations: tuple[str, ...]
    # Words a sentence says twice on purpose ("I think that that works", "nous nous sommes vus"):
    # a clean-verbatim summary keeps both, and drops every other word said twice in a row.
    said_twice: tuple[str, ...]
    # Asides that hold the floor when set off by commas (", you know,", ", weißt du,"): left out
    # there, kept inside a sentence ("Do you know the price?").
    asides: tuple[str, ...]
    assent: tuple[str, ...]  # a reply that takes a request on ("yeah", "will do", "mach ich")
    # Months that are also names or verbs ("May", "march"): a date only beside a day, a year or one
    # of `before_dates` ("by May").
    ambiguous_months: tuple[str, ...] = ()
    before_dates: tuple[str, ...] = ()
    # Never an owner though they open a sentence before a comma or a verb: titles ("Chair, ..."),
    # prepositions that open a date ("In May, ..."), days ("Yesterday, ..."), the verbs that open an
    # instruction ("Compare prices ...").
    not_owners: tuple[str, ...] = ()
    # Verbs that report a view or a wish ("says", "wants", "meint"): a name before one owns no task,
    # though the verb ends like one that gives it ("sends", "schickt"; `assigning`'s endings).
    reporting: tuple[str, ...] = ()
    # A day and month in digits without a year ("4.12.") is a date only after one of these ("bis").
    before_numeric_dates: tuple[str, ...] = ()
    # A sentence that opens with one asks, its question mark left out ("Have we decided ...").
    questions: tuple[str, ...] = ()
    # Before a participant's name, the chair handing them a task ("ask", "let's have"): they own it.
    handing_on: tuple[str, ...] = ()
    # Before a condition, a concession ("even if", "auch wenn"): the sentence still decides.
    concessive: tuple[str, ...] = ()
    spaced: bool = True  # words are separated by spaces (cue words are matched as whole words)
    # Every noun is capitalised (German): a capital letter before a decision cue marks no name.
    nouns_capitalised: bool = False
    # The finite verb comes second (German, Dutch): a name right after it is its subject.
    verb_second: bool = False

    # Languages that write relative clauses before the noun and fillers glued to the next word
    # (Chinese, Japanese, Korean) have none to list; a table column may be named by the field alone.
    MAY_BE_EMPTY = frozenset(
        {
            "who",
            "when",
            "relative",
            "fillers",
            "articles",
            "ambiguous_months",
            "before_dates",
            "unsettled_after",
            "hesitations",
            "said_twice",
            "asides",
        }
        | {"not_owners", "before_numeric_dates", "reporting", "concessive", "handing_on", "questions"}
    )

    @property
    def headings(self) -> tuple[str, str, str, str]:
        return (self.overview, self.key_points, self.decisions, self.action_items)

    def heading(self, key: str, fallback: str) -> str:
        """A summary section's heading: this language's for the four standard sections (by key:
        `overview`, `key_points`, `decisions`, `action_items`), else `fallback` (a summary
        profile's own section title, which the records have no word for)."""
        standard = ("overview", "key_points", "decisions", "action_items")
        return self.headings[standard.index(key)] if key in standard else fallback

    @property
    def person(self) -> str:
        """A name opening a sentence, as a regular expression."""
        return NAMES[self.script]


def alternation(words: Iterable[str]) -> str:
    """Plain words → one regular-expression alternation, in order, each once."""
    return "|".join(re.escape(word) for word in dict.fromkeys(words))


def _record(code: str, table: dict[str, Any]) -> Language:
    names = {f.name for f in fields(Language)}
    unknown = set(table) - names
    if unknown:
        raise ValueError(f"languages.toml [{code}]: unknown fields {sorted(unknown)}")
    values: dict[str, Any] = {
        key: tuple(value) if isinstance(value, list) else value for key, value in table.items()
    }
    return Language(code=code, **values)


def _load() -> dict[str, Language]:
    text = resources.files(__package__).joinpath("languages.toml").read_text(encoding="utf-8")
    return {code: _record(code, table) for code, table in tomllib.loads(text).items()}


LANGUAGES: dict[str, Language] = _load()
ENGLISH = LANGUAGES["en"]
# Names py3langid may answer with, for the fallback label and prompts (others are shown as codes).
_OTHER_NAMES = {
    "sv": "Swedish", "da": "Danish", "no": "Norwegian", "fi": "Finnish", "pl": "Polish", "cs": "Czech",
    "ru": "Russian", "uk": "Ukrainian", "tr": "Turkish", "el": "Greek", "ar": "Arabic", "he": "Hebrew",
    "hi": "Hindi", "id": "Indonesian", "vi": "Vietnamese", "th": "Thai", "hu": "Hungarian", "ro": "Romanian",
    "ca": "Catalan",
}  # fmt: skip


def language_name(code: str) -> str:
    lang = LANGUAGES.get(code)
    return lang.name if lang else _OTHER_NAMES.get(code, code)


def resolve_language(language: str | None) -> str | None:
    """`options.language` ("de", "de-AT", "es-419", "zh_CN", "German", "Deutsch") → a code; None
    when not given. A locale tag resolves to its language subtag."""
    if not language:
        return None
    value = language.strip().lower()
    for code, lang in LANGUAGES.items():
        if value == lang.name.lower():
            return code
    for code, name in _OTHER_NAMES.items():
        if value == name.lower():
            return code
    for code, lang in LANGUAGES.items():
        if value in lang.native:
            return code
    return re.split(r"[-_.]", value)[0]


def language_for(code: str | None) -> Language:
    """Headings and labels for `code`; English, with a label naming the language, for the others."""
    if code in LANGUAGES:
        return LANGUAGES[code]
    if not code:
        return ENGLISH
    label = ENGLISH.label.removesuffix("]") + f" The transcript is in {language_name(code)} ({code}).]"
    return replace(ENGLISH, code=code, name=language_name(code), label=label)


def all_headings() -> frozenset[str]:
    return frozenset(h for lang in LANGUAGES.values() for h in lang.headings)


def all_labels() -> frozenset[str]:
    return frozenset(lang.label for lang in LANGUAGES.values())


def all_nones() -> frozenset[str]:
    return frozenset(lang.none for lang in LANGUAGES.values())
