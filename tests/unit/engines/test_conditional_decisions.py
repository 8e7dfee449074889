"""A decision under a condition said first ("If the audit passes, we'll go with vendor B.") is not
made yet, in every language the engine localises (issue 22: no conditional mentions); a concession
("Even if it costs more, ...") or an opener that is no condition ("So, ...", "As for the case, ...")
still decides."""

from __future__ import annotations

import pytest

from tests.support.summaries import summarised
from worker.meeting import DecisionSignals


@pytest.mark.parametrize(
    ("code", "sentence"),
    [
        ("en", "If the audit passes, we'll go with vendor B."),
        ("en", "Okay, so if everyone is fine with it, we decided to ship on Friday."),
        ("en", "Unless legal objects, we agreed to drop the legacy API."),
        ("en", "In case the supplier is late, we go with the grey case."),
        ("de", "Wenn das Audit durchgeht, haben wir beschlossen, Anbieter B zu nehmen."),
        ("de", "Also, falls es billiger ist, ist das beschlossen."),
        ("fr", "Si l'audit passe, on part sur le fournisseur B."),
        ("es", "Si la auditoría sale bien, hemos decidido ir con el proveedor B."),
        ("it", "Se l'audit va bene, abbiamo deciso il fornitore B."),
        ("pt", "Caso a auditoria passe, decidimos pelo fornecedor B."),
        ("nl", "Als de audit slaagt, gaan we voor leverancier B."),
        ("zh", "如果审计通过，我们决定选择供应商B。"),
    ],
)
def test_a_decision_under_a_condition_said_first_is_no_decision(code: str, sentence: str) -> None:
    assert not DecisionSignals(code).is_decision(sentence)


@pytest.mark.parametrize(
    ("code", "sentence"),
    [
        ("en", "Even if it costs more, we decided to go with vendor B."),
        ("en", "So we decided to go with vendor B."),
        ("en", "As for the case, we decided it is rubber."),
        ("de", "Also, wir haben beschlossen, Anbieter B zu nehmen."),
        ("en", "Whatever the audit says, we decided to go with vendor B."),
        ("de", "Auch wenn es teurer ist, haben wir beschlossen, Anbieter B zu nehmen."),
        ("fr", "Donc, on a décidé de prendre le fournisseur B."),
    ],
)
def test_a_decision_after_a_concession_or_a_plain_opener_is_a_decision(code: str, sentence: str) -> None:
    assert DecisionSignals(code).is_decision(sentence)


def test_a_conditional_plan_is_not_listed_among_the_decisions() -> None:
    text = (
        "Alice: We compared the two vendors for the billing export this week.\n"
        "Carol: If the audit passes, we'll go with vendor B for the billing export.\n"
        "Dave: We decided to drop the legacy billing API in the next release.\n"
        "Bob: I'll update the onboarding docs for the billing export by Friday.\n"
    )
    decisions = summarised(text)["decisions"]
    assert [d["text"] for d in decisions] == [
        "We decided to drop the legacy billing API in the next release."
    ]
