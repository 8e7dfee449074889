"""German and Dutch put the verb second: "Das Protokoll schreibt Bernd bis Freitag" gives the task to
Bernd, who is named after the verb, not to the word that opens the sentence (issue 22: the owner is
the person the sentence assigns). Read where the meeting's own speakers are named, so a noun after
the verb ("Das Angebot enthält Preise") owns nothing; a word that opens such a sentence ("Darum",
"Morgen") is never an owner."""

from __future__ import annotations

import pytest

from tests.support.summaries import summarised
from worker.meeting import addressed_owner

_DE = "Anna: Wir gehen die Aufgaben für die Messe durch.\nBernd: Gut.\nClaudia: Ja.\n"
_NL = "Anna: We lopen de taken voor de beurs door.\nPiet: Goed.\nSanne: Ja.\n"


def _actions(meeting: str) -> list[dict[str, object]]:
    items: list[dict[str, object]] = summarised(meeting)["action_items"]
    return items


@pytest.mark.parametrize(
    ("meeting", "sentence", "owner"),
    [
        (_DE, "Das Protokoll schreibt Bernd bis Freitag.", "Bernd"),
        (_DE, "Den Bericht schickt Claudia bis Montag an die Kunden.", "Claudia"),
        (_DE, "Darum kümmert sich Bernd bis Freitag.", "Bernd"),
        (_DE, "Protokoll schreibt Bernd bis Freitag.", "Bernd"),
        (_DE, "Morgen schickt Claudia die Folien an alle.", "Claudia"),
        (_NL, "De notulen maakt Piet voor vrijdag.", "Piet"),
        (_NL, "Daarom stuurt Sanne de offerte voor vrijdag.", "Sanne"),
    ],
)
def test_the_speaker_named_after_the_verb_owns_the_task(meeting: str, sentence: str, owner: str) -> None:
    found = [a for a in _actions(f"Anna: {sentence}\n{meeting}") if sentence[:12] in str(a["task"])]
    assert [a["owner"] for a in found] == [owner], _actions(f"Anna: {sentence}\n{meeting}")


@pytest.mark.parametrize(
    "sentence",
    [
        "Das sagt Bernd schon seit Wochen, bis Freitag wird das nichts.",
        "Das hat Bernd bis Freitag erledigt.",
    ],
)
def test_a_speaker_named_after_a_verb_that_reports_owns_nothing(sentence: str) -> None:
    owners = [a["owner"] for a in _actions(f"Anna: {sentence}\n{_DE}")]
    assert "Bernd" not in owners


@pytest.mark.parametrize(
    "sentence",
    [
        "Darum kümmert sich jemand bis Freitag.",
        "Morgen schickt jemand die Folien.",
        "Deshalb schickt jemand die Folien bis Freitag.",
        "Daarom stuurt iemand de offerte voor vrijdag.",
    ],
)
def test_an_adverb_opening_a_verb_second_sentence_is_no_owner(sentence: str) -> None:
    assert addressed_owner(sentence) is None
