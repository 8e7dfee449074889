"""Decisions said in a set phrase rather than with "decided" (issue 22): "Yellow it is.", "The
sample sensor will have to go" (dropping a part), and the everyday sentences that share their words
("Here it is.", "I have to go.") that decide nothing."""

from __future__ import annotations

import pytest

from tests.support.summaries import summarised
from worker.meeting import DecisionSignals


@pytest.mark.parametrize(
    "sentence",
    [
        "Okay, yellow it is.",
        "Rubber it is then.",
        "So, the blue one it is!",
        "Alright, HubSpot it is.",
        # QMSum ES2006d, verbatim: the meeting drops the most expensive part.
        "Yeah, the sample sensor will have to go, 'cause that's the most expensive thing on there.",
        "The speaker has to go.",
        "Okay, that has to go then.",
        "The second battery will have to go because of the cost.",
        "Der Sensor muss raus.",
        "Die Sprachsteuerung muss weg, die ist zu teuer.",
        # "So it's X" (issue 22's own example), said as the conclusion: with its "then".
        "So it's rubber, then.",
        "Okay, so it's the yellow one then.",
        "So it's Friday then.",
        "So we go with the rubber case.",
        "Then we go for the smaller battery.",
        "The consensus is rubber for the case.",
    ],
)
def test_a_decision_said_in_a_set_phrase_is_a_decision(sentence: str) -> None:
    code = "de" if sentence.startswith("D") else "en"
    assert DecisionSignals(code).is_decision(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "Okay here it is.",
        "A little later but here it is.",
        "So that's exactly what it is.",
        "I think it is.",
        "Yes it is.",
        "Of course it is.",
        "I don't know where it is.",
        "It's just it is what it is.",
        "I have to go.",
        "We have to go through this process first.",
        "It has to go to twelve, right",
        "If the speaker has to go, we lose the locator.",
        "Does the speaker have to go?",
        "Ich muss weg.",
        "So it's a bit expensive then.",
        "So it's not clear yet.",
        "So it's too late then.",
        "So it's fine then.",
        "If we go with the rubber case, it costs more.",
        "Do we go with the rubber case?",
        "Every time we go for lunch we talk about it.",
        "There is no consensus yet.",
    ],
)
def test_a_sentence_that_only_shares_the_phrase_is_no_decision(sentence: str) -> None:
    code = "de" if sentence.startswith("Ich") else "en"
    assert not DecisionSignals(code).is_decision(sentence)


def test_a_set_phrase_decision_is_listed_with_what_it_decides() -> None:
    text = (
        "Ana: We compared the yellow case and the grey case for the remote.\n"
        "Ben: The yellow case tested better with the younger users in the survey.\n"
        "Ana: Okay, yellow it is.\n"
        "Ben: Great, I'll tell the designers about the yellow case tomorrow.\n"
    )
    decisions = summarised(text)["decisions"]
    assert [d["text"] for d in decisions] == ["Okay, yellow it is."]


# "So we take X" said as the conclusion, in each language the engine localises (the probe that found
# it: "Also, wir nehmen das blaue Logo." and "Donc on garde le logo bleu." were no decisions, while
# Spanish's "Entonces nos quedamos con el logo azul." was).
@pytest.mark.parametrize(
    ("code", "sentence"),
    [
        ("de", "Also, wir nehmen das blaue Logo."),
        ("de", "Dann nehmen wir den kleineren Akku."),
        ("de", "Gut, dann bleiben wir bei Anbieter B."),
        ("fr", "Donc on garde le logo bleu."),
        ("fr", "Bon, alors on prend la batterie la plus petite."),
        ("es", "Entonces vamos con el proveedor B."),
        ("it", "Allora prendiamo il logo blu."),
        ("it", "Quindi andiamo con il fornitore B."),
        ("pt", "Então vamos com o fornecedor B."),
        ("pt", "Ficamos com o logo azul."),
        ("nl", "Dan nemen we het blauwe logo."),
        ("nl", "Dus we kiezen de kleinere batterij."),
    ],
)
def test_so_we_take_x_said_as_the_conclusion_is_a_decision(code: str, sentence: str) -> None:
    assert DecisionSignals(code).is_decision(sentence)


@pytest.mark.parametrize(
    ("code", "sentence"),
    [
        ("de", "Dann nehmen wir mal an, dass der Akku reicht."),
        ("de", "Nehmen wir das blaue Logo?"),
        ("de", "Wenn wir das blaue Logo nehmen, wird es teurer."),
        ("fr", "Donc on prend une pause de cinq minutes ?"),
        ("fr", "Si on garde le logo bleu, ça coûte plus cher."),
        ("it", "Allora prendiamo un caffè?"),
        ("nl", "Dan nemen we even een pauze?"),
    ],
)
def test_a_question_or_an_assumption_sharing_those_words_is_no_decision(code: str, sentence: str) -> None:
    assert not DecisionSignals(code).is_decision(sentence)
