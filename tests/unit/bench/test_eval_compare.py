"""`python -m eval.compare`: the paired comparison of two versions of the engine, meeting by meeting.

The meeting folder has QMSum's layout (`<ID>.txt`, `<ID>.summary.txt`; github.com/Yale-LILY/QMSum,
MIT licence); its transcript is the repo's sample meeting and its reference a human-style summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval import compare
from tests.support.paths import ROOT

SAMPLE = (ROOT / "samples" / "product_planning_meeting.txt").read_text()
REFERENCE = (
    "The team planned the launch of the product. They decided on the price and the colours, "
    "and the project manager will send the minutes."
)


def test_a_change_every_meeting_shares_is_a_measured_change() -> None:
    before = {f"m{i}": 20.0 + i for i in range(30)}
    after = {m: v + 1.5 for m, v in before.items()}
    got = compare.paired(before, after)
    assert got.difference == pytest.approx(1.5)
    assert got.low == pytest.approx(1.5) and got.high == pytest.approx(1.5)
    assert (got.up, got.down) == (30, 0)


def test_a_few_meetings_swinging_both_ways_give_an_interval_holding_zero() -> None:
    before = {f"m{i}": 25.0 for i in range(30)}
    after = dict(before, m0=40.0, m1=12.0, m2=31.0, m3=18.0)
    got = compare.paired(before, after)
    assert got.low < 0 < got.high
    assert (got.up, got.down) == (2, 2)


def test_only_meetings_both_sides_scored_are_compared() -> None:
    got = compare.paired({"a": 10.0, "b": 20.0}, {"b": 30.0, "c": 99.0})
    assert (got.before, got.after) == (20.0, 30.0)
    with pytest.raises(ValueError, match="share no meeting"):
        compare.paired({"a": 1.0}, {"b": 1.0})


def test_the_working_tree_and_a_commit_are_scored_by_their_own_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "meetings"
    data.mkdir()
    (data / "ES2006a.txt").write_text(SAMPLE, encoding="utf-8")
    (data / "ES2006a.summary.txt").write_text(REFERENCE, encoding="utf-8")
    saved = tmp_path / "after.json"
    assert compare.main(["HEAD", ".", "--data", str(data), "--save", str(saved)]) == 0
    table = capsys.readouterr().out
    assert "| extractive | rouge1 |" in table and "| extractive-rank | rougeLsum |" in table
    scores = json.loads(saved.read_text())
    assert 0 < scores["extractive"]["ES2006a"]["rouge1"] < 100
    # A scores file stands for a side as well: the same scores on both sides are no change.
    assert compare.main([str(saved), str(saved), "--data", str(data)]) == 0
    assert "| +0.00 | [+0.00, +0.00] | 0 / 0 |" in capsys.readouterr().out


def test_a_missing_meeting_folder_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert compare.main(["HEAD", "--data", str(tmp_path / "absent")]) == 2
    assert "no evaluation meetings" in capsys.readouterr().err


def test_make_eval_writes_the_before_and_after_table_only_when_asked(tmp_path: Path) -> None:
    from eval.rouge import before_and_after
    from eval.scores import Scores

    run = Scores("extractive", f1={"ES2006a": {m: 30.0 for m in ("rouge1", "rouge2", "rougeL", "rougeLsum")}})
    assert before_and_after(None, tmp_path, [run]) == []
    saved = tmp_path / "before.json"
    saved.write_text(json.dumps({"extractive": {"ES2006a": {m: 28.0 for m in run.f1["ES2006a"]}}}))
    lines = before_and_after(str(saved), tmp_path, [run])
    assert lines[0].startswith("## Before and after")
    assert "| extractive | rouge1 | 28.00 | 30.00 | +2.00 |" in "\n".join(lines)


def test_a_commit_that_cannot_be_scored_stops_make_eval_with_a_clear_message(tmp_path: Path) -> None:
    from eval.rouge import before_and_after
    from eval.scores import Scores

    run = Scores("extractive", f1={"ES2006a": {"rouge1": 30.0}})
    with pytest.raises(SystemExit, match="cannot score the engine at no-such-commit"):
        before_and_after("no-such-commit", tmp_path, [run])


def test_a_side_that_is_neither_a_commit_nor_a_scores_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert compare.main(["no-such-commit", "--data", str(tmp_path)]) == 2
    assert "cannot score both sides" in capsys.readouterr().err
