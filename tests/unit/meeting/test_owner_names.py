"""A name that is a filler only in a language the meeting does not speak is a name (issue 22):
"Ben" is French for "well", so an English meeting's "Ben, can you ...", "Ben will ..." and an
LLM's "Owner: Ben" gave Ben nothing even when he was not a speaker. In a meeting that speaks
French it stays a filler ("Ben, je m'en occupe.")."""

from __future__ import annotations

from tests.support.summaries import summarised
from worker.meeting import addressed_owner, common_words, iter_utterances, parse_structure
from worker.meeting.signals import is_name

ENGLISH = (
    "Anna: Okay, the launch plan is ready and the board meets next week.\n"
    "Carol: The deck is nearly done, only the charts for the pricing are missing.\n"
)


def _actions(meeting: str) -> list[tuple[str | None, str | None]]:
    read = summarised(meeting)
    return [(a["owner"], a["due"]) for a in read["action_items"]]


def test_an_absent_person_named_like_another_languages_filler_owns_the_request_put_to_them() -> None:
    meeting = ENGLISH + "Anna: Ben, can you send the deck to the board by Friday?\nCarol: Good, thanks.\n"
    assert _actions(meeting) == [("Ben", "Friday")]


def test_an_absent_person_named_like_another_languages_filler_owns_the_task_given_to_them() -> None:
    meeting = ENGLISH + "Anna: Ben will send the deck to the board by Friday.\nCarol: Good, thanks.\n"
    assert _actions(meeting) == [("Ben", "Friday")]


def test_a_models_owner_named_like_another_languages_filler_is_kept() -> None:
    summary = (
        "Overview\nPlanning.\n\nDecisions\nNone\n\nAction items\n- Send the deck. Owner: Ben. Due: Friday.\n"
    )
    read = parse_structure(summary, list(iter_utterances(ENGLISH)))
    assert [(a["owner"], a["due"]) for a in read["action_items"]] == [("Ben", "Friday")]


def test_in_a_meeting_that_speaks_the_fillers_language_it_stays_a_filler() -> None:
    french = (
        "Marie: Le plan de lancement est prêt, il manque seulement les graphiques du prix.\n"
        "Paul: Ben, je m'en occupe d'ici vendredi.\nMarie: Parfait, merci.\n"
    )
    assert _actions(french) == [("Paul", "vendredi")]
    common = common_words(french)
    assert addressed_owner("Ben, je m'en occupe d'ici vendredi.", common) is None
    assert not is_name("Ben", common)


def test_a_filler_of_the_meetings_own_language_is_never_a_name() -> None:
    common = common_words(ENGLISH)
    assert not is_name("Um", common) and not is_name("Well", common)
    assert is_name("Ben", common)


# A verb known by its ending is read in the meeting's own languages only: German "schickt" ends in
# "-t", and so do English past tenses ("went", "sent", "thought"), which report and assign nothing.
def test_a_past_event_in_an_english_meeting_is_no_task_of_the_person_named() -> None:
    from worker.meeting import DecisionSignals

    signals = DecisionSignals("en")
    common = common_words(ENGLISH)
    for report in (
        "Tom went to Berlin on Friday.",
        "Dana sent the deck on Friday.",
        "Bob thought it was fine on Tuesday.",
        "Anna left early on Monday.",
    ):
        assert not signals.is_action(report), report
        assert addressed_owner(report, common) is None, report
    assert signals.is_action("Priya sends the deck by Friday.")
    assert addressed_owner("Priya sends the deck by Friday.", common) == "Priya"


def test_a_task_given_by_a_verb_ending_holds_in_the_language_that_has_it() -> None:
    from worker.meeting import DecisionSignals

    german = "Anna: Der Entwurf ist fertig, es fehlen nur noch die Zahlen vom Vertrieb.\nJonas: Gut.\n"
    assert DecisionSignals("de").is_action("Anna schickt das Protokoll bis Freitag.")
    assert addressed_owner("Anna schickt das Protokoll bis Freitag.", common_words(german)) == "Anna"
    # A meeting that speaks both: German's endings count.
    assert DecisionSignals("en", ("de",)).is_action("Anna schickt das Protokoll bis Freitag.")


def test_a_past_event_read_back_in_an_english_meeting_is_not_listed_as_an_action_item() -> None:
    meeting = ENGLISH + (
        "Anna: Dana sent the deck to the board on Friday.\n"
        "Carol: Good. I'll send the pricing charts by Wednesday.\n"
    )
    assert _actions(meeting) == [("Carol", "Wednesday")]


# A verb that reports a view or a wish ("says", "thinks", "wants"; "meint", "findet") gives the
# person named no task, though it ends like one ("sends", "schickt"): "Bob wants the report by
# Friday" is a deadline, not Bob's.
def test_a_view_or_a_wish_reported_with_a_date_is_no_task_of_the_person_named() -> None:
    from worker.meeting import DecisionSignals

    for code, view, task in (
        ("en", "Tom says he finished it on Monday.", "Tom checks the logs by Monday."),
        ("en", "Bob wants the report by Friday.", "Bob writes the report by Friday."),
        ("en", "Anna thinks the launch is on Friday.", "Anna books the venue by Friday."),
        ("de", "Anna meint, der Termin am Freitag passt.", "Anna schickt das Protokoll bis Freitag."),
        ("de", "Jonas findet den Entwurf bis Freitag gut.", "Jonas prüft den Entwurf bis Freitag."),
    ):
        assert addressed_owner(view, speaking=[code]) is None, view
        assert DecisionSignals(code).is_action(task) and addressed_owner(task, speaking=[code]), task
    # A view with a date and no deadline is no action item at all.
    assert not DecisionSignals("en").is_action("Tom says he finished it on Monday.")
