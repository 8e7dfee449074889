"""The extractive engine: a real, labelled summariser that picks verbatim sentences within budget."""

from __future__ import annotations

import asyncio
from pathlib import Path

from worker.engines import ExtractiveEngine, SummaryTask
from worker.meeting import ENGLISH, DecisionSignals, count_word_tokens, term_weights

MEETING = """\
Alice: Good morning everyone, let's start the budget review for the mobile app project.
Bob: Yeah.
Alice: The mobile app budget is twelve thousand euros and the design phase used most of it.
Carol: The design phase took longer because the user interface tests failed twice.
Bob: Um, okay.
Carol: The user interface tests now pass on both phones and tablets after the redesign.
Alice: We decided to move the launch of the mobile app to the end of March.
Bob: I'll send the revised budget to the finance team by Friday.
Dave: The marketing survey says young users want a dark theme and faster search.
Carol: Search speed depends on the new backend, which the platform team delivers in February.
Alice: Right.
Dave: The survey also found that price matters less than battery use for our users.
"""


def test_summary_is_labelled_as_extractive_with_headings() -> None:
    summary = ExtractiveEngine().summarise(MEETING, 400)
    assert summary.splitlines()[0] == ENGLISH.label
    assert any(heading in summary for heading in ENGLISH.headings)


def test_every_picked_sentence_is_verbatim_from_the_transcript() -> None:
    for sentence in ExtractiveEngine().rank(MEETING, 120, with_speakers=False):
        assert sentence in MEETING


def test_rank_keeps_transcript_order_and_speaker_labels() -> None:
    picked = ExtractiveEngine().rank(MEETING, 150)
    positions = [MEETING.index(line) for line in picked]
    assert positions == sorted(positions)
    assert all(line.split(":")[0] in {"Alice", "Bob", "Carol", "Dave"} for line in picked)


def test_rank_stays_within_the_token_budget() -> None:
    for budget in (20, 60, 150):
        picked = ExtractiveEngine().rank(MEETING, budget)
        assert sum(count_word_tokens(f"- {line}") for line in picked) <= budget


def test_summary_stays_within_max_tokens() -> None:
    for budget in (80, 200):
        assert count_word_tokens(ExtractiveEngine().summarise(MEETING, budget)) <= budget


def test_filler_turns_are_not_picked() -> None:
    picked = ExtractiveEngine().rank(MEETING, 150, with_speakers=False)
    assert "Yeah." not in picked and "Um, okay." not in picked and "Right." not in picked


def test_repeated_sentences_are_picked_once() -> None:
    repeated = "Carol: The user interface tests now pass on both phones and tablets after the redesign.\n"
    picked = ExtractiveEngine().rank(MEETING + repeated * 20, 200, with_speakers=False)
    assert sum("tests now pass" in line for line in picked) == 1


def test_decisions_and_action_items_get_their_own_sections() -> None:
    short = (
        "Alice: We decided to move the launch of the mobile app to the end of March.\n"
        "Bob: I'll send the revised budget to the finance team by Friday.\n"
        "Carol: The survey found that battery use matters more than price for our users.\n"
    )
    summary = ExtractiveEngine().summarise(short, 1000)
    sections = {part.split("\n", 1)[0]: part for part in summary.split("\n\n")}
    assert "decided to move the launch" in sections["Decisions"]
    assert "send the revised budget" in sections["Action items"]
    # With three sentences the most central one is the overview.
    assert "battery use matters" in sections["Overview"] + sections["Key points"]


def test_a_budget_below_any_sentence_returns_the_start_of_the_most_central_one() -> None:
    picked = ExtractiveEngine().rank(MEETING, 6, with_speakers=False)
    assert len(picked) == 1
    assert 0 < len(picked[0].split()) <= 3


def test_reduce_input_loses_our_own_label_and_headings() -> None:
    engine = ExtractiveEngine()
    partial = engine.summarise(MEETING, 300)
    merged = engine.summarise(f"## Part 1\n{partial}\n\n## Part 2\n{partial}", 300)
    assert merged.count(ENGLISH.label) == 1
    assert "## Part" not in merged


def test_complete_reports_token_counts_of_prompt_and_answer() -> None:
    engine = ExtractiveEngine()
    task = SummaryTask(kind="single", content=MEETING, max_tokens=150)
    result = asyncio.run(engine.complete(task))
    assert result.prompt_tokens == asyncio.run(engine.prompt_tokens(task)) == count_word_tokens(MEETING)
    assert result.completion_tokens == count_word_tokens(result.text) <= 150


def test_a_long_transcript_is_summarised_within_budget() -> None:
    long = "\n".join(
        f"Speaker {i % 7}: Topic {i % 97} needs item {i} reviewed by the group." for i in range(20_000)
    )
    summary = ExtractiveEngine().summarise(long, 500)
    assert summary.startswith(ENGLISH.label)
    assert count_word_tokens(summary) <= 500


def test_small_talk_never_fills_a_roomy_budget() -> None:
    # Regression: with room left, MMR picked "Bye, everyone." and "Thanks." for having no overlap.
    substance = [
        "Alice: The payment screen crashes on older Android phones when biometric login is enabled.",
        "Bob: The crash comes from the keystore migration that shipped in the last release.",
        "Carol: Support received two hundred tickets about the payment crash this week.",
        "Alice: We decided to ship a hotfix with a PIN fallback for the affected Android phones.",
        "Bob: I will prepare the keystore hotfix and send the estimate to Alice by Thursday.",
    ]
    small_talk = ["Carol: Thanks.", "Bob: Bye, everyone.", "Alice: Okay.", "Carol: Later."]
    text = ExtractiveEngine().summarise("\n".join(substance + small_talk), max_tokens=2000, style="detailed")
    for line in small_talk:
        assert line not in text


SPOKEN = """\
Alice: Um, so the mobile app budget is twelve thousand euros and the the design phase used most of it.
Carol: The user interface tests, uh, now pass on both phones and tablets after the redesign.
Alice: We we decided to to move the launch of the mobile app to the end of March.
Bob: I I'll send the revised budget to the finance team by Friday, erm.
Dave: The marketing survey says young users want a dark theme and faster search.
"""


def test_quotes_leave_out_hesitations_and_stutters_and_keep_who_said_what() -> None:
    summary = ExtractiveEngine().summarise(SPOKEN, 400)
    assert "Alice: We decided to move the launch of the mobile app to the end of March." in summary
    assert "Bob: I'll send the revised budget to the finance team by Friday." in summary
    assert (
        "So the mobile app budget is twelve thousand euros and the design phase used most of it." in summary
    )
    for sound in (" um", "Um,", " uh", " erm", "We we", "the the", "to to", "I I'll"):
        assert sound not in summary


SCORED = """\
Anna: Two, three, four, five, six, seven, eight.
Ben: Fifty one, one, two, three, four, five.
Anna: The evaluation gives the rubber case a two and the scroll wheel a three out of seven.
Ben: The buttons got a five and the flip screen a four, which is six points over the target.
Cara: The production cost came to twelve point five euros, two euros over the budget.
Anna: The sample sensor costs three euros, so dropping it brings the cost under twelve euros.
"""


def test_a_microphone_check_is_never_picked_however_many_numbers_the_meeting_says() -> None:
    # Digits were never content words; "two, three, four" spelled out were, so a meeting that scores
    # and prices things in words found its microphone check the most central sentence (AMI ES2006d).
    summary = ExtractiveEngine().summarise(SCORED, max_tokens=2000, style="detailed")
    assert "Ben: The buttons got a five and the flip screen a four" in summary
    assert "seven, eight." not in summary
    assert "Fifty one" not in summary


def test_numbers_spelled_out_or_in_digits_pick_the_same_sentences() -> None:
    digits = SCORED
    for word, figure in (("twelve point five", "12.5"), ("twelve", "12"), ("three euros", "3 euros")):
        digits = digits.replace(word, figure)
    speakers = [
        [line.split(":")[0] for line in ExtractiveEngine().rank(text, 40)] for text in (SCORED, digits)
    ]
    assert speakers[0] == speakers[1]


def test_a_number_word_of_another_language_that_is_an_english_word_stays_content() -> None:
    # Italian "due" (two) is English "due": "The deck is due Friday." says when.
    (weights,) = term_weights(["The deck is due Friday, two days after the review."])
    assert "due" in weights and "two" not in weights


def test_the_overview_tells_what_the_meeting_was_about_not_how_it_was_run() -> None:
    # The sample meeting's two most central sentences were a commitment ("I'll have something ...
    # by Wednesday") and the chair running the meeting ("let me read back the action items").
    text = (Path(__file__).parents[3] / "samples" / "product_planning_meeting.txt").read_text()
    sections = ExtractiveEngine().sections(text, 1024)
    signals = DecisionSignals("en")
    for s in sections.overview:
        assert not s.text.endswith("?") and not signals.is_action(s.text), s.text
