"""Decisions, action items, owners and due dates a user can trust (issue 22): decisions stated as
made, recaps favoured and one item per numbered decision, owners as the sentence names them (never a
filler, a title or a date), whole-word cues, due dates that are dates, one item per commitment.
Several shapes of each class, in the languages the engine localises."""

from __future__ import annotations

import pytest

from tests.support.paths import ROOT
from worker.engines import ExtractiveEngine
from worker.meeting import DecisionSignals as Signals
from worker.meeting import addressed_owner, due_date, parse_structure

SAMPLE = (ROOT / "samples" / "product_planning_meeting.txt").read_text()


@pytest.mark.parametrize(
    ("code", "sentence"),
    [
        ("en", "We decided to move the launch to June."),
        ("en", "Okay, so decision: the crash fix ships as a standalone hotfix."),
        ("en", "So, decision three: external account linking is out of the launch."),
        ("en", "So let's go with the rubber case."),
        ("en", "We decided not to use a wooden case."),
        ("de", "Wir haben beschlossen, den Umzug bis Ende Juni abzuschließen."),
        ("de", "Entscheidung zwei: der Umzug findet im Juni statt."),
        ("fr", "Nous avons décidé de repousser le lancement au 15 mars."),
        ("es", "Hemos decidido lanzar la campaña en mayo."),
        ("it", "Abbiamo deciso di rinviare il lancio."),
        ("pt", "Ficou definido que o lançamento será em maio."),
        ("nl", "We hebben besloten de lancering uit te stellen."),
        ("zh", "我们决定把发布日期推迟到下个月。"),
        ("ja", "発売日を来月に延期することに決定しました。"),
        ("ko", "출시일을 다음 달로 연기하기로 결정했습니다."),
        ("en", "It's settled: the office stays in Berlin."),
        ("fr", "Nous sommes convenus de reporter le lancement."),
        ("fr", "Les deux maquettes ont été validées."),
        ("es", "Se decidió mantener la oficina."),
        ("es", "Acordaron contratar a dos personas."),
        ("pt", "Concordamos em contratar duas pessoas."),
        ("zh", "我们商定三月发布。"),
        ("zh", "最后敲定了三月发布。"),
    ],
)
def test_a_decision_stated_as_made_is_a_decision(code: str, sentence: str) -> None:
    assert Signals(code).is_decision(sentence)


# Agenda lines: the meeting deciding what it does next, not what the meeting decided (AMI IS1006b's
# "So um let's go for the three presentations" was listed as a decision).
@pytest.mark.parametrize(
    ("code", "sentence"),
    [
        ("en", "So um let's go for the three presentations, so first um Marketing Expert."),
        ("en", "Okay, let's go with the agenda then."),
        ("en", "Let's go for the next item on the list."),
        ("en", "Item 2: agreed budget review."),
        (
            "de",
            "Gut, weiter mit der Tagesordnung, wir haben beschlossen, mit den Präsentationen anzufangen.",
        ),
        ("fr", "Bon, on part sur l'ordre du jour."),
        ("es", "Bueno, hemos acordado seguir el orden del día."),
    ],
)
def test_an_agenda_line_is_no_decision(code: str, sentence: str) -> None:
    assert not Signals(code).is_decision(sentence)


@pytest.mark.parametrize(
    ("code", "sentence"),
    [
        ("en", "We use a decision tree to classify the intentions."),
        ("en", "The decision trees were trained on the old data, not the new one."),
        ("en", "It is a decision support system for the doctors in the ward."),
        ("fr", "On utilise un arbre de décision pour classer les intentions."),
        ("es", "Usamos un árbol de decisión para clasificar las intenciones."),
        ("pt", "Usamos uma árvore de decisão para classificar as intenções."),
        ("ja", "決定木のほうが精度が良い。"),
        ("ko", "결정 트리가 더 좋습니다."),
        ("ko", "의사결정나무로 분류합니다."),
        ("zh", "我们用决定树来分类。"),
    ],
)
def test_a_decision_tree_is_no_talk_about_deciding(code: str, sentence: str) -> None:
    signals = Signals(code)
    assert not signals.is_decision(sentence) and not signals.is_deliberation(sentence)


@pytest.mark.parametrize(
    ("code", "sentence"),
    [
        ("en", "So what have we decided?"),  # a question
        ("en", "We have to decide on the colour before Friday."),  # an intention to decide
        ("en", "We haven't decided yet."),  # open
        ("en", "If we go with plastic, it is cheaper."),  # conditional
        ("en", "I don't think we agreed on that."),  # negated
        ("en", "The decision tree was trained on last year's data."),  # the phrase
        ("en", "We need to make a decision about the case."),  # an agenda line
        ("en", "We have over 550,000 approved loans."),  # an adjective
        ("de", "Wir haben noch nicht entschieden."),
        ("de", "Wir müssen entscheiden, ob wir umziehen."),
        ("fr", "On n'a pas encore décidé."),
        ("fr", "Si on part sur le plastique, c'est moins cher."),
        ("es", "No hemos decidido nada todavía."),
        ("it", "Non abbiamo ancora deciso."),
        ("pt", "Ainda não decidimos."),
        ("nl", "We hebben nog niet besloten."),
        ("zh", "我们还没决定发布日期。"),
        ("zh", "我们需要决定发布日期。"),
        ("ja", "発売日はまだ決定していません。"),
        ("ko", "출시일은 아직 결정하지 않았습니다."),
        # Nobody decided, nothing was decided, and a decision still to come ("once", "sobald").
        ("en", "Once we've decided on the colour, we order the cases."),
        ("en", "None of us agreed on the price."),
        ("de", "Wir haben nichts beschlossen."),
        ("de", "Sobald wir uns geeinigt haben, bestellen wir."),
        ("fr", "Dès qu'on aura décidé la couleur, on commande."),
        ("es", "Nadie ha decidido nada."),
        ("it", "Nessuno ha deciso il colore."),
        ("pt", "Ninguém decidiu a cor."),
        ("nl", "Er is niets besloten."),
        ("nl", "Niemand heeft besloten."),
    ],
)
def test_questions_intentions_open_conditional_and_negated_mentions_are_no_decisions(
    code: str, sentence: str
) -> None:
    assert not Signals(code).is_decision(sentence)


# One person's consent or choice, reported, is not the meeting's decision (QMSum Bmr012: "Chuck
# Fillmore agreed to record meetings", "Jerry also agreed"; Bmr005: "a group here who's agreed to
# have their meetings recorded"), nor is checking that everyone agrees (Bed015).
@pytest.mark.parametrize(
    ("code", "sentence"),
    [
        ("en", "Good news, uh, Chuck Fillmore agreed to record meetings."),
        ("en", "and uh Jerry also agreed so we're starting on it"),
        ("en", "There's a network services group here who's agreed to have their meetings recorded."),
        ("en", "Well, she decided to leave the project in May."),
        ("en", "He has agreed to chair the session."),
        ("en", "No, just to make sure that everybody's agreed that it has nothing to do with form."),
        ("de", "Gute Nachricht, er hat beschlossen, mitzumachen."),
        ("es", "Bueno, ella ha decidido dejar el proyecto."),
        ("nl", "Goed nieuws, hij heeft besloten mee te doen."),
    ],
)
def test_a_persons_consent_reported_is_no_decision_of_the_meeting(code: str, sentence: str) -> None:
    assert not Signals(code).is_decision(sentence)


# A decision pointed back at without saying it (QMSum ES2009a: "right, we decided that already and it
# may be functioning for other things"; Bmr012: "... and also present what we've chosen as ours"):
# what was decided is said elsewhere.
@pytest.mark.parametrize(
    "sentence",
    [
        "right, we decided that already and it may be functioning for other things",
        "Yeah, we agreed on that.",
        "Okay, we decided this before, so let's move on",
        "and he'll present what we've chosen as ours and discuss that kind of thing.",
    ],
)
def test_a_decision_pointed_back_at_is_no_decision(sentence: str) -> None:
    assert not Signals("en").is_decision(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "We decided that the case is rubber.",
        "As we agreed, we don't use a speaker or a sensor.",
        "We agreed on that price, 12.50 euros.",
    ],
)
def test_a_decision_that_says_what_it_is_stays_one(sentence: str) -> None:
    assert Signals("en").is_decision(sentence)


@pytest.mark.parametrize(
    ("code", "sentence"),
    [
        ("en", "Okay, we all agreed on the rubber case."),
        ("en", "Everyone agreed to move the launch to June."),
        ("en", "So the committee agreed to write to the Minister."),
        ("en", "It was agreed that the pilot runs until March."),
        ("en", "Right, so Marketing and I decided on a yellow case."),
        ("de", "Also, das Team hat beschlossen, den Umzug im Juni zu machen."),  # nouns are capitalised
        ("fr", "Il a été décidé de repousser le lancement."),
    ],
)
def test_the_meeting_or_its_members_together_decide(code: str, sentence: str) -> None:
    assert Signals(code).is_decision(sentence)


@pytest.mark.parametrize(
    ("code", "sentence"),
    [
        ("en", "I was pleased with the demo."),  # please
        ("en", "The assignment was graded last week."),  # assign
        ("en", "There are two deadlinesque rules here."),  # deadline
        ("de", "Die Sendung lief gestern Abend."),  # sende
        # Without spaces a cue is matched inside words: not in 申请, 邀请, 决定性, 负责任, 決定的, 결정적.
        ("zh", "我们申请了一笔新预算。"),  # 请
        ("zh", "我们邀请了三位客户参加。"),  # 请
        ("zh", "这是决定性的一步。"),  # 决定
        ("zh", "他很负责任。"),  # 负责
        ("ja", "決定的な証拠はありません。"),  # 決定
        ("ko", "이것은 결정적인 증거입니다."),  # 결정
    ],
)
def test_cues_match_whole_words(code: str, sentence: str) -> None:
    signals = Signals(code)
    assert not signals.is_action(sentence) and not signals.is_decision(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "The hotfix is 4.11.2, with the PIN fallback.",
        "The small highs also go in 4.12.",
        "Since 4.11 went out, crashes doubled.",
        "Android 8.1. is the oldest we support.",
        "We won 3/4 of the deals.",
        "Am Ende haben wir gewonnen.",  # "Ende" without a month or a week
        "We spent two weeks on it.",  # a duration, not a deadline
    ],
)
def test_a_version_or_a_number_is_no_due_date(sentence: str) -> None:
    assert due_date(sentence) is None


@pytest.mark.parametrize(
    ("sentence", "when"),
    [
        ("Markus schickt bis 4.12. die Planung.", "4.12."),
        ("Send it by 3/4 please.", "3/4"),
        ("Le rapport est dû le 12/03/2026.", "12/03/2026"),
        ("I'll have drafts by tomorrow end of day.", "tomorrow"),
        ("Lena writes the message today.", "today"),
        ("Close the books by the end of the month.", "end of the month"),
        ("The survey is due on 15 March.", "15 March"),
        ("We ship it next Tuesday.", "next Tuesday"),
        ("Schick es bis Ende des Monats.", "Ende des Monats"),
        ("Das Budget steht bis zum Monatsende.", "Monatsende"),
        ("Envoie-le avant la fin du mois.", "la fin du mois"),
        ("Mándalo para el fin de mes.", "el fin de mes"),
        ("Mandalo entro la fine del mese.", "la fine del mese"),
        ("Manda até o fim do mês.", "o fim do mês"),
        ("Stuur het voor het eind van de maand.", "het eind van de maand"),
        ("I will send it in two weeks.", "in two weeks"),
        ("Ich schicke es in zwei Wochen.", "in zwei Wochen"),
        ("Je l'envoie dans deux semaines.", "dans deux semaines"),
        ("Ik stuur het over twee weken.", "over twee weken"),
    ],
)
def test_a_due_date_is_a_date(sentence: str, when: str) -> None:
    assert due_date(sentence) == when


@pytest.mark.parametrize(
    "sentence",
    [
        "Um, I'll send the minutes by Friday.",
        "Uh, we will send it by Friday.",
        "Chair, I'll send the note by Friday.",
        "Professor, I'll send the draft by Monday.",
        "In May, we will ship the new app.",
        "I'll I'll send it by Friday.",
        "Herr Vorsitzender, ich schicke es bis Freitag.",
        "Madame, je vais envoyer le rapport avant vendredi.",
        "Ähm, ich schicke es bis Freitag.",
    ],
)
def test_a_filler_a_title_or_a_date_before_a_comma_is_no_owner(sentence: str) -> None:
    assert addressed_owner(sentence) is None


@pytest.mark.parametrize(
    ("sentence", "owner"),
    [
        ("Priya sends me the revised estimate by Thursday.", "Priya"),
        ("Tom adds the crash alert by Friday.", "Tom"),
        ("And Lena writes the pricing brief, cc Marcus, by Friday.", "Lena"),
        ("Markus schickt bis Freitag die Planung.", "Markus"),
        ("Marie s'occupe de prévenir les clients d'ici vendredi.", "Marie"),
        ("Lena, can you get the message copy to the agency today?", "Lena"),
    ],
)
def test_the_owner_is_the_person_the_sentence_assigns(sentence: str, owner: str) -> None:
    assert addressed_owner(sentence) == owner


# Real shapes from the QMSum meetings (AMI IS1006b/IS1006d, ICSI Bed015, a Welsh committee): a
# capitalised word at the start of a turn is no name when the meeting writes it in lower case.
COMMON_WORDS_FIRST = """\
Industrial Designer: Only buttons we need is on off, volume and channels.
Project Manager: Please, next slide.
Grad F: Just, uh, as a sort of a mental bridge, I'm skipping the fourth of July.
Chair: Not just on the work we've done in the past, I'll send the note by Friday.
Marketing: We only need the buttons people use, please, and just the volume. That is not all.
Project Manager: Dana, can you send the cost sheet by Friday?
Dana: Sure, I will.
"""


def test_a_word_the_meeting_writes_in_lower_case_is_no_owner() -> None:
    from worker.meeting import iter_utterances

    lines = [line for line in COMMON_WORDS_FIRST.splitlines() if line.split(": ", 1)[1][:4] != "Sure"]
    answer = (
        "Overview\nPlanning.\n\nAction items\n"
        + "\n".join(f"- {line}" for line in lines[:4] + lines[5:6])
        + "\n"
    )
    items = parse_structure(answer, list(iter_utterances(COMMON_WORDS_FIRST)))["action_items"]
    owners = [a["owner"] for a in items]
    assert owners == ["Industrial Designer", "Project Manager", "Grad F", "Chair", "Dana"], owners


@pytest.mark.parametrize(
    "sentence", ["Please, next slide.", "Just, uh, a mental bridge.", "Bitte, die nächste Folie."]
)
def test_a_word_that_is_never_a_name_is_no_owner_without_the_meeting(sentence: str) -> None:
    assert addressed_owner(sentence) is None


def test_an_item_read_back_by_the_chair_is_owned_by_the_person_it_names() -> None:
    answer = (
        "Overview\nPlanning.\n\nDecisions\nNone\n\nAction items\n"
        "- Maya: Priya sends me the revised estimate by Thursday.\n"
        "- Maya: Tom adds the crash alert by Friday.\n"
        "- Maya: And I'll talk to marketing by end of this week.\n"
    )
    items = parse_structure(answer)["action_items"]
    assert [(a["owner"], a["due"]) for a in items] == [
        ("Priya", "Thursday"),
        ("Tom", "Friday"),
        ("Maya", "end of this week"),
    ]


def _sections(text: str, budget: int = 1024) -> dict[str, list[str]]:
    parsed = parse_structure(ExtractiveEngine().summarise(text, budget))
    return {
        "decisions": [d["text"] for d in parsed["decisions"]],
        "action_items": [a["task"] for a in parsed["action_items"]],
        "key_points": [k["text"] for k in parsed["key_points"]],
        "owners": [a["owner"] for a in parsed["action_items"]],
    }


def test_a_numbered_recap_gives_one_decision_each() -> None:
    decisions = _sections(SAMPLE)["decisions"]
    for number in ("decision:", "decision two:", "decision three:", "decision four:"):
        assert sum(number in d for d in decisions) == 1, decisions


def test_a_commitment_and_its_read_back_are_one_action_item() -> None:
    parsed = parse_structure(ExtractiveEngine().summarise(SAMPLE, 1024))
    by_owner_due = [(a["owner"], a["due"]) for a in parsed["action_items"] if a["due"]]
    assert len(by_owner_due) == len(set(by_owner_due)), by_owner_due
    assert ("Tom", "Friday") in by_owner_due


def test_no_item_is_listed_twice_across_sections() -> None:
    got = _sections(SAMPLE)
    items = got["decisions"] + got["action_items"] + got["key_points"]
    assert len(items) == len(set(items))


def test_no_owner_is_a_filler_a_title_or_a_date() -> None:
    owners = _sections(SAMPLE)["owners"]
    assert owners and all(o in {"Maya", "Priya", "Tom", "Lena", "Marcus"} for o in owners), owners


MEETING = """\
Alice: Let's look at the case material first.
Bob: Plastic is cheaper but rubber feels better in the hand.
Carol: Rubber also survives being dropped, which the survey says happens a lot.
Alice: And the colour?
Bob: Yellow tested well with the younger users in the survey.
Alice: Okay, so what have we decided?
Carol: The case is rubber with a plastic frame inside.
Carol: The colour is yellow for the first batch.
Alice: Good, thanks everyone.
"""


def test_the_answer_to_what_have_we_decided_is_listed_as_decisions() -> None:
    decisions = _sections(MEETING)["decisions"]
    assert "The case is rubber with a plastic frame inside." in decisions
    assert "The colour is yellow for the first batch." in decisions


def test_an_opening_recap_of_the_situation_is_no_decision() -> None:
    opening = "Priya: Sure. Um, so, quick recap. Since the release went out, crashes on launch doubled.\n"
    decisions = _sections(opening + MEETING)["decisions"]
    assert not [d for d in decisions if "crashes" in d]


DISCUSSION = """\
Alice: Let's look at the case material first.
Bob: Plastic is cheaper but rubber feels better in the hand.
Carol: Rubber also survives being dropped, which the survey says happens a lot.
Bob: Yellow tested well with the younger users in the survey.
"""


@pytest.mark.parametrize(
    ("code", "sentence"),
    [
        ("de", "Ich weiß nicht mehr genau, was wir beschlossen haben, das steht im Protokoll."),
        ("fr", "Je relis les notes de la dernière réunion, ce que nous avons décidé la dernière fois."),
        ("es", "Miramos las notas de la reunión anterior, lo que hemos decidido entonces."),
        ("nl", "We kijken naar de notulen van de vorige vergadering, wat we besloten hebben."),
    ],
)
def test_a_localised_mention_of_what_was_decided_is_no_decision(code: str, sentence: str) -> None:
    assert not Signals(code).is_decision(sentence)


@pytest.mark.parametrize(
    "pointer",
    [
        "Okay. So this is what we decided.",
        "Right, here's what we agreed on:",
        "That's what we've decided, then.",
        "Also, um, what we decided:",
    ],
)
def test_the_statements_after_this_is_what_we_decided_are_the_decisions(pointer: str) -> None:
    text = DISCUSSION + (
        f"Alice: {pointer} The case is rubber with a plastic frame inside. "
        "The colour is yellow for the first batch.\nBob: Great.\n"
    )
    decisions = _sections(text)["decisions"]
    # Verbatim sentences: after a colon the pointer and the first statement are one sentence.
    assert [d for d in decisions if d.endswith("The case is rubber with a plastic frame inside.")]
    assert "The colour is yellow for the first batch." in decisions
    assert all("rubber" in d or "yellow" in d for d in decisions), decisions


@pytest.mark.parametrize(
    "sentence",
    [
        "I'm sort of remembering a little bit about what we decided, because we had this discussion twice.",
        "We'll just have a look at the notes from the previous meeting, what we thought we had decided.",
        # AMI TS3009b, as transcribed
        "Well um in we'll uh just have a look at the at the notes from the previous meeting, what we uh"
        " thought we had dec decided.",
        "I have no idea what we agreed on the budget for the second prototype of the remote.",
    ],
)
def test_a_mention_of_what_was_decided_is_no_decision(sentence: str) -> None:
    assert not Signals("en").is_decision(sentence)
    assert Signals("en").is_deliberation(sentence)  # still talk about deciding: a key point
    assert not _sections(DISCUSSION + f"Alice: {sentence}\n")["decisions"]


@pytest.mark.parametrize(
    ("name", "decision"),
    [
        ("meeting_de.txt", "beschlossen"),
        ("meeting_fr.txt", "décidé"),
        ("meeting_zh.txt", "决定"),
        ("meeting_ko.txt", "결정"),
    ],
)
def test_a_localised_meeting_lists_its_stated_decision(name: str, decision: str) -> None:
    text = (ROOT / "tests" / "transcripts" / name).read_text()
    assert [d for d in _sections(text, 600)["decisions"] if decision in d]


@pytest.mark.parametrize(
    ("line", "owner", "due"),
    [
        ("- Bob: Send the deck (due Friday)", "Bob", "Friday"),
        ("- **Bob**: Send the deck by Friday", "Bob", "Friday"),
        ("- Bob — send the deck by Friday", "Bob", "Friday"),
        ("- [ ] @bob send the deck by Friday", "bob", "Friday"),
        ("- Bob will send the deck by Friday.", "Bob", "Friday"),
        ("1. Bob: send the deck (by Friday)", "Bob", "Friday"),
        ("- Send the deck (Owner: Bob, Due: Friday)", "Bob", "Friday"),
        ("- **Owner:** Bob – **Task:** send the deck – **Due:** Friday", "Bob", "Friday"),
        ("- Unassigned: Book the room (due next week)", None, "next week"),
        ("- Priya: Send the revised 4.11.2 estimate (Android 9 devices)", "Priya", None),
        ("- Marie : envoyer le compte rendu (échéance : vendredi)", "Marie", "vendredi"),
        ("- Markus: Planung fertigstellen (bis 4.12.)", "Markus", "4.12."),
    ],
)
def test_the_parser_keeps_owners_and_dates_from_the_usual_answer_shapes(
    line: str, owner: str | None, due: str | None
) -> None:
    answer = f"Overview\nPlanning.\n\nDecisions\nNone\n\nAction items\n{line}\n"
    (item,) = parse_structure(answer)["action_items"]
    assert (item["owner"], item["due"]) == (owner, due), item
    assert "Owner" not in item["task"] and "Due" not in item["task"]


# Real shapes from QMSum's AMI meetings and Welsh committee hearings, and their localised kin.
@pytest.mark.parametrize(
    ("code", "sentence", "action"),
    [
        (
            "en",
            "Okay, so uh I'll start again with a brief introduction to the insides of a remote control.",
            False,
        ),
        ("en", "I'll I'll show you the the tools we have here, so that we can all use them.", False),
        ("en", "Please, next slide.", False),
        ("en", "If you take a note of them, and then I'll put them in in a minute.", False),
        (
            "en",
            "Um then we need to briefly discuss the new project requirements that were sent to us.",
            False,
        ),
        ("en", "I think technologically I'll give it an seven.", False),
        ("en", "But I'll send that link to everyone after the meeting.", True),
        ("en", "I'll show the prototype to the board by Friday.", True),
        ("de", "Ich zeige euch kurz die Zahlen, nächste Folie bitte.", False),
        ("fr", "Je vais vous montrer la maquette, diapositive suivante.", False),
        ("es", "Voy a compartir mi pantalla y mostrarles el plan.", False),
        ("ja", "次のスライドをお願いします。", False),
    ],
)
def test_an_act_of_the_meeting_itself_is_no_action_item(code: str, sentence: str, action: bool) -> None:
    assert Signals(code).is_action(sentence) is action


@pytest.mark.parametrize(
    ("code", "sentence", "action"),
    [
        ("en", "Can you set out the impact the coronavirus emergency has had on the care system?", False),
        ("en", "Could you tell us a bit about what was in it, and what the recommendations are?", False),
        (
            "en",
            "Uh, can you give an indication in the cost difference between the chip with LCD or without?",
            False,
        ),
        ("en", "Could you say why there isn't more investment in degree apprenticeships?", False),
        ("en", "Can you send the committee the figures by the end of the month?", True),
        ("en", "Could you tell the supplier by Friday that we need fifty more?", True),
        ("de", "Können Sie uns erklären, warum die Kosten gestiegen sind?", False),
        ("fr", "Pourriez-vous nous expliquer pourquoi le budget a changé ?", False),
        ("es", "¿Podría usted explicar por qué subieron los costes?", False),
        ("nl", "Kunt u toelichten waarom de planning is verschoven?", False),
    ],
)
def test_a_request_to_say_something_is_a_question_not_an_action_item(
    code: str, sentence: str, action: bool
) -> None:
    assert Signals(code).is_action(sentence) is action


@pytest.mark.parametrize(
    ("code", "sentence", "action"),
    [
        ("en", "Can you send me the revised estimate by Thursday?", True),
        ("en", "Lena, will you get the copy to the agency today?", True),
        ("en", "Well I'll have to, before the warning, I'm going to get where is my mouse?", False),
        ("de", "Kannst du das Angebot bis Freitag prüfen?", True),
        ("de", "Ich werde das machen, aber wo ist die Datei?", False),
        ("fr", "Peux-tu relancer le prestataire avant jeudi ?", True),
        ("nl", "Pieter, wil jij de documentatie uiterlijk woensdag bijwerken?", True),
        ("ja", "月曜日までに資料を準備していただけますか？", True),
    ],
)
def test_a_question_is_an_action_item_only_as_a_request(code: str, sentence: str, action: bool) -> None:
    assert Signals(code).is_action(sentence) is action


def test_a_filler_with_two_content_words_is_no_key_point() -> None:
    """ "Um, yeah, that's one string and a dialog.": the "s" of "that's" is no content word."""
    assert not [k for k in _sections(SAMPLE)["key_points"] if k.startswith("Um, yeah")]


BUTTONS = """\
Alice: The remote needs a volume rocker and a channel rocker on the front.
Bob: Users in the survey wanted bigger buttons for volume and channels.
Alice: Right, the two rubber buttons we agreed on.
Carol: We decided to put large rubber volume and channel buttons on the front of the remote.
Bob: I'll draw the button layout for the next meeting.
"""


def test_a_decision_said_in_passing_without_saying_what_is_a_key_point_not_a_decision() -> None:
    got = _sections(BUTTONS)
    passing = "Right, the two rubber buttons we agreed on."
    assert not [d for d in got["decisions"] if passing in d], got["decisions"]
    assert [d for d in got["decisions"] if "large rubber volume" in d], got["decisions"]
    assert [k for k in got["key_points"] if passing in k], got["key_points"]
