"""What a speaker says they will do inside the meeting ("I'll be quick", "I'll stop sharing", "Please
go ahead", "Could you repeat that?") or a goodbye ("See you next week") is no task to do after it
(issue 22: noise in the action items); the same verbs with a task after the meeting still are."""

from __future__ import annotations

import pytest

from tests.support.summaries import summarised
from worker.meeting import DecisionSignals


@pytest.mark.parametrize(
    "sentence",
    [
        "I'll be quick.",
        "I'll be honest with you.",
        "I'll keep it short.",
        "I'll stop sharing.",
        "I'll let you go.",
        "I'll hand over to Bob.",
        "I'll leave it there.",
        "I'll just say one thing.",
        "I'll give you an example.",
        "I'll mute myself.",
        "I'll come back to that.",
        "I'll explain.",
        "I'll repeat the question.",
        "I'll see you next week.",
        "Talk to you on Monday.",
        "Please go ahead.",
        "Please continue.",
        "We need to move on.",
        "We need to wrap up.",
        "Could you repeat that?",
        "Could you speak up?",
    ],
)
def test_an_act_of_the_meeting_itself_or_a_goodbye_is_no_task(sentence: str) -> None:
    assert not DecisionSignals("en").is_action(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "I'll send the minutes tomorrow.",
        "I'll check with legal.",
        "I'll explain the new pricing to the sales team on Friday.",
        "Please continue the prototype work next week.",
        "Could you repeat the load test on the new cluster by Friday?",
        "I'll share the slides with the client by Monday.",
    ],
)
def test_a_task_after_the_meeting_with_the_same_verbs_still_is_one(sentence: str) -> None:
    assert DecisionSignals("en").is_action(sentence)


def test_the_meetings_own_acts_are_not_listed_as_action_items() -> None:
    text = (
        "Alice: I'll be quick, we need to pick the supplier for the billing export.\n"
        "Bob: I'll stop sharing.\n"
        "Alice: Please go ahead with the numbers for the billing export.\n"
        "Bob: I'll send the supplier comparison for the billing export by Friday.\n"
        "Alice: Great, I'll see you next week.\n"
    )
    items = summarised(text)["action_items"]
    assert [i["task"] for i in items] == [
        "I'll send the supplier comparison for the billing export by Friday."
    ]
