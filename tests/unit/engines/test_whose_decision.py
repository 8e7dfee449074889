"""Whose decision a Decisions list holds: the meeting's. Another body's decision, reported ("they
concluded that ...", "the positions that have already been approved", QMSum's committee meetings),
is none, in each language the engine localises; the meeting's own, said after "I think" or "so"
in any of them, still is (issue 22)."""

from __future__ import annotations

import pytest

from worker.meeting import DecisionSignals


@pytest.mark.parametrize(
    ("code", "sentence"),
    [
        # QMSum education_22 (the sentence up to its first comma after "children") and covid_6, as
        # the transcripts say them: an institute's conclusion, a government's approvals.
        (
            "en",
            "Minister, you got, or Welsh Government, really, got the Public Policy Institute for Wales to"
            " study this proposed policy and they concluded that it would have no substantial impacts on"
            " net income, poverty or work behaviour for families with children.",
        ),
        (
            "en",
            "I implore this government, which is unaware of the damage it is causing, to immediately"
            " announce all the positions that have already been approved under the Canada summer jobs"
            " program.",
        ),
        ("en", "The items which were approved last year stay on the list."),
        ("en", "They've decided to close the Leeds office."),
        ("fr", "Ils ont décidé de fermer le bureau de Lyon."),
        ("fr", "Les postes qui ont déjà été approuvés restent ouverts."),
        ("es", "Ellos decidieron cerrar la oficina de Sevilla."),
        ("es", "Los puestos que ya han sido aprobados siguen abiertos."),
        ("it", "Loro hanno deciso di chiudere la sede di Torino."),
        ("pt", "Eles decidiram fechar o escritório do Porto."),
        ("de", "Die Punkte, die wir beschlossen haben, stehen im Protokoll."),
        ("de", "Die Punkte, die schon beschlossen sind, stehen im Protokoll."),
        ("nl", "Ze hebben besloten het kantoor in Gent te sluiten."),
        # QMSum Bmr005, as the transcript says it: another group's decision, quoted from their email.
        (
            "en",
            "but then I got email from them that said \" no, we decided we're not really interested and we"
            " don't wanna come down and hold meetings.",
        ),
        ("en", "She wrote “we agreed to cancel the trip” in her reply."),
        ("fr", "Il a répondu « on a décidé de ne pas venir » hier."),
    ],
)
def test_another_bodys_decision_reported_is_none(code: str, sentence: str) -> None:
    assert not DecisionSignals(code).is_decision(sentence)


# A decision made in a talk outside the meeting, reported ("I talked briefly to Mari and ... we agreed
# that we would have a telephone meeting"): news for the meeting, not its decision, in each language.
# QMSum Bmr026, as the transcript says it (up to the sentence's end), then other shapes.
@pytest.mark.parametrize(
    ("code", "sentence"),
    [
        (
            "en",
            "The only oth thing other thing I was gonna add was that um uh, I talked briefly to Mari and uh"
            " we had both been busy with other things so we haven't really connected that much since the"
            " last meeting we had here but we agreed that we would have a telephone meeting the Friday"
            " after next.",
        ),
        ("en", "I spoke with the vendor yesterday and we agreed on a ten percent discount."),
        ("en", "I had a call with legal, and we decided to delay the filing."),
        (
            "de",
            "Ich habe gestern mit Anna telefoniert, und wir haben beschlossen, den Termin zu verschieben.",
        ),
        ("fr", "J'ai parlé avec Marie hier et on a décidé de repousser la réunion."),
        ("es", "Hablé con Ana ayer y decidimos aplazar la reunión."),
        ("it", "Ho parlato con Anna ieri e abbiamo deciso di rinviare la riunione."),
        ("pt", "Falei com a Ana ontem e decidimos adiar a reunião."),
        ("nl", "Ik heb gisteren met Anna gebeld en we hebben besloten de vergadering te verzetten."),
        ("zh", "我昨天跟李娜聊了一下，我们决定推迟会议。"),
        ("ja", "昨日田中さんと話して、会議を延期することに決定しました。"),
        ("ko", "어제 민수 씨와 통화했는데 회의를 연기하기로 결정했습니다."),
    ],
)
def test_a_decision_made_in_a_talk_outside_the_meeting_is_none(code: str, sentence: str) -> None:
    assert not DecisionSignals(code).is_decision(sentence)


# The meeting's own decision after talk of a conversation is still one, and a talk reported in
# another sentence changes nothing.
@pytest.mark.parametrize(
    ("code", "sentence"),
    [
        ("en", "After talking it through today, we agreed to switch suppliers."),
        ("en", "So we decided to call the vendor tomorrow."),
        ("en", "We talked about the options and we decided to go with rubber."),
        ("de", "Wir haben beschlossen, morgen mit Anna zu sprechen."),
        ("fr", "On a décidé de parler avec Marie demain."),
    ],
)
def test_the_meetings_own_decision_beside_talk_of_a_conversation_is_one(code: str, sentence: str) -> None:
    assert DecisionSignals(code).is_decision(sentence)


# A quotation in any script's marks, single ones too (Hansard's 'Let's ...'): someone's words, quoted
# or imagined, not the meeting's decision. QMSum education_22, as the transcript says it (up to the
# first closing mark), then other shapes.
@pytest.mark.parametrize(
    ("code", "sentence"),
    [
        (
            "en",
            "For the moment, I think there is an attraction, in terms of the upper limit, of saying:"
            " one\u2014'Let's try not to add additional complexity, let's go with a scheme that's already"
            " working its way through the system'.",
        ),
        ("en", "He told us, 'we've decided to close the plant', and left."),
        ("en", "She wrote \u2018we agreed to cancel the trip\u2019 in her reply."),
        ("de", "Sie schrieb: \u201eWir haben beschlossen, das B\u00fcro zu schlie\u00dfen\u201c, und ging."),
        ("de", "Er sagte \u201aWir haben beschlossen\u2018 und ging."),
        ("ja", "部長は「来月に延期することに決定しました」と言いました。"),
        ("zh", "他说『我们决定把发布推迟』。"),
    ],
)
def test_a_decision_in_quotation_marks_is_none(code: str, sentence: str) -> None:
    assert not DecisionSignals(code).is_decision(sentence)


# An apostrophe is no quotation mark, nor is a closed quotation before the decision.
@pytest.mark.parametrize(
    ("code", "sentence"),
    [
        ("en", "'Cause it's cheaper, we decided to go with rubber."),
        ("en", "The students' results are in, and we decided to publish them."),
        ("en", "We talked 'til late and we decided to use the rubber case."),
        ("en", "He said 'no', so we decided to go with the old vendor."),
        ("en", "After the \u2018pilot\u2019 we decided to roll it out."),
        ("de", "Nach dem \u201eNein\u201c haben wir beschlossen, im Mai zu starten."),
        ("ja", "「試作品」を見て、来月に延期することに決定しました。"),
    ],
)
def test_a_decision_after_an_apostrophe_or_a_closed_quotation_is_one(code: str, sentence: str) -> None:
    assert DecisionSignals(code).is_decision(sentence)


@pytest.mark.parametrize(
    ("code", "sentence"),
    [
        ("en", "I think we agreed to switch suppliers."),
        ("en", "So we decided to use the rubber case."),
        # QMSum ES2006c: "that" before a cue that opens with its subject.
        ("en", "So we've basically worked out that we're going with a simple battery, the advanced chip"),
        ("de", "Gut, das machen wir so."),
        ("de", "Das machen wir so."),
        ("fr", "Je pense qu'on a décidé de partir sur Lyon."),
        ("es", "Así que decidimos usar plástico."),
        ("it", "Penso che abbiamo deciso di usare la plastica."),
        ("pt", "Acho que decidimos usar plástico."),
        ("de", "Wir haben beschlossen, im Mai zu starten."),
        ("nl", "We hebben besloten om in mei te starten."),
    ],
)
def test_the_meetings_own_decision_after_a_that_is_one(code: str, sentence: str) -> None:
    assert DecisionSignals(code).is_decision(sentence)


# What a decision says beside its cue: a short one still says something, a cue alone nothing.
@pytest.mark.parametrize(
    ("sentence", "says"),
    [
        ("So we'll go with HubSpot.", "HubSpot"),
        ("Let's go with plastic.", "plastic"),
        ("So that's decided.", ""),
        ("Is that decided?", ""),
    ],
)
def test_what_a_decision_says_beside_its_cue(sentence: str, says: str) -> None:
    decided = DecisionSignals("en").decided(sentence)
    words = [w.strip(".") for w in decided.split() if w.strip(".") not in {"", "So"}]
    assert words == ([says] if says else []), decided


# A score is no decision's content: "We'll go for a three." rates a feature in a product evaluation
# (QMSum TS3010d, verbatim); what is chosen beside a number still is ("20 euros").
@pytest.mark.parametrize(
    ("sentence", "says"),
    [
        ("I We'll go for a three.", []),
        ("Let's go for a seven.", []),
        ("Okay, we'll go with 5.", []),
        ("So we'll go with 20 euros.", ["euros"]),
        ("Let's go with two buttons.", ["buttons"]),
    ],
)
def test_a_score_beside_a_decision_cue_says_nothing(sentence: str, says: list[str]) -> None:
    from worker.meeting.words import STOP_WORDS

    decided = DecisionSignals("en").decided(sentence)
    words = [w.strip(".,").lower() for w in decided.split()]
    assert [w for w in words if w and w not in STOP_WORDS and w not in {"okay", "so"}] == says, decided


# A decision still to come, left open or declined is none, in each language; one stated as made in
# a shape the records lacked is one.
@pytest.mark.parametrize(
    ("code", "sentence", "made"),
    [
        ("en", "The decision is still pending.", False),
        ("en", "We agreed to disagree.", False),
        ("zh", "我们下周再决定。", False),
        ("zh", "这个我们将来决定。", False),
        ("ko", "다음 주에 결정합시다.", False),
        ("ko", "나중에 결정하자.", False),
        ("de", "Gut, dann machen wir es so: Start im Juni.", True),
        ("fr", "Très bien, on a tranché : lancement en juin.", True),
        ("zh", "我们决定下周发布。", True),
        ("ko", "다음 주에 출시하기로 결정했습니다.", True),
    ],
)
def test_a_decision_to_come_is_none_and_one_made_is_one(code: str, sentence: str, made: bool) -> None:
    assert DecisionSignals(code).is_decision(sentence) is made
