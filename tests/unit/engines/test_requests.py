"""A request's owner is the person asked, never the person asking (issue 22: owners as the sentence
says them). "Can you send me the estimate by Thursday?" in the sample meeting was owned by Maya, who
asked it, and listed beside Priya's read-back of the same task. The person asked is the one the
request or its turn addresses ("Priya, check with Darren. Let me know by tomorrow."), else the next
speaker when they take it on ("Yeah, I'll do that."); nobody, when nobody does. Several shapes, in
the languages the engine localises."""

from __future__ import annotations

import pytest

from tests.support.paths import ROOT
from tests.support.summaries import summarised

SAMPLE = (ROOT / "samples" / "product_planning_meeting.txt").read_text()


def _actions(text: str) -> list[dict[str, object]]:
    items: list[dict[str, object]] = summarised(text)["action_items"]
    return items


def _owner_of(text: str, words: str) -> object:
    found = [a for a in _actions(text) if words in str(a["task"])]
    assert len(found) == 1, _actions(text)
    return found[0]["owner"]


def test_the_sample_meetings_requests_are_owned_by_the_people_asked() -> None:
    items = _actions(SAMPLE)
    for item in items:
        task = str(item["task"])
        if "heads-up" in task:
            assert item["owner"] == "Maya", item  # Marcus asks; Maya answers "Of course."
        if task.startswith(("Can you", "Let me know")):
            assert item["owner"] == "Priya", item
    # Maya's request and her read-back of Priya's answer are one item.
    estimates = [a for a in items if "estimate" in str(a["task"]) and a["due"] == "Thursday"]
    assert len(estimates) == 1, estimates


@pytest.mark.parametrize(
    ("meeting", "words", "owner"),
    [
        (  # the next speaker takes it on
            "Maya: Budget first.\nMaya: Can you send me the revised cost sheet by Thursday?\n"
            "Priya: Yeah, I'll do that tonight.\nTom: The vendor called again about the invoice.\n",
            "cost sheet",
            "Priya",
        ),
        (  # the turn addressed them before the request
            "Maya: Priya, check with Darren about the old phones. Please send me the list by Friday.\n"
            "Tom: The vendor called again about the invoice.\n",
            "the list",
            "Priya",
        ),
        (  # "please" to whoever answers
            "Marcus: From support, please give us a heads-up before the pricing test goes live.\n"
            "Maya: Of course.\nLena: The test runs for three weeks at ten percent.\n",
            "heads-up",
            "Maya",
        ),
        (  # nobody takes it on: unassigned, not the person asking
            "Maya: Could you send the signed contract to legal by Monday?\n"
            "Tom: Hmm, the contract is still with the vendor.\nLena: The vendor is slow again.\n",
            "signed contract",
            None,
        ),
        (
            "Anna: Kannst du mir die Zahlen bis Freitag schicken?\nJonas: Ja, mach ich.\n"
            "Lea: Die Präsentation ist schon fertig.\n",
            "Zahlen",
            "Jonas",
        ),
        (
            "Claire: Est-ce que tu peux envoyer le compte rendu au client vendredi ?\n"
            "Paul: Oui, d'accord, je m'en occupe.\nLéa: Le client a rappelé ce matin.\n",
            "compte rendu",
            "Paul",
        ),
        (
            "王芳: 外壳用塑料还是金属？\n王芳: 你能在周五之前把报价发给我吗？\n李娜: 好的，我来。\n"
            "张伟: 金属太重了。\n",
            "报价",
            "李娜",
        ),
        (
            "Lucía: ¿Puedes enviar el presupuesto al cliente el viernes?\nMarta: Sí, claro.\n"
            "Pedro: El cliente llamó esta mañana.\n",
            "presupuesto",
            "Marta",
        ),
    ],
)
def test_a_request_is_owned_by_the_person_asked(meeting: str, words: str, owner: str | None) -> None:
    assert _owner_of(meeting, words) == owner


def test_a_request_that_names_its_owner_keeps_that_owner() -> None:
    meeting = (
        "Maya: Tom, can you email Keystone by Wednesday?\nPriya: I can do it if Tom is busy.\n"
        "Tom: Sure, I'll do it.\n"
    )
    assert _owner_of(meeting, "Keystone") == "Tom"


# "I'll need X" states a need, not a task (the sample meeting's "And I'll need the final English text
# for the help center article anyway" was Marcus's action item); "I'll need to check" commits.
@pytest.mark.parametrize(
    ("sentence", "task"),
    [
        ("And I'll need the final English text for the help center article anyway.", False),
        ("I'll want the numbers before the board meeting.", False),
        ("I'll admit the first draft was rough.", False),
        ("I'll need to check with legal by Friday.", True),
        ("I'll send the deck tonight.", True),
    ],
)
def test_a_need_stated_is_no_task(sentence: str, task: bool) -> None:
    from worker.meeting import DecisionSignals

    assert DecisionSignals("en").is_action_item(sentence) is task


@pytest.mark.parametrize(
    "meeting",
    [
        # A Canadian committee (QMSum covid_2): an honorific is no owner.
        "The Chair: Thank you. Honourable members, please note too that the House has been recalled.\n"
        "Hon. Bill Morneau: Mr. Chair, we think the best thing to do is to invest in Canadians.\n",
        # A word the meeting writes in lower case is no owner ("Budget first.", then "the budget").
        "Maya: Budget first, please send me the sheet by Friday.\nTom: The budget is fine as it is.\n",
    ],
)
def test_a_title_or_a_common_word_never_owns_a_request(meeting: str) -> None:
    owners = [a["owner"] for a in _actions(meeting)]
    assert owners and not {"Honourable", "Budget"} & set(owners), owners


# AMI's chairs hand out work by role ("So the Industrial Designer will work on the components"): the
# participant a sentence names, by the label they speak under, owns the task.
@pytest.mark.parametrize(
    ("sentence", "owner"),
    [
        (
            "So the Industrial Designer will work on the components for the next meeting.",
            "Industrial Designer",
        ),
        ("And I think Marketing should look at the trends in the youth market.", "Marketing"),
        ("Okay, so Dana is going to check the vendor's numbers again.", "Dana"),
    ],
)
def test_the_participant_a_sentence_gives_a_task_owns_it(sentence: str, owner: str) -> None:
    meeting = (
        f"Project Manager: The components and the trends came up again today.\nProject Manager: {sentence}\n"
        "Industrial Designer: Okay.\nMarketing: Fine.\nDana: Sure.\n"
    )
    assert _owner_of(meeting, sentence.split()[-3]) == owner


# A chair's read-back of the tasks ("Priya sends me the estimate by Thursday") is owned by the person
# it names, in the present ("Markus schickt", "Anna stuurt", "Paul envoie", "João envia") and in the
# future ("Marie enverra", "Giulia manderà").
@pytest.mark.parametrize(
    ("code", "sentence", "owner"),
    [
        ("en", "Priya sends me the revised estimate by Thursday.", "Priya"),
        ("de", "Markus schickt den Bericht bis Freitag.", "Markus"),
        ("nl", "Anna stuurt de offerte voor vrijdag.", "Anna"),
        ("fr", "Paul s'occupe du devis d'ici vendredi.", "Paul"),
        ("es", "Carlos se encarga del informe antes del viernes.", "Carlos"),
        ("fr", "Marie enverra le devis avant vendredi.", "Marie"),
        ("fr", "Paul s'en occupe d'ici vendredi.", "Paul"),
        ("es", "Carlos enviará el presupuesto antes del viernes.", "Carlos"),
        ("it", "Giulia manderà il preventivo entro venerdì.", "Giulia"),
        ("pt", "João enviará o orçamento até sexta.", "João"),
        ("pt", "João fica responsável pelo orçamento até sexta.", "João"),
        ("fr", "Paul envoie le devis d'ici vendredi.", "Paul"),
        ("es", "Carlos envía el presupuesto antes del viernes.", "Carlos"),
        ("it", "Giulia manda il preventivo entro venerdì.", "Giulia"),
        ("pt", "João envia o orçamento até sexta.", "João"),
    ],
)
def test_a_read_back_task_is_owned_by_the_person_it_names(code: str, sentence: str, owner: str) -> None:
    from worker.meeting import DecisionSignals, addressed_owner

    assert addressed_owner(sentence) == owner
    assert DecisionSignals(code).is_action_item(sentence)


# A word that opens a sentence as its subject but names nobody ("Tout", "Todo", "Alles") owns nothing,
# whatever tense follows it.
@pytest.mark.parametrize(
    "sentence",
    [
        "Tout sera prêt vendredi.",
        "Cela dit, on verra vendredi.",
        "Todo estará listo el viernes.",
        "Tutto sarà pronto venerdì.",
        "Tudo estará pronto na sexta.",
        "Alles wird bis Freitag fertig.",
        "Alles gaat vrijdag de deur uit.",
    ],
)
def test_a_pronoun_opening_a_sentence_owns_nothing(sentence: str) -> None:
    from worker.meeting import addressed_owner

    assert addressed_owner(sentence) is None


# A deadline word is a deadline only before a date: "antes del viernes" commits, "antes del verano"
# (QMSum-style "we can't hire before the summer") says when something cannot happen.
@pytest.mark.parametrize(
    ("code", "sentence", "action"),
    [
        ("es", "Y no podemos contratar antes del verano.", False),
        ("es", "Envía el informe antes del viernes, por favor.", True),
        ("es", "Carlos termina el informe antes del fin de mes.", True),
    ],
)
def test_a_deadline_cue_commits_only_before_a_date(code: str, sentence: str, action: bool) -> None:
    from worker.meeting import DecisionSignals

    assert DecisionSignals(code).is_action(sentence) is action


# A commitment cue inside a condition commits nobody (QMSum ES2006b: "So if we need to have a target
# group um then ..."), in each language; a request may still be put as one.
@pytest.mark.parametrize(
    ("code", "sentence", "action"),
    [
        ("en", "So if we need to have a target group um then uh I think the motto matters.", False),
        ("en", "Whether we need to redo it is still unclear.", False),
        ("en", "If you could send it by Friday, please.", True),
        ("en", "If it breaks, I'll fix it tonight.", True),
        ("de", "Wenn wir müssen, machen wir das später.", False),
        ("fr", "S'il faut refaire les tests, on verra.", False),
        ("es", "Si tenemos que cambiar el diseño, lo vemos luego.", False),
        ("nl", "Als we moeten, doen we het later.", False),
        ("zh", "如果我会去的话再说。", False),
    ],
)
def test_a_commitment_cue_in_a_condition_is_no_action_item(code: str, sentence: str, action: bool) -> None:
    from worker.meeting import DecisionSignals

    assert DecisionSignals(code).is_action(sentence) is action


# A disfluent repetition ("you can you can zap") reads "can you" across its words: no request.
@pytest.mark.parametrize(
    "sentence",
    [
        "Well you can you can double curve, if you don't have titanium.",
        "Yeah, but you can z you can zap t you can you can zap to the video channel.",
        "So you could you could put the logo on the back.",
    ],
)
def test_a_repeated_you_can_is_no_request(sentence: str) -> None:
    from worker.meeting import DecisionSignals

    assert not DecisionSignals("en").is_action(sentence)


# An instruction's verb is nobody ("Compare prices ...", "Update docs ..."), nor is a subject whose
# next word is a function word that happens to end like a present-tense verb ("Budget was ...",
# "Update that ...", "Review next steps ..."); the person a read-back names still owns it.
@pytest.mark.parametrize(
    ("sentence", "owner"),
    [
        ("Compare prices with the other vendor by Friday.", None),
        ("Update docs by Friday.", None),
        ("Fix bugs before the release on Monday.", None),
        ("Book flights for the team by Thursday.", None),
        ("Update that by Friday.", None),
        ("Review next steps on Monday.", None),
        ("Check budget numbers by Monday.", None),
        ("Budget was approved, send it by Friday.", None),
        # An article is nobody, before a noun that ends like another language's verb ("sujet").
        ("Le sujet principal, c'est le salon de Lyon en mars.", None),
        ("La fecha, el viernes.", None),
        ("O projeto começa em março.", None),
        ("Il progetto parte a marzo.", None),
        # The word after an article is a noun ("The Board will", "Den Bericht schickt Markus").
        ("The Board will decide by Friday.", None),
        ("Den Bericht schickt Markus bis Freitag.", None),
        ("Die Firma schickt das Angebot bis Freitag.", None),
        ("And so, Dana, please send it by Friday.", "Dana"),
        ("Priya sends the deck by Friday.", "Priya"),
        ("Bob must send it by Friday.", "Bob"),
        ("Mark sends the invoice on Monday.", "Mark"),
        ("Markus schickt das Angebot bis Freitag.", "Markus"),
    ],
)
def test_an_instruction_verb_or_a_function_word_makes_no_owner(sentence: str, owner: str | None) -> None:
    from worker.meeting import addressed_owner

    assert addressed_owner(sentence) == owner


# An owner still to be chosen is no task ("担当者が決まっていません": the person responsible is not
# decided yet; "Nobody has been assigned yet"); the person who takes it on still owns one.
@pytest.mark.parametrize(
    ("code", "sentence", "action"),
    [
        ("ja", "担当者が決まっていません。", False),
        ("ja", "担当はまだ決まっていない。", False),
        ("ja", "担当は未定です。", False),
        ("ja", "田中さんが担当します。", True),
        ("ko", "담당자가 아직 정해지지 않았습니다.", False),
        ("ko", "담당은 미정입니다.", False),
        ("ko", "민수 씨가 보고서를 담당합니다.", True),
        # Nobody as the one who acts: no task, in every language; a commitment beside it still is.
        ("en", "Nobody has been assigned yet.", False),
        ("en", "No one will follow up on the invoices, as far as I know.", False),
        ("en", "Nobody else has time, so I'll send it by Friday.", True),
        ("en", "I can't promise, but I'll send it by Friday.", True),
        ("de", "Niemand wird das Protokoll bis Freitag schicken.", False),
        ("fr", "Personne ne s'occupe du budget pour l'instant.", False),
        ("fr", "Personne n'enverra le devis d'ici vendredi.", False),
        ("fr", "La personne responsable doit envoyer le rapport avant vendredi.", True),
        ("es", "Nadie se encarga del presupuesto todavía, no hay fecha límite.", False),
        ("it", "Nessuno si occupa del bilancio entro venerdì.", False),
        ("pt", "Ninguém vai enviar o relatório até sexta-feira.", False),
        ("nl", "Niemand stuurt het verslag voor vrijdag.", False),
        ("zh", "还没有人负责这件事。", False),
        ("zh", "张伟负责这件事。", True),
        ("ja", "誰も担当していません。", False),
        ("ko", "아무도 담당하지 않습니다.", False),
    ],
)
def test_an_owner_still_to_be_chosen_is_no_task(code: str, sentence: str, action: bool) -> None:
    from worker.meeting import DecisionSignals

    assert DecisionSignals(code).is_action(sentence) is action


# The meeting's own connection ("Can you hear me?", "Can you see my screen?") asks nothing to be
# done after it, in every language; a request that names a task still does.
@pytest.mark.parametrize(
    ("code", "sentence", "action"),
    [
        ("en", "Can you hear me?", False),
        ("en", "Sorry, can you hear me okay now?", False),
        ("en", "Can everyone see my screen?", False),
        ("en", "Could you unmute, please?", False),
        ("en", "I think you're on mute.", False),
        ("en", "I'll add a mute button to the remote by Friday.", True),
        ("en", "Can you send me the screen designs by Friday?", True),
        ("de", "Könnt ihr mich hören?", False),
        ("fr", "Vous m'entendez ?", False),
        ("fr", "Pouvez-vous voir mon écran ?", False),
        ("es", "¿Me oyes bien?", False),
        ("it", "Mi sentite?", False),
        ("pt", "Vocês conseguem me ouvir?", False),
        ("nl", "Kunnen jullie me horen?", False),
        ("zh", "你们能听到我吗？", False),
        ("ja", "聞こえますか？", False),
        ("ko", "제 목소리 들리세요?", False),
    ],
)
def test_a_question_about_the_meetings_connection_is_no_task(code: str, sentence: str, action: bool) -> None:
    from worker.meeting import DecisionSignals

    assert DecisionSignals(code).is_action(sentence) is action


# A decision that gives a named person a task is theirs: "We decided that Carol will send the deck
# by Friday" is Carol's action item, not a decision with the speaker as owner; with Carol's own
# read-back it is one item.
@pytest.mark.parametrize(
    ("sentence", "owner"),
    [
        ("We decided that Carol will send the deck by Friday.", "Carol"),
        ("So we agreed Bob will book the venue by next Tuesday.", "Bob"),
        ("On a décidé que Marie s'occupe du budget d'ici vendredi.", "Marie"),
        ("Hemos acordado que Lucía enviará el informe el viernes.", "Lucía"),
        ("We decided that the launch moves to June.", None),
        ("I'll send it so that Bob will have it by Friday.", None),
        # German and Dutch put the verb at the end of a "dass" / "dat" clause.
        ("Wir haben beschlossen, dass Anna das Protokoll bis Freitag schickt.", "Anna"),
        ("Wir haben vereinbart, dass Jonas sich bis Montag um die Reservierung kümmert.", "Jonas"),
        ("Wir haben beschlossen, dass Anna das Protokoll bis Freitag schicken wird.", "Anna"),
        ("We hebben afgesproken dat Sanne het verslag voor vrijdag stuurt.", "Sanne"),
        ("Wir haben beschlossen, dass das Protokoll bis Freitag fertig ist.", None),
        ("Wir haben beschlossen, dass Montag der Starttermin ist.", None),
    ],
)
def test_a_decision_that_names_who_does_it_gives_them_the_task(sentence: str, owner: str | None) -> None:
    from worker.meeting import addressed_owner

    assert addressed_owner(sentence) == owner


def test_a_decided_task_and_its_read_back_are_one_action_item_of_the_person_named() -> None:

    meeting = (
        "Anna: Let's get started with the launch plan.\n"
        "Ben: We decided that Carol will send the deck by Friday.\n"
        "Carol: Yes, I'll send the deck by Friday.\n"
        "Anna: And we agreed to move the launch to June.\n"
        "Anna: Great, thanks all.\n"
    )
    structure = summarised(meeting)
    actions = [(a["owner"], a["due"]) for a in structure["action_items"]]
    decisions = [d["text"] for d in structure["decisions"]]
    assert actions == [("Carol", "Friday")], structure["action_items"]
    assert decisions == ["And we agreed to move the launch to June."], decisions


# A word that is a filler in one language and a name in another ("ben": French "well", English
# "Ben") is a name in a meeting with a speaker of that name; in one without, it stays a filler.
def test_a_speakers_name_that_is_another_languages_filler_owns_what_they_are_asked() -> None:

    def actions(meeting: str) -> list[tuple[str | None, str | None]]:
        read = summarised(meeting)
        return [(a["owner"], a["due"]) for a in read["action_items"]]

    english = (
        "Anna: Okay, the launch plan is ready.\nAnna: Ben, can you send the deck to the board by Friday?\n"
        "Carol: The deck is nearly done, the charts are missing.\nBen: Okay.\n"
    )
    assert actions(english) == [("Ben", "Friday")]
    read_back = "Anna: Okay, the plan is ready.\nAnna: Ben will send the deck by Friday.\nBen: Okay.\n"
    assert actions(read_back) == [("Ben", "Friday")]
    french = (
        "Marie: Le plan de lancement est prêt.\nPaul: Ben, je m'en occupe d'ici vendredi.\nMarie: Parfait.\n"
    )
    assert actions(french) == [("Paul", "vendredi")]


# A request put as a plain question with a task verb ("Schickst du mir ...?", "Tu m'envoies ...?")
# asks someone to act; a question about what they did or saw asks nothing.
@pytest.mark.parametrize(
    ("code", "sentence", "action"),
    [
        ("de", "Ben, schickst du mir bis Freitag den Entwurf?", True),
        ("de", "Übernimmst du das Protokoll?", True),
        ("de", "Kümmerst du dich um die Reservierung?", True),
        ("de", "Hast du das gesehen?", False),
        ("de", "Bist du sicher?", False),
    ],
)
def test_a_request_put_as_a_plain_question_with_a_task_verb_is_a_task(
    code: str, sentence: str, action: bool
) -> None:
    from worker.meeting import DecisionSignals

    assert DecisionSignals(code).is_action(sentence) is action
