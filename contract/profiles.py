"""Summary profiles: which sections a summary has and what the model is told to write in each.

One table of records (`PROFILES`), one per kind of recording people summarise, plus the user's own,
defined in one JSON document the deployment points at (the dispatcher's `SUMMARY_PROFILES_URI`:
an S3 object or the document inline) and sent to the worker as the profile's definition in the
job input, so a new profile never needs a new image. An upload picks one by name
(`x-amz-meta-summary-profile`).

A section has a `kind`, which says how the extractive engine (no model) fills it and how the
structure JSON reads it: `overview` (a paragraph of the most central sentences), `points` (bullets
of central sentences), `decisions`, `actions` (detected by cue words, dates and owners), and
`notes`, which only a language model writes (the extractive engine says it cannot fill it).
Sections keyed `overview`, `key_points`, `decisions` or `action_items` get their heading in the
summary's language from the language records (worker/meeting/languages.toml); any other section's
heading is its `titles` entry for that language when the profile gives one, else its `title` as
written (the stated fallback: every engine writes exactly that heading, so the structure JSON can
read the section back in any language).

Stdlib only: the dispatcher (which reads the user's document) and the worker both ship it.
"""

import json
import re
import typing
from dataclasses import dataclass
from typing import Any, Literal

from contract.options import OptionValueError, check_max_tokens, check_profile_name

SectionKind = Literal["overview", "points", "decisions", "actions", "notes"]
SECTION_KINDS: tuple[str, ...] = typing.get_args(SectionKind)
# The four sections every language record has a heading for, by key.
STANDARD_KEYS = ("overview", "key_points", "decisions", "action_items")
MAX_SECTIONS = 12
MAX_INSTRUCTIONS = 2000
MAX_PROFILES = 100
_KEY = re.compile(r"[a-z][a-z0-9_]{0,39}", re.ASCII)
# A heading on one line, without Markdown that would open another section.
_TITLE = re.compile(r"[^\n\r#*|:：]{1,60}")

TIMES = (
    "Where the transcript's lines start with a time such as [00:01:02], end each key point, decision "
    "and action item with the time of the line it comes from, in the same form, e.g. [00:01:02]."
)


class ProfileError(ValueError):
    """A profile document that cannot be used; the message names the place in it."""


@dataclass(frozen=True)
class Section:
    key: str  # its name in the structure JSON
    title: str  # its heading in English
    kind: SectionKind
    instructions: str  # what the model writes in it
    # Its heading in other languages, by code ({"de": "Hindernisse"}); else `title` as written.
    titles: tuple[tuple[str, str], ...] = ()

    def heading(self, code: str | None) -> str:
        """Its own heading in language `code` (the four standard sections' come from the records)."""
        return dict(self.titles).get(code or "", self.title)

    def headings(self) -> tuple[str, ...]:
        """Every heading it may be written under."""
        return (self.title, *(title for _, title in self.titles))


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    instructions: str  # to the model, about the summary as a whole
    sections: tuple[Section, ...]
    max_tokens: int | None = None  # the summary's length, when the upload does not say

    def fillable(self) -> tuple[bool, ...]:
        """Per section, whether an engine without a model (the extractive one) can write it: the
        first section of each kind but `notes`."""
        seen: set[str] = set()
        out = []
        for section in self.sections:
            out.append(section.kind != "notes" and section.kind not in seen)
            seen.add(section.kind)
        return tuple(out)

    def model_only(self) -> list[str]:
        """The keys of the sections only a language model can write (the extractive engine says so in
        them)."""
        return [s.key for s, fills in zip(self.sections, self.fillable(), strict=True) if not fills]

    def as_dict(self) -> dict[str, Any]:
        """The definition as the job input and the user's document write it."""
        out: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "instructions": self.instructions,
            "sections": [
                {"key": s.key, "title": s.title, "kind": s.kind, "instructions": s.instructions}
                | ({"titles": dict(s.titles)} if s.titles else {})
                for s in self.sections
            ],
        }
        if self.max_tokens is not None:
            out["max_tokens"] = self.max_tokens
        return out


def _s(key: str, title: str, kind: SectionKind, instructions: str) -> Section:
    return Section(key, title, kind, instructions)


_OVERVIEW = _s(
    "overview",
    "Overview",
    "overview",
    "two to four sentences on the purpose and outcome of the conversation.",
)
_DECISIONS = _s(
    "decisions",
    "Decisions",
    "decisions",
    "a bulleted list of the decisions the participants made, one per bullet, each stated as settled "
    '("The hotfix ships on its own"); not questions, proposals or what is still to be decided '
    '("None" if nothing was decided).',
)
_ACTIONS = _s(
    "action_items",
    "Action items",
    "actions",
    'a bulleted list of "Owner: task (due date)", each task once; the owner is the person who will do '
    'it, by the name the transcript uses (not whoever read the list out), "Unassigned" when nobody is '
    "named; the due date is a day or date the transcript gives, left out when none is.",
)

PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            "meeting",
            "Any meeting: overview, key points, decisions, action items.",
            "",  # its sections say it all: the prompt every summary had before profiles
            (
                _OVERVIEW,
                _s(
                    "key_points",
                    "Key points",
                    "points",
                    "a bulleted list of the main topics, facts and arguments.",
                ),
                _DECISIONS,
                _ACTIONS,
            ),
        ),
        Profile(
            "standup",
            "A daily stand-up: what each person did, what blocks them, who does what next.",
            "Summarise the stand-up person by person; keep it short.",
            (
                _OVERVIEW,
                _s(
                    "key_points",
                    "Key points",
                    "points",
                    "a bulleted list of what each person reported, one line each.",
                ),
                _s(
                    "blockers",
                    "Blockers",
                    "notes",
                    'a bulleted list of what blocks someone and who can help ("None").',
                ),
                _ACTIONS,
            ),
            max_tokens=400,
        ),
        Profile(
            "sales-call",
            "A sales or customer call: needs, objections, commitments, next steps.",
            "Summarise the call from the seller's side; name the customer's organisation and people.",
            (
                _OVERVIEW,
                _s(
                    "key_points",
                    "Key points",
                    "points",
                    "a bulleted list of the customer's needs, budget and timeline.",
                ),
                _s(
                    "objections",
                    "Objections",
                    "notes",
                    "a bulleted list of concerns the customer raised and the answers given.",
                ),
                _DECISIONS,
                _ACTIONS,
            ),
        ),
        Profile(
            "interview",
            "An interview: the questions asked and what was answered.",
            "Summarise the interview faithfully; attribute every answer to the person who gave it.",
            (
                _OVERVIEW,
                _s(
                    "key_points",
                    "Key points",
                    "points",
                    "a bulleted list of the main answers, each with who gave it.",
                ),
                _s(
                    "follow_ups",
                    "Follow-up questions",
                    "notes",
                    "a bulleted list of questions left open or worth asking next.",
                ),
                _ACTIONS,
            ),
        ),
        Profile(
            "lecture",
            "A lecture or talk: the main ideas, the questions asked, any assignments.",
            "Summarise the talk for someone who missed it; keep definitions and examples.",
            (
                _OVERVIEW,
                _s(
                    "key_points",
                    "Key points",
                    "points",
                    "a bulleted list of the main ideas, definitions and examples.",
                ),
                _s(
                    "questions",
                    "Questions",
                    "notes",
                    "a bulleted list of the audience's questions and the answers.",
                ),
                _s(
                    "action_items",
                    "Action items",
                    "actions",
                    'a bulleted list of assignments and readings ("None").',
                ),
            ),
        ),
        Profile(
            "one-on-one",
            "A one-on-one: topics, feedback, agreements and follow-ups.",
            "Summarise the one-on-one for both participants.",
            (
                _OVERVIEW,
                _s("key_points", "Key points", "points", "a bulleted list of the topics discussed."),
                _s(
                    "feedback", "Feedback", "notes", "a bulleted list of feedback given, in either direction."
                ),
                _DECISIONS,
                _ACTIONS,
            ),
        ),
    )
}
DEFAULT = PROFILES["meeting"]


def profile_from_dict(raw: Any, where: str = "profile") -> Profile:
    """A user's profile definition (the JSON shape `Profile.as_dict` writes), checked; ProfileError
    names the field."""
    if not isinstance(raw, dict):
        raise ProfileError(f"{where} must be an object")
    allowed = {"name", "description", "instructions", "sections", "max_tokens"}
    extra = sorted(set(raw) - allowed)
    if extra:
        raise ProfileError(f"{where} has unknown fields {extra}; allowed: {sorted(allowed)}")
    name = _text(raw, "name", where, 40)
    try:
        check_profile_name(name)
        max_tokens = raw.get("max_tokens")
        if max_tokens is not None:
            if not isinstance(max_tokens, int) or isinstance(max_tokens, bool):
                raise OptionValueError("must be an integer")
            check_max_tokens(max_tokens)
    except OptionValueError as exc:
        raise ProfileError(f"{where}: {exc}") from None
    sections = raw.get("sections")
    if not isinstance(sections, list) or not 1 <= len(sections) <= MAX_SECTIONS:
        raise ProfileError(f"{where}.sections must be a list of 1 to {MAX_SECTIONS} sections")
    parsed = tuple(_section(s, f"{where}.sections[{i}]") for i, s in enumerate(sections))
    keys = [s.key for s in parsed]
    if len(set(keys)) != len(keys):
        raise ProfileError(f"{where}.sections: each key must be used once, got {keys}")
    return Profile(
        name=name,
        description=_text(raw, "description", where, 200, required=False),
        instructions=_text(raw, "instructions", where, MAX_INSTRUCTIONS, required=False),
        sections=parsed,
        max_tokens=raw.get("max_tokens"),
    )


def _section(raw: Any, where: str) -> Section:
    if not isinstance(raw, dict) or set(raw) - {"key", "title", "kind", "instructions", "titles"}:
        raise ProfileError(f"{where} must be an object with key, title, kind, instructions and titles")
    key, title = _text(raw, "key", where, 40), _text(raw, "title", where, 60)
    if not _KEY.fullmatch(key):
        raise ProfileError(f"{where}.key must be lower-case letters, digits and '_', got {key!r}")
    if not _TITLE.fullmatch(title):
        raise ProfileError(f"{where}.title must be one line of 1 to 60 characters without # * | or :")
    kind = raw.get("kind", "notes")
    if kind not in SECTION_KINDS:
        raise ProfileError(f"{where}.kind must be one of {', '.join(SECTION_KINDS)}, got {kind!r}")
    titles = raw.get("titles", {})
    if not isinstance(titles, dict) or len(titles) > 50:
        raise ProfileError(f"{where}.titles must be an object of language code to heading")
    for code in titles:
        if not _KEY.fullmatch(code.replace("-", "_").lower()) or len(code) > 16:
            raise ProfileError(f"{where}.titles: {code[:20]!r} is not a language code")
        if not isinstance(titles[code], str) or not _TITLE.fullmatch(titles[code]):
            raise ProfileError(
                f"{where}.titles.{code} must be one line of 1 to 60 characters without # * | :"
            )
    return Section(
        key,
        title.strip(),
        kind,
        _text(raw, "instructions", where, MAX_INSTRUCTIONS, required=False),
        tuple((code, value.strip()) for code, value in titles.items()),
    )


def _text(raw: dict[str, Any], field: str, where: str, limit: int, required: bool = True) -> str:
    value = raw.get(field, None if required else "")
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
        raise ProfileError(
            f"{where}.{field} must be a {'non-empty ' if required else ''}string of at most "
            f"{limit} characters"
        )
    return value.strip()


def parse_document(data: bytes | str) -> dict[str, Profile]:
    """The user's profiles document: `{"profiles": [<profile>, ...]}`. A name may not be a
    built-in's (an upload naming it would not know which it gets)."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise ProfileError(f"the profiles document is not JSON: {exc}") from None
    items = doc.get("profiles") if isinstance(doc, dict) else None
    if not isinstance(items, list) or len(items) > MAX_PROFILES:
        raise ProfileError(f'the profiles document must be {{"profiles": [...]}} with at most {MAX_PROFILES}')
    out: dict[str, Profile] = {}
    for i, item in enumerate(items):
        profile = profile_from_dict(item, f"profiles[{i}]")
        if profile.name in PROFILES or profile.name in out:
            raise ProfileError(f"profiles[{i}].name {profile.name!r} is already a profile's name")
        out[profile.name] = profile
    return out
