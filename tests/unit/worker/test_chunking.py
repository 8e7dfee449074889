"""Token-budgeted packing: pure functions over token counts."""

from __future__ import annotations

import pytest

from worker.chunking import balance_counts, pack_counts, split_words


def test_pack_keeps_order_and_respects_the_budget() -> None:
    counts = [4, 4, 4, 9, 1, 1]
    sizes = pack_counts(counts, budget=10)
    assert sizes == [2, 1, 1, 2]
    at = 0
    for size in sizes:
        assert sum(counts[at : at + size]) + size - 1 <= 10
        at += size


def test_pack_refuses_a_piece_larger_than_the_budget() -> None:
    with pytest.raises(ValueError, match="exceeds budget"):
        pack_counts([11], budget=10)


def test_balance_evens_out_the_last_chunk() -> None:
    counts = [10] * 11
    greedy = pack_counts(counts, budget=60)
    assert greedy == [5, 5, 1]
    balanced = balance_counts(counts, greedy, budget=60)
    assert len(balanced) == 3 and max(balanced) - min(balanced) <= 1


def test_split_words_cuts_long_sentences_into_windows() -> None:
    text = " ".join(f"w{i}" for i in range(100))
    windows = split_words(text, tokens=200, budget=50)
    assert " ".join(windows) == text
    assert all(len(w.split()) * 2 <= 50 for w in windows)


def test_split_words_cuts_an_unbroken_run_by_characters() -> None:
    windows = split_words("x" * 1000, tokens=500, budget=100)
    assert "".join(windows) == "x" * 1000 and len(windows) >= 5


def test_balance_never_tries_a_budget_below_the_largest_piece() -> None:
    # Regression: balancing 2 groups of one 192-token and many small pieces raised ValueError.
    counts = [192] + [5] * 10
    greedy = pack_counts(counts, budget=214)
    assert sum(balance_counts(counts, greedy, budget=214)) == len(counts)
