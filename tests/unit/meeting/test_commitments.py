"""One item per commitment (`worker.meeting.one_per_commitment`): of a commitment and its read-back
(same owner, same due date) the later is kept; anything else passes untouched, in order. One item
per decision (`worker.meeting.one_per_decision`): of two decisions stated as made that choose the
same thing, the later."""

from __future__ import annotations

from dataclasses import dataclass

from worker.meeting import DecisionSignals, one_per_commitment, one_per_decision


@dataclass(frozen=True)
class Said:
    speaker: str | None
    text: str


def test_a_commitment_and_its_read_back_are_one_item_the_later() -> None:
    items = [
        Said("Tom", "I'll have the crash alert done by Friday."),
        Said("Maya", "We decided to ship the hotfix alone."),
        Said("Maya", "Tom adds the crash alert by Friday."),
    ]
    assert one_per_commitment(items, DecisionSignals("en")) == items[1:]


def test_commitments_with_another_owner_or_date_all_stay() -> None:
    items = [
        Said("Tom", "I'll have the crash alert done by Friday."),
        Said("Lena", "I'll write the pricing brief by Friday."),
        Said("Tom", "I'll send the release notes by Monday."),
        Said(None, "Marie s'occupe de prévenir les clients d'ici vendredi."),
    ]
    assert one_per_commitment(items, DecisionSignals("fr", ("en",))) == items


def test_a_decision_naming_a_date_is_no_action_item_but_a_dated_task_for_a_person_is() -> None:
    signals = DecisionSignals("en")
    assert not signals.is_action_item("We decided to move the launch to June, I'll tell marketing.")
    assert signals.is_action_item("Dana sends the deck by Friday, as we agreed.")


def test_a_read_back_that_names_more_dates_is_still_one_item_with_the_commitment() -> None:
    # The sample meeting: Tom's "by Wednesday", read back with "today" said first.
    items = [
        Said("Tom", "I'll have something, even if it's \"they won't commit,\" by Wednesday."),
        Said("Maya", "Tom emails Keystone today and has an answer for me by Wednesday."),
        Said("Maya", "Lena writes the pricing experiment brief by Friday."),
    ]
    assert one_per_commitment(items, DecisionSignals("en")) == items[1:]


def test_a_decision_said_again_is_one_item_the_later() -> None:
    # QMSum ES2009b's project manager, verbatim (the first up to its first comma).
    items = [
        Said(
            "Project Manager",
            "Um And we'll yeah tha let's provisionally let's go for a touch screen one with several submenus"
            " um for possible extra stuff",
        ),
        Said("Marketing", "I'll check what a docking base costs by Friday."),
        Said(
            "Project Manager",
            "Okay so let's go with a um touch screen with um some kind of you know with with some kind of"
            " cutting edge battery technology",
        ),
    ]
    assert one_per_decision(items, DecisionSignals("en")) == items[1:]


def test_decisions_that_choose_different_things_all_stay() -> None:
    items = [
        Said("Dana", "We decided to go with the blue case."),
        Said("Dana", "Let's go with the blue buttons."),
        Said("Lee", "So we'll go with HubSpot."),
        Said("Lee", "Okay, yellow it is."),
        Said("Lee", "Blue case."),
    ]
    assert one_per_decision(items, DecisionSignals("en")) == items


def test_a_decision_said_again_in_another_language_of_the_meeting_is_one_item() -> None:
    items = [
        Said("Jonas", "Wir haben beschlossen, den Umzug im Juni zu machen."),
        Said("Marie", "On a décidé : le pilote démarre en mars."),
        Said("Lea", "Also beschlossen: Umzug im Juni, mit dem alten Vertrag."),
    ]
    assert one_per_decision(items, DecisionSignals("de", ("fr",))) == items[1:]
