"""The extractive engine: a real summariser with no model weights, for CPUs and local runs.

It ranks the transcript's own sentences and returns the best ones verbatim, grouped into key
points, decisions and action items. It is labelled as extractive in the summary's first line and in
the metadata, so nobody mistakes it for the LLM. Method: TF-IDF centroid similarity (how typical a
sentence is of the meeting), a length prior (one-word turns carry little), a small bonus for
decision/action cues, then maximal marginal relevance so the picks do not repeat each other (a
near-copy of a pick is never taken).
Scoring is linear in the number of sentences; MMR then works on the 2,000 best only, so its cost
is bounded by that pool times the number picked and a 1M-token transcript takes seconds. On the
QMSum validation meetings it beats sumy's TextRank and LexRank (docs/EVAL.md).
"""

from __future__ import annotations

import asyncio
import math
import re
from collections import Counter
from dataclasses import dataclass

from worker.engines.base import Completion, SummaryTask, is_part_heading
from worker.engines.text import sentences, utterances

LABEL = "[Extractive summary: sentences selected verbatim from the transcript; no language model was used.]"
HEADINGS = ("Key points", "Decisions", "Action items")
STYLE_SHARE = {"brief": 0.1, "standard": 0.2, "detailed": 0.35}
MIN_BUDGET = 60
# MMR looks at the best-ranked sentences only, so selection stays linear in transcript length.
_POOL = 2000
# Cosine similarity above which a sentence counts as a repeat of one already picked.
_DUPLICATE = 0.9
# A sentence far less central than the best one ("Thanks.", "Bye, everyone.") is never picked just
# because the budget has room: a summary may end shorter than its budget.
_FLOOR = 0.25

# Scripts written without spaces between words (Thai, Chinese, Japanese kana) and Hangul
# syllables: one character is about one model token, so each counts as one here.
_DENSE = "\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_DENSE}]|[^\W{_DENSE}]+|[^\w\s]")
_WORD = re.compile(rf"[{_DENSE}]+|[^\W\d_{_DENSE}]+")
_DENSE_RUN = re.compile(rf"[{_DENSE}]+")
_STOP = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    um uh umm uhm mm mmm hmm yeah yes okay ok oh ah like well right really actually just gonna
    wanna kind sort thing things think know mean guess get got go going one also maybe something
    stuff lot bit alright yep nope""".split()  # noqa: SIM905 (a word list reads better as prose)
)
_DECISION = re.compile(
    r"\b(decided|decide|decision|agreed|agree on|we'?ll go with|settled on|conclude|final answer)\b",
    re.IGNORECASE,
)
_ACTION = re.compile(
    r"\b(action item|will (?:send|do|look|check|prepare|write|email|make|follow)|i'?ll |"
    r"we need to|needs? to be done|by (?:next|monday|tuesday|wednesday|thursday|friday|tomorrow)|"
    r"follow up|deadline|assign)\b",
    re.IGNORECASE,
)


def count_tokens(text: str) -> int:
    """Words, punctuation marks and CJK/Thai characters: the extractive engine's token."""
    return sum(1 for _ in _TOKEN.finditer(text))


def truncate(text: str, max_tokens: int) -> str:
    """The longest prefix of `text` with at most `max_tokens` tokens."""
    if max_tokens <= 0:
        return ""
    for n, match in enumerate(_TOKEN.finditer(text), 1):
        if n == max_tokens:
            return text[: match.end()]
    return text


# Sentences without content words share one empty weight map (never mutated).
_NO_WEIGHTS: dict[str, float] = {}


@dataclass(frozen=True, slots=True)
class _Sentence:
    index: int
    speaker: str | None
    text: str
    tokens: int
    weights: dict[str, float]
    norm: float

    def render(self) -> str:
        return f"{self.speaker}: {self.text}" if self.speaker else self.text


class ExtractiveEngine:
    name = "extractive"
    model = "tfidf-centroid-mmr"
    extractive = True

    def __init__(
        self, max_model_len: int = 200_000, diversity: float = 0.7, saturation: float = 12.0
    ) -> None:
        self.max_model_len = max_model_len
        # Both tuned on the QMSum validation meetings with `make eval` (docs/EVAL.md): meetings
        # circle back to the same topic many times, so novelty is worth more than centrality, and
        # a sentence needs about 12 content words before its length stops counting against it.
        self._diversity = diversity
        self._saturation = saturation

    async def count_tokens(self, text: str) -> int:
        return count_tokens(text)

    async def prompt_tokens(self, task: SummaryTask) -> int:
        return count_tokens(task.content)

    async def complete(self, task: SummaryTask) -> Completion:
        # CPU-bound ranking off the event loop, so other jobs' transfers keep moving.
        text = await asyncio.to_thread(self.summarise, task.content, task.max_tokens, task.options.style)
        return Completion(
            text=text,
            prompt_tokens=count_tokens(task.content),
            completion_tokens=count_tokens(text),
        )

    async def aclose(self) -> None:
        return None

    def shutdown(self) -> None:
        return None  # supervises nothing

    def rank(self, content: str, max_tokens: int, *, with_speakers: bool = True) -> list[str]:
        """The selected sentences in transcript order, within `max_tokens` (used by `make eval`)."""
        picked = self._select(self._sentences(content), max_tokens)
        return [s.render() if with_speakers else s.text for s in picked]

    def summarise(self, content: str, max_tokens: int, style: str = "standard") -> str:
        label_tokens = count_tokens(LABEL) + sum(count_tokens(h) for h in HEADINGS)
        items = self._sentences(content)
        # A summary is shorter than its source: cap at a share of the input, whatever the budget.
        share = int(sum(s.tokens for s in items) * STYLE_SHARE.get(style, STYLE_SHARE["standard"]))
        budget = min(max_tokens - label_tokens, max(share, MIN_BUDGET))
        picked = self._select(items, max(budget, 1))
        sections: dict[str, list[str]] = {h: [] for h in HEADINGS}
        for sentence in picked:
            if _ACTION.search(sentence.text):
                sections["Action items"].append(sentence.render())
            elif _DECISION.search(sentence.text):
                sections["Decisions"].append(sentence.render())
            else:
                sections["Key points"].append(sentence.render())
        parts = [LABEL]
        for heading, lines in sections.items():
            if lines:
                parts.append(heading + "\n" + "\n".join(f"- {line}" for line in lines))
        # Never more than granted, even when the label alone does not fit a tiny budget.
        return truncate("\n\n".join(parts), max_tokens)

    def _sentences(self, content: str) -> list[_Sentence]:
        raw: list[tuple[str | None, str]] = []
        for turn in utterances(_strip_own_format(content)):
            for sentence in sentences(turn.text):
                raw.append((turn.speaker, sentence))
        # Memory is linear in the transcript with a small constant (200K one-word turns are 200K
        # sentences): one word string per distinct word, one dict per sentence with content
        # (its term counts, turned into weights in place), none for a sentence without.
        vocab: dict[str, str] = {}
        bags: list[dict[str, float]] = []
        df: Counter[str] = Counter()
        for _, text in raw:
            bag = Counter(vocab.setdefault(w, w) for w in _words(text) if w not in _STOP)
            if bag:
                df.update(bag.keys())
                bags.append(bag)  # type: ignore[arg-type]
            else:
                bags.append(_NO_WEIGHTS)
        n = max(len(bags), 1)
        idf = {w: math.log((1 + n) / (1 + c)) + 1.0 for w, c in df.items()}
        del df, vocab
        out = []
        for i, ((speaker, text), weights) in enumerate(zip(raw, bags, strict=True)):
            for w, c in weights.items():
                weights[w] = (1 + math.log(c)) * idf[w]
            norm = math.sqrt(sum(v * v for v in weights.values()))
            # Tokens as rendered in the summary: "- Speaker: text".
            tokens = count_tokens(text) + (count_tokens(speaker) + 2 if speaker else 1)
            out.append(_Sentence(i, speaker, text, tokens, weights, norm))
        return out

    def _select(self, items: list[_Sentence], max_tokens: int) -> list[_Sentence]:
        if not items:
            return []
        centroid: dict[str, float] = {}
        for s in items:
            if s.norm:
                for w, v in s.weights.items():
                    centroid[w] = centroid.get(w, 0.0) + v / s.norm
        c_norm = math.sqrt(sum(v * v for v in centroid.values())) or 1.0
        relevance = [0.0] * (max(s.index for s in items) + 1)
        for s in items:
            if not s.norm:
                continue
            cos = sum(v * centroid.get(w, 0.0) for w, v in s.weights.items()) / (s.norm * c_norm)
            content_words = len(s.weights)
            length_prior = min(1.0, content_words / self._saturation)
            cue = 1.15 if (_DECISION.search(s.text) or _ACTION.search(s.text)) else 1.0
            relevance[s.index] = cos * length_prior * cue
        floor = _FLOOR * max(relevance)
        candidates = sorted(
            (s for s in items if relevance[s.index] > 0 and relevance[s.index] >= floor),
            key=lambda s: -relevance[s.index],
        )[:_POOL]
        picked: list[_Sentence] = []
        used = 0
        # Each candidate's similarity to its closest pick, updated once per pick (not recomputed).
        redundancy = dict.fromkeys((s.index for s in candidates), 0.0)
        while candidates:
            fitting = [s for s in candidates if used + s.tokens <= max_tokens]
            if not fitting:
                break
            best = max(
                fitting,
                key=lambda s: (
                    (1 - self._diversity) * relevance[s.index] - self._diversity * redundancy[s.index]
                ),
            )
            candidates.remove(best)
            picked.append(best)
            used += best.tokens
            for s in candidates:
                redundancy[s.index] = max(redundancy[s.index], _cosine(s, best))
            # A near-copy of a pick says nothing new, even when the budget has room left for it.
            candidates = [s for s in candidates if redundancy[s.index] < _DUPLICATE]
        if not picked:
            # Budget smaller than any sentence: the start of the most central one.
            top = max(items, key=lambda s: relevance[s.index])
            # "- " costs a token when rendered; a script without spaces has no words to cut at.
            start = truncate(top.render(), max(max_tokens // 2, 1))
            return [_Sentence(top.index, None, start, count_tokens(start) + 1, _NO_WEIGHTS, 0.0)]
        return sorted(picked, key=lambda s: s.index)


def _words(text: str) -> list[str]:
    """Content terms: lower-cased words, and character bigrams of a run without spaces (CJK, Thai),
    the usual unit for ranking those scripts."""
    out: list[str] = []
    for w in _WORD.findall(text):
        if _DENSE_RUN.fullmatch(w) and len(w) > 1:
            out.extend(w[i : i + 2] for i in range(len(w) - 1))
        else:
            out.append(w.lower())
    return out


def _cosine(a: _Sentence, b: _Sentence) -> float:
    if not a.norm or not b.norm:
        return 0.0
    small, large = (a, b) if len(a.weights) < len(b.weights) else (b, a)
    dot = sum(v * large.weights.get(w, 0.0) for w, v in small.weights.items())
    return dot / (a.norm * b.norm)


def _strip_own_format(content: str) -> str:
    """Reduce steps feed our own summaries back in: drop the label and headings, keep the lines."""
    lines = []
    for line in content.split("\n"):
        stripped = line.strip()
        if stripped == LABEL or stripped in HEADINGS or is_part_heading(stripped):
            continue
        lines.append(stripped.removeprefix("- "))
    return "\n".join(lines)
