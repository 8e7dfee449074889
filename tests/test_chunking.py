"""Token-budgeted packing: pure functions."""

from __future__ import annotations

import pytest

from worker.chunking import Piece, balance, pack, split_words


def test_pack_keeps_order_and_respects_the_budget() -> None:
    pieces = [Piece(str(i), t) for i, t in enumerate([4, 4, 4, 9, 1, 1])]
    groups = pack(pieces, budget=10)
    assert [[p.text for p in g] for g in groups] == [["0", "1"], ["2"], ["3"], ["4", "5"]]
    for g in groups:
        assert sum(p.tokens for p in g) + len(g) - 1 <= 10


def test_pack_refuses_a_piece_larger_than_the_budget() -> None:
    with pytest.raises(ValueError, match="exceeds budget"):
        pack([Piece("x", 11)], budget=10)


def test_balance_evens_out_the_last_chunk() -> None:
    pieces = [Piece(str(i), 10) for i in range(11)]
    greedy = pack(pieces, budget=60)
    assert [len(g) for g in greedy] == [5, 5, 1]
    balanced = balance(greedy, budget=60)
    assert len(balanced) == 3 and max(len(g) for g in balanced) - min(len(g) for g in balanced) <= 1


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
    pieces = [Piece("big", 192)] + [Piece(str(i), 5) for i in range(10)]
    groups = pack(pieces, budget=214)
    assert [p.text for g in balance(groups, budget=214) for p in g] == [p.text for p in pieces]
