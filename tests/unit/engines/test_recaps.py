"""Recaps and backchannels in the languages the engine localises (issue 22): a short meeting's
numbered recap and the answer to a recap question give one decision per item; a backchannel is no
overview and no key point."""

from __future__ import annotations

import pytest

from tests.support.summaries import summarised
from worker.engines import ExtractiveEngine
from worker.meeting import parse_structure


def _decisions(text: str) -> list[str]:
    return [d["text"] for d in summarised(text)["decisions"]]


# A meeting that is little more than its numbered recap lists each item, in every language: the
# opener is its first sentence, but nothing follows the recap ("a quick recap" of where things
# stand opens a long meeting instead).
@pytest.mark.parametrize(
    ("text", "first"),
    [
        (
            "Dana: Let me recap. One, we keep the office in Berlin. Two, the pilot starts in March. "
            "Three, the budget stays at forty thousand.\nLee: Sounds right.\n",
            "One, we keep the office in Berlin.",
        ),
        (
            "Jonas: Kurz zusammengefasst. Erstens, wir behalten das Büro in Berlin. Zweitens, der Pilot "
            "startet im März. Drittens, das Budget bleibt bei vierzigtausend.\nLea: Passt.\n",
            "Erstens, wir behalten das Büro in Berlin.",
        ),
        (
            "Marie: Pour résumer. Premièrement, on garde le bureau à Paris. Deuxièmement, le pilote "
            "démarre en mars. Troisièmement, le budget reste à quarante mille.\nPaul: Parfait.\n",
            "Premièrement, on garde le bureau à Paris.",
        ),
    ],
)
def test_a_short_meetings_numbered_recap_gives_one_decision_each(text: str, first: str) -> None:
    decisions = _decisions(text)
    assert len(decisions) == 3 and decisions[0] == first, decisions


# The terse answer to "so what have we decided?" gives one decision per item in each language.
@pytest.mark.parametrize(
    ("text", "items"),
    [
        (
            "Ana: Olhamos os dois fornecedores e os preços.\nBeto: A caixa de borracha é mais barata e a de "
            "plástico quebra.\nAna: Então, o que decidimos?\nBeto: Caixa de borracha. Cor amarela. "
            "Lançamento em junho.\nAna: Ótimo.\n",
            ["Caixa de borracha.", "Cor amarela.", "Lançamento em junho."],
        ),
        (
            "Anna: Abbiamo guardato i due fornitori e i prezzi.\nBruno: La custodia in gomma costa meno e "
            "quella di plastica si rompe.\nAnna: Allora, cosa abbiamo deciso?\nBruno: Custodia in gomma. "
            "Colore giallo. Lancio a giugno.\nAnna: Bene.\n",
            ["Custodia in gomma.", "Colore giallo.", "Lancio a giugno."],
        ),
        (
            "Ana: Miramos los dos proveedores y los precios.\nBeto: La carcasa de goma es más barata y la de "
            "plástico se rompe.\nAna: Entonces, ¿qué decisiones tomamos?\nBeto: Carcasa de goma. Color "
            "amarillo. Lanzamiento en junio.\nAna: Bien.\n",
            ["Carcasa de goma.", "Color amarillo.", "Lanzamiento en junio."],
        ),
        (
            "Anna: We hebben de twee leveranciers en de prijzen bekeken.\nBram: De rubberen behuizing is "
            "goedkoper en de plastic breekt.\nAnna: Dus wat hebben we besloten?\nBram: Rubberen behuizing. "
            "Gele kleur. Lancering in juni.\nAnna: Goed.\n",
            ["Rubberen behuizing.", "Gele kleur.", "Lancering in juni."],
        ),
        (
            "李娜：我们看了两家供应商的报价。\n王强：橡胶外壳更便宜，塑料外壳容易坏。\n李娜：那我们决定了什么？\n"
            "王强：用橡胶外壳。颜色用黄色。六月发布。\n李娜：好的。\n",
            ["用橡胶外壳。", "颜色用黄色。", "六月发布。"],
        ),
    ],
)
def test_the_answer_to_a_recap_question_is_one_decision_per_item(text: str, items: list[str]) -> None:
    assert _decisions(text) == items


# A backchannel ("了解です。", "なるほど。", "아, 그렇군요.", "嗯，好的。") is no overview and no key point in
# the scripts written without spaces either, where every character pair used to count as a word.
@pytest.mark.parametrize(
    ("text", "fillers"),
    [
        (
            "田中：了解です。\n佐藤：新しいオフィスの椅子の見積もりを確認しました。\n田中：はい、はい。\n"
            "佐藤：北欧メーカーの椅子を注文することに決めました。\n田中：なるほど。\n",
            ["了解です", "はい", "なるほど"],
        ),
        (
            "민수：네, 네.\n지영：새 사무실 의자 견적을 확인했습니다.\n민수：아, 그렇군요.\n"
            "지영：북유럽 업체의 의자를 주문하기로 결정했습니다.\n민수：네.\n",
            ["그렇군요", "네, 네"],
        ),
        (
            "李娜：嗯，好的。\n王强：我们看了新办公椅的报价。\n李娜：对对。\n王强：我们决定从北欧公司订购人体工学椅。\n"
            "李娜：嗯嗯。\n",
            ["好的", "对对", "嗯嗯"],
        ),
    ],
)
def test_a_backchannel_is_no_overview_and_no_key_point(text: str, fillers: list[str]) -> None:
    parsed = parse_structure(ExtractiveEngine().summarise(text, 1024))
    said = [parsed["overview"], *(k["text"] for k in parsed["key_points"])]
    assert not [f for f in fillers if any(f in s for s in said)], said
    assert parsed["overview"] and parsed["decisions"]


def _pointed(turn: list[str]) -> set[int]:
    from types import SimpleNamespace

    from worker.meeting.recaps import recap_members

    items = [SimpleNamespace(index=i, speaker="Lee", text=t) for i, t in enumerate(turn)]
    items.append(SimpleNamespace(index=len(turn), speaker="Kim", text="Okay."))
    recited, answers = recap_members(items)
    return recited | answers


# "This is what we decided." points at the statements after it; a sentence that points back again
# ("copy paste from what we made together", said over a slide) comments on them and states none,
# nor does anything after it. QMSum TS3009d's turn, verbatim, then other shapes.
@pytest.mark.parametrize(
    "turn",
    [
        [
            "So uh This is what we decided.",
            "It's also copy paste from what we made together.",
            "So we still know that.",
        ],
        ["Here's what we agreed.", "It's the same as what we discussed last week."],
        ["So this is what we decided.", "Basically what we did in the workshop, all of it."],
        [
            "Das ist, was wir beschlossen haben.",
            "Das ist im Grunde das, was wir letzte Woche besprochen haben.",
        ],
        ["Voilà ce qu'on a décidé.", "C'est ce qu'on a fait ensemble la semaine dernière."],
    ],
)
def test_a_pointers_sentence_that_points_back_again_states_no_decision(turn: list[str]) -> None:
    assert _pointed(turn) == set()


@pytest.mark.parametrize(
    ("turn", "stated"),
    [
        (["So this is what we decided.", "The hotfix ships alone.", "The office stays in Berlin."], {1, 2}),
        (
            ["So this is what we decided.", "The case is rubber, as we discussed.", "Launch is in June."],
            {1, 2},
        ),
        (["Here's what we agreed.", "Blue case.", "It's also what we discussed with the vendor."], {1}),
    ],
)
def test_a_pointers_statements_are_items_up_to_its_comment(turn: list[str], stated: set[int]) -> None:
    assert _pointed(turn) == stated


# A decision said across turns, the others only saying "Right." or "Yep." in between, is one item: the
# whole of what was decided, not its first half. QMSum ES2006c's recap, verbatim, then other shapes.
@pytest.mark.parametrize(
    ("text", "decision"),
    [
        (
            "Industrial Designer: Uh um we we're definitely going in for voice recognition as well as"
            " L_C_D_s, mm.\nUser Interface: Yeah.\nProject Manager: Yeah. We're on our way. Okay. So we've"
            " basically worked out that we're going with a simple battery, the advanced chip\nIndustrial"
            " Designer: Right.\nProject Manager: and a curved on one side case which is folded in on"
            " itself, um made out of rubber\nIndustrial Designer: Yep.\nProject Manager: and the buttons"
            " are also rubber. We're having push-buttons on the outside and then on the inside an L_C_D_"
            " with spinning wheel, and we're incorporating voice recognition.\n",
            "So we've basically worked out that we're going with a simple battery, the advanced chip and a"
            " curved on one side case which is folded in on itself made out of rubber and the buttons are"
            " also rubber.",
        ),
        (
            "Dana: We looked at both cases and the prices from the two vendors.\nDana: So we decided to go"
            " with the blue case\nLee: Mm-hmm.\nDana: and the rubber buttons from the second vendor.\n"
            "Lee: Good, that works for the budget.\n",
            "So we decided to go with the blue case and the rubber buttons from the second vendor.",
        ),
        (
            "Dana: We looked at both cases and the prices from the two vendors.\nDana: So we decided to go"
            " with the blue case,\nLee: Okay.\nKim: Yeah.\nDana: plus the rubber buttons from the second"
            " vendor.\n",
            "So we decided to go with the blue case, plus the rubber buttons from the second vendor.",
        ),
        (
            "Jonas: Wir haben die beiden Gehäuse und die Preise der zwei Lieferanten verglichen.\nJonas: Wir"
            " haben beschlossen, das blaue Gehäuse zu nehmen\nLea: Mhm.\nJonas: und die Gummitasten vom"
            " zweiten Lieferanten.\nLea: Gut, das passt ins Budget.\n",
            "Wir haben beschlossen, das blaue Gehäuse zu nehmen und die Gummitasten vom zweiten Lieferanten.",
        ),
        (
            "Marie: On a comparé les deux boîtiers et les prix des deux fournisseurs.\nMarie: On a décidé de"
            " prendre le boîtier bleu\nPaul: Oui.\nMarie: et les touches en caoutchouc du second"
            " fournisseur.\nPaul: Parfait, ça rentre dans le budget.\n",
            "On a décidé de prendre le boîtier bleu et les touches en caoutchouc du second fournisseur.",
        ),
    ],
)
def test_a_decision_said_across_backchannels_is_one_item(text: str, decision: str) -> None:
    assert decision in _decisions(text)


@pytest.mark.parametrize(
    ("text", "decision"),
    [
        # Someone says something between: the turns are two.
        (
            "Dana: We looked at both cases and the prices from the two vendors.\nDana: So we decided to go"
            " with the blue case\nLee: What about the price of the rubber buttons?\nDana: and the rubber"
            " buttons from the second vendor.\n",
            "So we decided to go with the blue case",
        ),
        # The decision was said whole: what follows is the next thing.
        (
            "Dana: We looked at both cases and the prices from the two vendors.\nDana: So we decided to go"
            " with the blue case.\nLee: Right.\nDana: and then the budget for the launch event in May.\n",
            "So we decided to go with the blue case.",
        ),
        # An unpunctuated transcript: every turn is unfinished, and a long next turn is its own.
        (
            "dana: we looked at both cases and the prices from the two vendors\ndana: so we decided to go"
            " with the blue case\nlee: right\ndana: and "
            + "then the budget for the launch event " * 12
            + "\n",
            "so we decided to go with the blue case",
        ),
        # A new sentence, not a continuation.
        (
            "Dana: We looked at both cases and the prices from the two vendors.\nDana: So we decided to go"
            " with the blue case\nLee: Right.\nDana: Next point is the budget for the launch event.\n",
            "So we decided to go with the blue case",
        ),
    ],
)
def test_a_decision_is_not_joined_to_what_is_no_continuation(text: str, decision: str) -> None:
    assert decision in _decisions(text)
