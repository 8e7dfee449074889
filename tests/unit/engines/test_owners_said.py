"""The ways people say who does a task in English meetings beyond "Bob will ...": "Bob is gonna",
"Dana's gonna", "Dana'll", "Ethan is in charge of", "Ethan volunteered to", and the chair handing
it on ("I'll ask Ethan to ...", "Let's have Ethan ..."): the person named owns it, not the speaker
(issue 22: the owner is the person the sentence assigns). An instruction verb opening a sentence
("Upgrade to version 4.11 ...") owns nothing."""

from __future__ import annotations

import pytest

from tests.support.summaries import summarised
from worker.meeting import addressed_owner

_REST = "Bob: Okay.\nCarol: Sure.\nDana: Fine.\nEthan: Yes.\n"


def _owners(sentence: str) -> list[object]:
    meeting = f"Alice: We planned the offsite and the launch today.\nAlice: {sentence}\n{_REST}"
    return [a["owner"] for a in summarised(meeting)["action_items"]]


@pytest.mark.parametrize(
    ("sentence", "owner"),
    [
        ("Bob is gonna fix the login bug by Monday.", "Bob"),
        ("Yeah so uh Dana's gonna send the survey results by Friday.", "Dana"),
        ("Dana's going to send the survey results by Friday.", "Dana"),
        ("Dana'll send the survey results by Friday.", "Dana"),
        ("Ethan is in charge of booking the venue by next week.", "Ethan"),
        ("Ethan volunteered to book the venue by next week.", "Ethan"),
        ("I'll ask Ethan to book the venue by next week.", "Ethan"),
        ("Let's have Ethan book the venue by next week.", "Ethan"),
    ],
)
def test_the_person_a_sentence_names_owns_the_task(sentence: str, owner: str) -> None:
    assert _owners(sentence) == [owner]


@pytest.mark.parametrize(
    ("sentence", "owner"),
    [
        ("Bob is gonna fix the login bug by Monday.", "Bob"),
        ("Dana'll send the survey results by Friday.", "Dana"),
        ("Dana's gonna send the survey results by Friday.", "Dana"),
        ("Priya is in charge of the budget until March.", "Priya"),
        ("Upgrade to version 4.11 and ship it on Tuesday.", None),
        ("Migrate the database to the new cluster by Friday.", None),
        ("Dana's report is due on Friday.", None),
    ],
)
def test_a_name_and_the_words_that_give_the_task_are_read_without_the_speakers(
    sentence: str, owner: str | None
) -> None:
    assert addressed_owner(sentence) == owner


@pytest.mark.parametrize(
    "sentence",
    [
        "We have Ethan here today to talk about the venue.",
        "I asked Ethan about the venue yesterday.",
    ],
)
def test_a_participant_mentioned_without_a_task_owns_none(sentence: str) -> None:
    assert "Ethan" not in _owners(sentence)
