"""Transcripts often drop the question mark (QMSum's AMI and ICSI meetings are lower-case speech):
"Have we decided on the colour", "Are we agreed on the rubber case" ask, by their word order, in
every language that marks a question so; and "We've decided nothing yet" decides nothing. None is a
decision (issue 22: not questions, not open mentions); the statements they resemble still are."""

from __future__ import annotations

import pytest

from tests.support.summaries import summarised
from worker.meeting import DecisionSignals


@pytest.mark.parametrize(
    ("code", "sentence"),
    [
        ("en", "Have we decided on the colour"),
        ("en", "So are we agreed on the rubber case"),
        ("en", "Do we all agree that it's rubber"),
        ("en", "um did everyone agree on the price"),
        ("en", "Haven't we decided that the case is rubber"),
        ("en", "We've decided nothing yet on the colour."),
        ("en", "We agreed on nothing."),
        ("de", "Haben wir uns auf die Farbe geeinigt"),
        ("de", "Also, sind wir uns einig, ist das beschlossen"),
        ("fr", "Est-ce qu'on a décidé de la couleur"),
        ("fr", "Avons-nous décidé de la couleur"),
        ("es", "¿Hemos decidido el color"),
        ("nl", "Hebben we besloten over de kleur"),
    ],
)
def test_a_question_without_its_mark_or_an_empty_decision_is_no_decision(code: str, sentence: str) -> None:
    assert not DecisionSignals(code).is_decision(sentence)


@pytest.mark.parametrize(
    ("code", "sentence"),
    [
        ("en", "We decided on the rubber case."),
        ("en", "Everyone agreed on the rubber case"),
        ("en", "It is decided: the case is rubber."),
        ("en", "We decided nothing changes for the users."),
        ("de", "Machen wir es so."),
        ("de", "Wir haben uns auf Gelb geeinigt"),
        ("nl", "We hebben besloten om de kleur geel te maken"),
    ],
)
def test_the_statements_they_resemble_are_decisions(code: str, sentence: str) -> None:
    assert DecisionSignals(code).is_decision(sentence)


def test_unpunctuated_questions_are_not_listed_as_decisions() -> None:
    text = (
        "Alice: We compared the rubber case and the plastic case for the remote control.\n"
        "Bob: Rubber feels better in the hand and the users in the survey liked it.\n"
        "Alice: So are we agreed on the rubber case\n"
        "Bob: Yes, we decided on the rubber case.\n"
        "Alice: Have we decided on the colour\n"
        "Dave: We've decided nothing yet on the colour.\n"
    )
    decisions = summarised(text)["decisions"]
    assert [d["text"] for d in decisions] == ["Yes, we decided on the rubber case."]
