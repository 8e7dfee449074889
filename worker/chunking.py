"""Token-budgeted splitting: pure functions over (text, token count) pairs.

Counting is the engine's job (exact, often over HTTP), so these functions take counts that the
caller measured and never count anything themselves. Splits fall on utterance boundaries first,
then sentences, then word windows, so a speaker's turn is cut only when it alone overflows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

SEPARATOR = "\n"
# Longer "words" on average mean the text is not written with spaces between words.
_MAX_WORD_CHARS = 40


@dataclass(frozen=True, slots=True)
class Piece:
    text: str
    tokens: int


def pack(pieces: Sequence[Piece], budget: int, separator_tokens: int = 1) -> list[list[Piece]]:
    """Greedily group consecutive pieces so each group's tokens (with separators) fit `budget`.

    Every piece must already fit on its own (see `split_words`); order is kept.
    """
    if budget < 1:
        raise ValueError(f"chunk budget must be positive, got {budget}")
    groups: list[list[Piece]] = []
    current: list[Piece] = []
    used = 0
    for piece in pieces:
        if piece.tokens > budget:
            raise ValueError(f"piece of {piece.tokens} tokens exceeds budget {budget}")
        extra = piece.tokens + (separator_tokens if current else 0)
        if current and used + extra > budget:
            groups.append(current)
            current, used = [], 0
            extra = piece.tokens
        current.append(piece)
        used += extra
    if current:
        groups.append(current)
    return groups


def balance(groups: list[list[Piece]], budget: int, separator_tokens: int = 1) -> list[list[Piece]]:
    """Re-pack into the same number of groups with even sizes, so the last chunk is not a stub.

    Even chunks finish together when they run concurrently, and each gets similar room to say
    something; greedy packing leaves one small remainder.
    """
    if len(groups) < 2:
        return groups
    pieces = [p for g in groups for p in g]
    total = sum(p.tokens for p in pieces) + separator_tokens * (len(pieces) - 1)
    # Never below the largest piece: it has to fit somewhere.
    target = max(-(-total // len(groups)), max(p.tokens for p in pieces))
    for attempt_budget in range(min(budget, target), budget + 1, max(1, budget // 50)):
        repacked = pack(pieces, attempt_budget, separator_tokens)
        if len(repacked) <= len(groups):
            return repacked
    return groups


def join(group: Sequence[Piece]) -> str:
    return SEPARATOR.join(p.text for p in group)


def split_words(text: str, tokens: int, budget: int) -> list[str]:
    """Cut an over-long sentence into word windows of about `budget` tokens.

    Uses the measured tokens-per-word ratio of this very text, with 10 % headroom; the caller
    re-counts the windows and calls again on any that still overflow.
    """
    if tokens <= budget:
        return [text]
    words = text.split()
    if len(words) < 2 or len(text) > _MAX_WORD_CHARS * len(words):
        # One unbroken run of characters (a pasted hash, a garbled export) or a script written
        # without spaces (Chinese, Japanese, Thai): cut by characters.
        size = max(1, int(len(text) * budget / tokens * 0.9))
        return [text[i : i + size] for i in range(0, len(text), size)]
    size = max(1, int(budget / (tokens / len(words)) * 0.9))
    return [" ".join(words[i : i + size]) for i in range(0, len(words), size)]
