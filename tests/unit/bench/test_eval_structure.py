"""The structure evaluation (`eval.structure`, part of `make eval`): which human answers are
references, when an item matches one, same-k baselines, and the owner and duplicate checks.

The query rows have QMSum's schema (`id`, `kind`, `query`, `answer`, `relevant_text_span`; queries
and answers shortened from QMSum's validation set, github.com/Yale-LILY/QMSum, MIT licence); the
transcript is lines of the repo's sample meeting."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from eval import structure
from eval.data import Meeting
from eval.systems import extractive_engine_system
from tests.support.paths import ROOT

SAMPLE = (ROOT / "samples" / "product_planning_meeting.txt").read_text()
QUERIES = [
    {
        "id": "TS3010c", "kind": "specific", "query": "What did the team decide on the cost?",
        "answer": "The team decided to drop the LCD screen to stay within budget. "
        "They kept the rubber buttons.",
        "relevant_text_span": [["10", "20"]],
    },
    {
        "id": "TS3010c", "kind": "specific",
        "query": "Why did Marketing disagree with the Project Manager when discussing the decision "
        "on colours?",
        "answer": "Marketing thought yellow would not sell.",
        "relevant_text_span": [["30", "31"]],
    },
    {
        "id": "TS3010c", "kind": "general", "query": "Summarize the whole meeting",
        "answer": "The group discussed the cost of the remote. They agreed on a plastic case. "
        "The Project Manager will send the minutes.",
        "relevant_text_span": [["0", "99"]],
    },
]  # fmt: skip


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in QUERIES) + "\n")
    return tmp_path


def test_references_are_the_decision_answers_and_decision_sentences_of_other_answers(folder: Path) -> None:
    refs = structure.references(folder, ["TS3010c", "Bed002"])
    assert refs["TS3010c"].decisions == (
        "The team decided to drop the LCD screen to stay within budget.",
        "They kept the rubber buttons.",
        "They agreed on a plastic case.",
    )
    # A question about someone's view of a decision is no reference for the decision itself.
    assert "Marketing thought yellow would not sell." not in refs["TS3010c"].decisions
    assert refs["TS3010c"].action_items == ("The Project Manager will send the minutes.",)
    assert refs["Bed002"].decisions == () and refs["Bed002"].action_items == ()


def test_an_item_matches_a_reference_that_shares_enough_of_its_content_words() -> None:
    ref = structure.content("The team decided to drop the LCD screen to stay within budget.")
    assert structure.matches(structure.content("Okay so we drop the LCD screen, it's over budget."), ref)
    assert not structure.matches(structure.content("The screen was discussed."), ref)  # one shared word
    assert not structure.matches(structure.content("Um, yeah, okay."), ref)


def test_coverage_and_precision_count_references_and_items_once_each() -> None:
    score = structure.KindScore()
    refs = ("The team decided to drop the LCD screen.", "They agreed on a plastic case.")
    structure.score_items(score, ["So we drop the LCD screen.", "Lunch is at noon today."], refs)
    assert (score.references, score.covered, score.items, score.matching_items) == (2, 1, 2, 1)
    assert score.coverage == 50.0 and score.precision == 50.0


@pytest.mark.parametrize("owner", ["Um", "uh", "Chair", "Professor", "In May", "Friday", "I'll I'll", "So"])
def test_a_filler_a_title_or_a_date_is_a_bad_owner(owner: str) -> None:
    assert structure.bad_owner(owner, {"maya", "chair person"})


@pytest.mark.parametrize("owner", ["Please", "Only", "Not Just"])
def test_a_word_the_meeting_writes_in_lower_case_is_a_bad_owner(owner: str) -> None:
    common = {"please", "only", "not", "just", "maya"}
    assert structure.bad_owner(owner, {"project manager"}, common)
    assert not structure.bad_owner("Dana", {"project manager"}, common)


@pytest.mark.parametrize("owner", ["Maya", "Project Manager", "Dana Scully", "Chair Person"])
def test_a_name_or_a_speakers_label_is_a_good_owner(owner: str) -> None:
    assert not structure.bad_owner(owner, {"maya", "project manager", "chair person"})


def test_an_item_repeated_across_sections_is_a_duplicate() -> None:
    parsed = {
        "key_points": [{"text": "Tom adds the crash alert by Friday."}],
        "decisions": [{"text": "The hotfix ships alone."}],
        "action_items": [{"task": "Tom adds the crash alert by Friday", "owner": "Tom"}],
    }
    assert structure.duplicates(parsed) == ["Tom adds the crash alert by Friday"]


def test_baselines_list_as_many_items_as_the_engine(folder: Path) -> None:
    meeting = Meeting("TS3010c", "product(AMI)", SAMPLE, "unused")
    refs = structure.references(folder, [meeting.id])
    engine = extractive_engine_system()
    try:
        results = structure.evaluate([meeting], {"extractive": structure.engine_structure(engine)}, refs)
    finally:
        engine.close()
    ours, *baselines = results
    assert ours.engine and ours.owners > 0
    assert {b.system for b in baselines} == {f"{name}, k as extractive" for name in structure.BASELINES}
    for b in baselines:
        if not b.system.startswith("cue words"):  # it may find fewer cue sentences than k
            # The random baseline is the mean of five seeds (weights of 1/5): equal up to rounding.
            assert b.kinds["decisions"].items == pytest.approx(ours.kinds["decisions"].items)
            assert b.kinds["action_items"].items == pytest.approx(ours.kinds["action_items"].items)
    table = "\n".join(structure.render(results, refs, "python -m eval.rouge"))
    assert "| **extractive** |" in table and "Decision references: 3 sentences in 1 meetings" in table


def test_reach_counts_what_sentences_of_each_kind_can_match(folder: Path) -> None:
    transcript = (
        "A: Okay so we drop the LCD screen, it is over the budget.\n"
        "B: The rubber buttons feel nice under the thumb.\n"
        "C: We decided to keep the rubber buttons on the remote.\n"
        "A: Lunch is at noon in the big room today.\n"
    )
    meetings = [Meeting("TS3010c", "product(AMI)", transcript, "unused")]
    found = structure.reach(meetings, structure.references(folder, ["TS3010c"]))
    assert found.references == 3  # drop the LCD screen, kept the rubber buttons, a plastic case
    assert found.reachable == 2  # no sentence says plastic
    assert found.sentences["every sentence"] == [4, 3]
    assert found.sentences["stated as made (`is_decision`)"] == [1, 1]
    assert "References some single sentence matches: 2 of 3" in "\n".join(structure.render_reach(found))


def test_structure_only_prints_the_table_and_writes_nothing(folder: Path, tmp_path: Path) -> None:
    (folder / "TS3010c.txt").write_text(SAMPLE)
    (folder / "TS3010c.summary.txt").write_text("The team discussed the launch.")
    out = tmp_path / "EVAL.md"
    done = subprocess.run(
        [sys.executable, "-m", "eval.rouge", "--data", str(folder), "--structure-only", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "## Decisions and action items (structure)" in done.stdout
    assert not out.exists()


def test_the_hand_audit_counts_its_verdicts_and_names_the_items_it_has_none_for(tmp_path: Path) -> None:
    verdicts = tmp_path / "audit.toml"
    verdicts.write_text(
        '[[item]]\nmeeting = "m1"\nstarts = "We decided to drop"\nmade = true\nwhy = "x"\n\n'
        '[[item]]\nmeeting = "m1"\nstarts = "Then we decided that"\nmade = false\nwhy = "a finding"\n'
    )
    listed = [
        ("m1", "We decided to drop the LCD screen."),
        ("m1", "Then we decided that it does not work."),
        ("m2", "We decided to drop the LCD screen."),  # the same words in another meeting: no verdict
    ]
    found = structure.audit(listed, verdicts)
    assert (found.made, found.judged) == (1, 2)
    assert found.unjudged == ["m2: We decided to drop the LCD screen."]


def test_every_hand_verdict_says_which_item_what_and_why() -> None:
    import tomllib

    items = tomllib.loads(structure.AUDIT.read_text("utf-8"))["item"]
    assert items
    for item in items:
        assert set(item) == {"meeting", "starts", "made", "why"}, item
        assert isinstance(item["made"], bool) and len(item["starts"]) >= 20 and item["why"], item
