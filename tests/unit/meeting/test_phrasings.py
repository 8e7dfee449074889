"""Decisions and action items as people phrase them, in each localized language (issue 14): headings,
the decision, owned and dated action items; months that are names or verbs; the owner a sentence
names; mixed-language meetings.
"""

from __future__ import annotations

import pytest

from tests.support.paths import TRANSCRIPTS
from worker.engines import ExtractiveEngine
from worker.meeting import (
    LANGUAGES,
    DecisionSignals,
    addressed_owner,
    detect_language,
    due_date,
    parse_structure,
    parse_transcript,
)


def _read(name: str) -> str:
    return (TRANSCRIPTS / name).read_text(encoding="utf-8")


# Per language: the heading of the decisions section, a decision, and (owner, due) of the action
# items the meeting gives, each phrased the way people say it in that language.
MEETINGS = {
    "de": ("Entscheidungen", "Wir haben beschlossen", [("Jonas", "Freitag"), ("Markus", "Mittwoch")]),
    "fr": ("Décisions", "Nous avons décidé", [("Marie", "vendredi"), ("Paul", "jeudi")]),
    "es": ("Decisiones", "Hemos decidido", [("Carlos", "viernes"), ("Carlos", "lunes")]),
    "it": ("Decisioni", "Abbiamo deciso", [("Marco", "giovedì"), ("Marco", "lunedì")]),
    "pt": ("Decisões", "Decidimos trocar", [("João", "até sexta-feira"), ("João", "na segunda")]),
    "nl": ("Besluiten", "We hebben besloten", [("Pieter", "vrijdag"), ("Pieter", "woensdag")]),
    "zh": ("决定", "我们决定", [("李娜", "周四"), ("张伟", "下周一")]),
    "ja": ("決定事項", "決めました", [("佐藤", "金曜日"), ("鈴木", "月曜日")]),
    "ko": ("결정 사항", "결정했습니다", [("이지은", "금요일"), ("박준호", "월요일")]),
}


@pytest.mark.parametrize("code", sorted(MEETINGS))
def test_a_meeting_in_each_language_gets_its_headings_decision_and_owned_dated_action_items(
    code: str,
) -> None:
    heading, decision, actions = MEETINGS[code]
    parsed = parse_transcript(_read(f"meeting_{code}.txt"), f"meeting_{code}.txt")
    assert detect_language(parsed.transcript.sample()) == code
    summary = ExtractiveEngine().summarise(parsed.transcript.body, 600, language=code)
    assert f"\n{heading}\n" in summary
    structure = parse_structure(summary, starts=parsed.transcript.starts)
    assert structure["overview"]
    assert [d["text"] for d in structure["decisions"] if decision in d["text"]]
    assert [(a["owner"], a["due"]) for a in structure["action_items"]] == actions


@pytest.mark.parametrize(
    "sentence",
    [
        "May, who is joining us from Berlin, will present the numbers.",
        "We may need more time for the review.",
        "April, which was our best month, set the target.",
        "They march on with the old plan regardless.",
    ],
)
def test_a_month_that_is_a_name_or_a_verb_is_no_date_and_no_owner(sentence: str) -> None:
    assert due_date(sentence) is None
    assert addressed_owner(sentence) is None
    assert not DecisionSignals("en").is_action(sentence)


@pytest.mark.parametrize(
    ("sentence", "when"),
    [
        ("We launch in May.", "May"),
        ("Dave, please send it by May 3.", "May 3"),
        ("The audit is due March 2027.", "March"),
        ("We ship on June 12th.", "June 12th"),
    ],
)
def test_a_month_beside_a_day_a_year_or_by_is_a_date(sentence: str, when: str) -> None:
    assert due_date(sentence) == when


@pytest.mark.parametrize(
    ("sentence", "owner"),
    [
        ("Et Paul, tu peux relancer le prestataire avant jeudi ?", "Paul"),
        ("And Dana, please send the deck by Friday.", "Dana"),
        ("Markus soll bis nächsten Mittwoch die Planung fertigstellen.", "Markus"),
        ("Marie s'occupe de prévenir les clients d'ici vendredi.", "Marie"),
        ("Carol will draft the announcement by Monday.", "Carol"),
        ("张伟负责下周一之前联系供应商。", "张伟"),
        ("鈴木さんは月曜日までにテスト計画を準備してください。", "鈴木"),
        ("박준호 씨는 월요일까지 공급업체에 연락해 주세요.", "박준호"),
        ("We will send it by Friday.", None),
        ("Wir schicken es bis Freitag.", None),
    ],
)
def test_the_owner_a_sentence_names(sentence: str, owner: str | None) -> None:
    assert addressed_owner(sentence) == owner


@pytest.mark.parametrize(
    ("text", "code"),
    [("Ok, merci.", "it"), ("Danke, bis morgen.", "de"), ("好的。", "zh"), ("네.", "ko")],
)
def test_a_short_transcript_is_read_as_one_of_the_localized_languages(text: str, code: str) -> None:
    # A few words came out Slovak or Hausa; short samples choose among the localized languages.
    assert detect_language(text) in LANGUAGES
    assert detect_language(text) == code


def test_options_language_overrides_detection_for_headings() -> None:
    body = parse_transcript(_read("meeting_de.txt"), "m.txt").transcript.body
    summary = ExtractiveEngine().summarise(body, 600, language="French")
    assert "\nDécisions\n" in summary and "\nEntscheidungen\n" not in summary


def test_a_mixed_language_meeting_finds_decisions_in_both_languages() -> None:
    text = (
        _read("meeting_de.txt")
        + "\n"
        + (
            "Tom: For the US team, we decided to keep the current release date.\n"
            "Tom: Dana will send the English release notes by Thursday.\n"
        )
    )
    parsed = parse_transcript(text, "m.txt")
    summary = ExtractiveEngine().summarise(parsed.transcript.body, 800)
    structure = parse_structure(summary, starts=parsed.transcript.starts)
    decisions = " ".join(d["text"] for d in structure["decisions"])
    assert "beschlossen" in decisions and "we decided" in decisions
    assert ("Dana", "Thursday") in [(a["owner"], a["due"]) for a in structure["action_items"]]
