"""Short meetings and terse recaps (issue 22's noise: "a short meeting gets 'None' under Key points
while its decisions are missed", fillers among the picks, the answer to "so what have we decided?").
A meeting of a few lines still has its decisions listed as decisions, its overview is never a filler,
and a terse recap gives one decision per item it names."""

from __future__ import annotations

import pytest

from worker.engines import ExtractiveEngine
from worker.meeting import iter_utterances, parse_structure


def _structure(text: str) -> dict[str, object]:
    structure: dict[str, object] = parse_structure(
        ExtractiveEngine().summarise(text, 1024), list(iter_utterances(text))
    )
    return structure


def _texts(structure: dict[str, object], key: str) -> list[str]:
    items = structure[key]
    assert isinstance(items, list)
    return [str(i.get("text") or i.get("task")) for i in items]


FILLERS = ("Um, yeah.", "Okay.", "Mm-hmm.", "Right, so, uh.")


@pytest.mark.parametrize(
    ("meeting", "decision"),
    [
        (
            "Anna: Um, yeah.\nBen: So we decided to use the rubber case.\nAnna: Okay.\n"
            "Ben: Carol will order samples by Friday.\n",
            "So we decided to use the rubber case.",
        ),
        (
            "Anna: Um, yeah, okay.\nBen: Right, so, uh.\nAnna: The supplier raised prices again.\n"
            "Ben: We agreed to switch suppliers.\nAnna: Mm-hmm.\nCarol: I'll call the new one tomorrow.\n",
            "We agreed to switch suppliers.",
        ),
        (
            "Lena: Plastic or metal for the case?\nTom: Metal is heavy.\nLena: Let's go with plastic.\n"
            "Tom: Fine.\n",
            "Let's go with plastic.",
        ),
    ],
)
def test_a_short_meetings_decision_is_listed_as_a_decision_and_no_filler_is_picked(
    meeting: str, decision: str
) -> None:
    structure = _structure(meeting)
    assert decision in _texts(structure, "decisions"), structure
    picked = [str(structure["overview"]), *_texts(structure, "key_points")]
    assert not any(filler in text for text in picked for filler in FILLERS), picked


# The same in the other languages: their fillers and pronouns are no content ("Gut, fangen wir an."
# has none), so a short meeting's key points are what it said, not how it opened.
@pytest.mark.parametrize(
    ("meeting", "openers"),
    [
        (
            "Anna: Gut, fangen wir an.\nBen: Ja, gut.\nAnna: Der Lieferant hat die Preise wieder erhöht.\n"
            "Ben: Wir haben beschlossen, den Lieferanten zu wechseln.\nAnna: Gut, danke euch.\n",
            ["Gut, fangen wir an.", "Ja, gut.", "Gut, danke euch."],
        ),
        (
            "Claire: Bon, alors, on y va.\nPaul: Oui, bon.\n"
            "Claire: Le fournisseur a encore augmenté ses prix.\n"
            "Paul: Nous avons décidé de changer de fournisseur.\nClaire: Bon, merci à vous.\n",
            ["Bon, alors, on y va.", "Oui, bon.", "Bon, merci à vous."],
        ),
        (
            "Lucía: Bueno, pues empezamos.\nCarlos: Sí, vale.\n"
            "Lucía: El proveedor ha subido los precios otra vez.\n"
            "Carlos: Hemos decidido cambiar de proveedor.\nLucía: Bueno, gracias a todos.\n",
            ["Bueno, pues empezamos.", "Sí, vale.", "Bueno, gracias a todos."],
        ),
    ],
)
def test_a_short_meetings_openers_are_no_key_points_in_any_language(meeting: str, openers: list[str]) -> None:
    structure = _structure(meeting)
    picked = [str(structure["overview"]), *_texts(structure, "key_points")]
    assert not any(opener in text for text in picked for opener in openers), picked


@pytest.mark.parametrize(
    "sentence",
    [
        "We decided, 'cause it's not on our list.",  # what was decided is not said
        "Those are the two buttons we agreed on.",
        "Agreed.",
    ],
)
def test_a_decision_that_does_not_say_what_is_not_listed_as_one(sentence: str) -> None:
    meeting = (
        "Anna: The remote needs a case that survives a drop from the sofa.\n"
        f"Ben: {sentence}\nAnna: The supplier sends samples next month.\n"
    )
    assert _texts(_structure(meeting), "decisions") == []


@pytest.mark.parametrize(
    ("meeting", "items"),
    [
        (
            "Anna: We talked about the colours and the battery for the remote.\n"
            "Ben: The yellow one looks cheap and the solar cell is too expensive.\n"
            "Anna: So what have we decided?\nBen: Blue case. Kinetic battery. Launch in June.\n"
            "Anna: Great.\n",
            ["Blue case.", "Kinetic battery.", "Launch in June."],
        ),
        (
            "Claire: On a parlé des couleurs et de la batterie.\nPaul: Le jaune fait bon marché.\n"
            "Claire: Alors, qu'est-ce qu'on a décidé ?\nPaul: Boîtier bleu. Batterie cinétique."
            " Lancement en juin.\nClaire: Parfait.\n",
            ["Boîtier bleu.", "Batterie cinétique.", "Lancement en juin."],
        ),
        (
            "Anna: Wir haben über die Farben und den Akku gesprochen.\nBen: Das Gelb wirkt billig.\n"
            "Anna: Was haben wir also beschlossen?\nBen: Blaues Gehäuse. Kinetischer Akku. Start im Juni.\n"
            "Anna: Gut.\n",
            ["Blaues Gehäuse.", "Kinetischer Akku.", "Start im Juni."],
        ),
    ],
)
def test_the_terse_answer_to_what_have_we_decided_gives_one_decision_per_item(
    meeting: str, items: list[str]
) -> None:
    decisions = _texts(_structure(meeting), "decisions")
    assert decisions == items, decisions


# "Have we decided on the vendor?" answered "Not yet, ..." recaps nothing: the answer says no
# decision was made, in each language; the decision said later in the meeting is still listed.
@pytest.mark.parametrize(
    ("question", "answer", "decision"),
    [
        (
            "Have we decided on the vendor?",
            "Not yet, we still need to compare the two offers.",
            "We agreed to cap the budget at forty thousand euros.",
        ),
        (
            "So what have we agreed?",
            "Nothing so far, we need the two offers first.",
            "We agreed to cap the budget at forty thousand euros.",
        ),
        (
            "Haben wir uns für einen Anbieter entschieden?",
            "Nein, noch nicht, wir müssen die Angebote vergleichen.",
            "Wir haben beschlossen, das Budget auf vierzigtausend Euro zu begrenzen.",
        ),
        (
            "On a décidé pour le fournisseur ?",
            "Pas encore, il faut comparer les deux offres.",
            "Nous avons décidé de plafonner le budget à quarante mille euros.",
        ),
        (
            "¿Hemos decidido el proveedor?",
            "Todavía no, hay que comparar las dos ofertas.",
            "Hemos decidido limitar el presupuesto a cuarenta mil euros.",
        ),
    ],
)
def test_an_answer_that_nothing_is_decided_yet_is_no_decision(
    question: str, answer: str, decision: str
) -> None:
    meeting = (
        f"Chair: First item, the website relaunch and its vendor.\nChair: {question}\nEli: {answer}\n"
        f"Chair: Fine, the budget then.\nEli: {decision}\nChair: Thanks everyone.\n"
    )
    decisions = _texts(_structure(meeting), "decisions")
    assert answer not in decisions and decision in decisions, decisions


@pytest.mark.parametrize(
    "recap",
    [
        "To sum up what we decided: first, the pilot runs in March; second, the vendor contract is"
        " renewed; and third, hiring is frozen until June.",
        "So, to recap. One, the pilot runs in March. Two, the vendor contract is renewed. Three, hiring"
        " is frozen until June.",
        "Let me recap the decisions: 1) the pilot runs in March, 2) the vendor contract is renewed, 3)"
        " hiring is frozen until June.",
    ],
)
def test_a_numbered_recap_in_one_turn_gives_one_decision_per_number(recap: str) -> None:
    meeting = (
        "Chair: The pilot could start in March or in May, depending on the vendor.\n"
        "Dana: The vendor contract ends this month and their price went up.\n"
        "Chair: And hiring, we cannot afford new people before the summer.\n"
        f"Chair: {recap}\nDana: Thanks, that's clear.\n"
    )
    structure = _structure(meeting)
    decisions = _texts(structure, "decisions")
    assert len(decisions) == 3, decisions
    for words in ("March", "vendor contract", "hiring"):
        assert sum(words in d for d in decisions) == 1, decisions
    # The opener ("To sum up what we decided:") says nothing by itself: no key point.
    assert not any(k.rstrip().endswith(":") for k in _texts(structure, "key_points")), structure


@pytest.mark.parametrize(
    "meeting",
    [
        "Chair: Decision: we keep the office in Leeds.\nBob: Fine by me.\n",
        "Chair: Next steps: Bob sends the lease to legal by Friday.\nBob: Will do.\n",
    ],
)
def test_an_overview_sentence_that_opens_like_a_heading_stays_in_the_overview(meeting: str) -> None:
    structure = _structure(meeting)
    said = meeting.split("\n")[0].removeprefix("Chair: ")
    assert structure["overview"] == said, structure
    items = [*_texts(structure, "decisions"), *_texts(structure, "action_items")]
    assert len(items) == len(set(items)) == 1, items


# Every decision a short meeting states as made is listed, before its talk about deciding ("we
# haven't decided on the training vendor yet" was picked and "so we'll go with HubSpot" was not),
# however few words it takes beside its cue; a cue alone ("So that's decided.") says nothing.
@pytest.mark.parametrize(
    ("meeting", "decisions"),
    [
        (
            "Alice: The main topic is the vendor for the new CRM.\n"
            "Bob: Salesforce is more expensive but integrates with our billing.\n"
            "Carol: HubSpot is cheaper and the team already knows it.\nAlice: Do we want to decide today?\n"
            "Alice: Alright, so we'll go with HubSpot.\nCarol: Agreed.\n"
            "Alice: Carol, can you draft the migration plan by next Wednesday?\nCarol: Yes, will do.\n"
            "Alice: Budget was approved yesterday, by the way.\n"
            "Alice: We haven't decided on the training vendor yet.\n"
            "Bob: Should we decide about the training next week?\n",
            ["Alright, so we'll go with HubSpot.", "Budget was approved yesterday, by the way."],
        ),
        (
            "Mia: Which venue for the offsite, Lisbon or Porto?\nJon: Porto is cheaper in March.\n"
            "Mia: We decided on Porto.\nJon: And we agreed to travel by train.\n"
            "Mia: We still have to decide who books the hotel.\nJon: I'll send the budget by Friday.\n",
            ["We decided on Porto.", "And we agreed to travel by train."],
        ),
        (
            "Lea: Welche Farbe nehmen wir für das Logo?\nMax: Blau passt besser zur Marke.\n"
            "Lea: Wir haben uns für Blau entschieden.\nMax: Und wir haben beschlossen, im Mai zu starten.\n"
            "Lea: Wer die Agentur anruft, müssen wir noch entscheiden.\n",
            ["Wir haben uns für Blau entschieden.", "Und wir haben beschlossen, im Mai zu starten."],
        ),
    ],
)
def test_every_decision_of_a_short_meeting_is_listed(meeting: str, decisions: list[str]) -> None:
    listed = _texts(_structure(meeting), "decisions")
    assert all(d in listed for d in decisions), listed


def test_a_decision_cue_alone_is_no_decision() -> None:
    meeting = (
        "Ana: The launch date keeps moving and the vendor is late again.\nBo: So that's decided.\n"
        "Ana: Okay, agreed.\nBo: I'll email the vendor by Thursday about the delay.\n"
    )
    listed = _texts(_structure(meeting), "decisions")
    assert not {"So that's decided.", "Okay, agreed."} & set(listed), listed
