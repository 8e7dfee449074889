"""Languages are records: each holds every word the worker needs in it, and each is complete."""

from __future__ import annotations

import re
from dataclasses import fields

import pytest

from worker.meeting import LANGUAGES, Language, parse_structure, resolve_language
from worker.meeting.languages import NAMES, PATTERNS

RECORDS = list(LANGUAGES.values())


@pytest.mark.parametrize("lang", RECORDS, ids=[lang.code for lang in RECORDS])
def test_every_language_record_fills_every_field(lang: Language) -> None:
    empty = [
        f.name for f in fields(lang) if f.name not in Language.MAY_BE_EMPTY and getattr(lang, f.name) == ""
    ]
    empty += [
        f.name for f in fields(lang) if f.name not in Language.MAY_BE_EMPTY and getattr(lang, f.name) == ()
    ]
    assert not empty, f"{lang.code} leaves {empty} empty"


@pytest.mark.parametrize("lang", RECORDS, ids=[lang.code for lang in RECORDS])
def test_every_language_record_has_fields_of_the_right_shape(lang: Language) -> None:
    for f in fields(lang):
        value = getattr(lang, f.name)
        if f.type == "bool":
            assert isinstance(value, bool), f.name
        elif f.type == "str":
            assert isinstance(value, str) and value == value.strip(), f.name
        elif f.name in PATTERNS:  # regular expressions, one alternative an item
            assert isinstance(value, tuple) and all(isinstance(p, str) and p for p in value), f.name
            re.compile("|".join(value))  # a pattern that does not compile fails here, not at import
        else:  # word lists: lower case, stripped, no duplicates
            assert isinstance(value, tuple), f.name
            assert all(isinstance(w, str) and w and w == w.strip().lower() for w in value), (f.name, value)
            assert len(set(value)) == len(value), (f.name, value)
    assert lang.script in NAMES
    assert lang.none.lower() in lang.none_words
    assert lang.label.startswith("[") and lang.label.endswith("]")
    assert resolve_language(lang.name) == lang.code
    assert all(resolve_language(native) == lang.code for native in lang.native)


@pytest.mark.parametrize("lang", RECORDS, ids=[lang.code for lang in RECORDS])
def test_a_summary_in_each_language_reads_back_under_its_own_headings(lang: Language) -> None:
    text = "\n".join(
        [
            f"## {lang.overview}",
            "Alpha.",
            f"## {lang.key_points}",
            "- Beta.",
            f"## {lang.decisions}",
            f"- {lang.none}",
            f"## {lang.action_items}",
            f"- Gamma; {lang.owner_fields[0]}: Dana; {lang.due_fields[0]}: 2026-03-03",
        ]
    )
    structure = parse_structure(text)
    assert structure["parsed"] and structure["overview"] == "Alpha."
    assert structure["decisions"] == []
    assert structure["action_items"][0]["owner"] == "Dana"
    assert structure["action_items"][0]["due"] == "2026-03-03"


def test_assigned_to_names_the_owner_not_the_due_date() -> None:
    # "assigned to" was a field name but not an owner key, so its value became the due date.
    text = "## Overview\nA call.\n## Action items\n- Send the deck (Assigned to: Bob, Due: Friday)\n"
    item = parse_structure(text)["action_items"][0]
    assert (item["owner"], item["due"], item["task"]) == ("Bob", "Friday", "Send the deck")
