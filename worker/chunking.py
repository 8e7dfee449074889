"""Token-budgeted splitting: pure functions over (text, token count) pairs.

Counting is the engine's job (exact, often over HTTP), so these functions take counts that the
caller measured and never count anything themselves. Splits fall on utterance boundaries first,
then sentences, then word windows, so a speaker's turn is cut only when it alone overflows.
Packing works on the counts alone (`pack_counts`, `balance_counts`: group sizes out), so a caller
can plan 9M one-word turns from an array of ints and cut the texts afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# Longer "words" on average mean the text is not written with spaces between words.
_MAX_WORD_CHARS = 40
_WORD = re.compile(r"\S+")


def pack_counts(counts: Sequence[int], budget: int, separator_tokens: int = 1) -> list[int]:
    """Greedily group consecutive pieces so each group's tokens (with separators) fit `budget`:
    how many consecutive pieces go in each group. Every piece must already fit on its own (see
    `split_words`); order is kept."""
    if budget < 1:
        raise ValueError(f"chunk budget must be positive, got {budget}")
    sizes: list[int] = []
    size = used = 0
    for tokens in counts:
        if tokens > budget:
            raise ValueError(f"piece of {tokens} tokens exceeds budget {budget}")
        extra = tokens + (separator_tokens if size else 0)
        if size and used + extra > budget:
            sizes.append(size)
            size, used = 0, 0
            extra = tokens
        size += 1
        used += extra
    if size:
        sizes.append(size)
    return sizes


def balance_counts(
    counts: Sequence[int], sizes: list[int], budget: int, separator_tokens: int = 1
) -> list[int]:
    """Re-pack into as many groups as the greedy `sizes`, as even as they allow, so the last chunk is
    not a stub: even chunks finish together when they run concurrently, and each gets similar room
    to say something."""
    if len(sizes) < 2:
        return sizes
    total = sum(counts) + separator_tokens * (len(counts) - 1)
    # Never below the largest piece: it has to fit somewhere.
    target = max(-(-total // len(sizes)), max(counts))
    for attempt_budget in range(min(budget, target), budget + 1, max(1, budget // 50)):
        repacked = pack_counts(counts, attempt_budget, separator_tokens)
        if len(repacked) <= len(sizes):
            return repacked
    return sizes


def split_words(text: str, tokens: int, budget: int) -> list[str]:
    """Cut an over-long sentence into word windows of about `budget` tokens.

    Uses the measured tokens-per-word ratio of this very text, with 10 % headroom; the caller
    re-counts the windows and calls again on any that still overflow.
    """
    if tokens <= budget:
        return [text]
    # Word windows are cut at positions found one word at a time: `text.split()` of a 64 MB line
    # would be 13M strings at once.
    words = sum(1 for _ in _WORD.finditer(text))
    if words < 2 or len(text) > _MAX_WORD_CHARS * words:
        # One unbroken run of characters (a pasted hash, a garbled export) or a script written
        # without spaces (Chinese, Japanese, Thai): cut by characters.
        size = max(1, int(len(text) * budget / tokens * 0.9))
        return [text[i : i + size] for i in range(0, len(text), size)]
    size = max(1, int(budget / (tokens / words) * 0.9))
    windows, start = [], None
    for n, match in enumerate(_WORD.finditer(text)):
        if n % size == 0:
            if start is not None:
                windows.append(" ".join(text[start : match.start()].split()))
            start = match.start()
    windows.append(" ".join(text[start:].split()))
    return windows
