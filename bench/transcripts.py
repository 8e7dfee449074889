"""Deterministic synthetic meeting transcripts of a requested size, so `make bench` runs from a
fresh clone without the QMSum folder.

`Speaker: sentence. sentence.` lines built from a fixed vocabulary with a seeded RNG: the same
size always gives the same bytes. Sizes are in the extractive engine's tokens (words and
punctuation), which is also what the fixed-latency bench engine counts. The text is not meant to
read well; it exercises decoding, utterance splitting, counting, chunking and transfers exactly as
a real transcript of that size does. Real meetings are used where content matters (section 5).
"""

from __future__ import annotations

import random

from worker.meeting import count_word_tokens

SPEAKERS = ("Project Manager", "Marketing", "User Interface", "Industrial Designer", "Grad A", "Professor B")
WORDS = """the a we i you it that this so and but if then because about remote control design
button battery price market user interface team meeting project budget decision agree think
should could would need want make look use new old simple cheap expensive company colour fruit
vegetable shape case chip speech recognition scroll wheel screen display curved plastic rubber
titanium sponge kinetic solar energy cost euro twelve fifty percent customers trend fashion young
people survey research evaluation prototype drawing presentation minutes agenda next time yeah
okay um uh right well actually really maybe yes no sure like know mean point idea thing way
""".split()  # noqa: SIM905 (a word list reads better as prose)


def transcript(tokens: int, seed: int = 7) -> str:
    """About `tokens` tokens (within one utterance) of synthetic meeting transcript."""
    rng = random.Random(seed)
    lines: list[str] = []
    total = 0
    while total < tokens:
        speaker = rng.choice(SPEAKERS)
        sentences = []
        for _ in range(rng.randint(1, 4)):
            words = [rng.choice(WORDS) for _ in range(rng.randint(3, 24))]
            sentences.append(" ".join(words).capitalize() + rng.choice(".?."))
        line = f"{speaker}: {' '.join(sentences)}"
        lines.append(line)
        total += count_word_tokens(line)
    return "\n".join(lines) + "\n"
