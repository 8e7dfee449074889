"""The systems compared by `make eval`, all fed the same sentences and cut the same way.

Fairness rules, applied identically to every system:
- Sentence units: the worker's own splitter (`worker.meeting.utterances` then `sentences`), speaker
  labels dropped. sumy's default tokenizer needs NLTK's punkt data, which a fresh clone cannot
  download offline, so sumy gets `RegexTokenizer` (this splitter plus a regex word tokenizer)
  instead; sumy's own English stemmer and stop-word list (both shipped in the wheels) are kept.
- Length: each system picks sentences in its own order of preference until it has at least the
  reference's length in words; the picks are shown in transcript order, one a line, and cut to
  exactly the reference's length in words (`cut`).

LEAD takes the first sentences. The extractive engine is scored on what users get: its structured
summary (`ExtractiveEngine.sections`, the selection behind `summarise`), asked for a token budget
slightly above the reference length (its own tokens are words and punctuation) plus the tokens of
the summary's frame (label, headings), and read as `Sections.sentences()`: every picked sentence in
the order a reader meets it (Overview, Key points, Decisions, Action items), without the label,
headings, speakers and times; the cut then keeps the first words in that order. `extractive-rank`
scores `rank` (the selection without sections, in transcript order) for comparison. An LLM engine
(`--engine openai`) goes through the worker's real `Summarizer` (one pass or map → reduce) and its
answer is cut the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import re
from collections.abc import Callable, Sequence
from typing import Any

from worker.engines import Engine, ExtractiveEngine, extractive_frame_tokens
from worker.meeting import count_word_tokens, normalise, sentences, utterances
from worker.settings import WorkerSettings
from worker.summarize import Summarizer

_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
# A system maps (transcript, reference length in words) to its chosen sentences.
System = Callable[[str, int], list[str]]


def units(transcript: str) -> list[str]:
    """Speaker-free sentences of a transcript, in order: what every extractive system chooses from."""
    return [s for turn in utterances(normalise(transcript)) for s in sentences(turn.text)]


def cut(picked: Sequence[str], words: int) -> str:
    """The picks one a line (ROUGE-Lsum reads lines as sentences), cut to `words` words."""
    lines: list[str] = []
    left = words
    for sentence in picked:
        tokens = sentence.split()
        if left <= 0:
            break
        lines.append(" ".join(tokens[:left]))
        left -= len(tokens[:left])
    return "\n".join(lines)


def lead(transcript: str, words: int) -> list[str]:
    picked, total = [], 0
    for sentence in units(transcript):
        if total >= words:
            break
        picked.append(sentence)
        total += len(sentence.split())
    return picked


def _budget(text: str, words: int) -> int:
    """Tokens to ask for: a little more than `words`, so the cut, not the knapsack, sets the length."""
    ratio = count_word_tokens(text) / max(len(text.split()), 1)
    return int(words * ratio * 1.15) + 8


def extractive(engine: ExtractiveEngine | None = None) -> System:
    """The structured summary users get, its sentences in reading order (see the module docstring)."""
    engine = engine or ExtractiveEngine()

    def run(transcript: str, words: int) -> list[str]:
        text = normalise(transcript)
        # The meetings are English: the frame (label, headings) is priced in English, as it renders.
        return engine.sections(
            text, _budget(text, words) + extractive_frame_tokens(), language="en"
        ).sentences()

    return run


def extractive_rank(engine: ExtractiveEngine | None = None) -> System:
    """`rank`: the engine's selection without sections, in transcript order."""
    engine = engine or ExtractiveEngine()

    def run(transcript: str, words: int) -> list[str]:
        text = normalise(transcript)
        return engine.rank(text, _budget(text, words), with_speakers=False)

    return run


class RegexTokenizer:
    """sumy's tokenizer interface without NLTK's punkt: the worker's splitter, a regex for words."""

    language = "english"

    def to_sentences(self, paragraph: str) -> tuple[str, ...]:
        return tuple(sentences(paragraph))

    def to_words(self, sentence: str) -> tuple[str, ...]:
        return tuple(_WORD.findall(sentence))


def sumy_system(method: str) -> System:
    """LexRank or TextRank from sumy, on our sentence units, picking in rating order."""
    from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
    from sumy.nlp.stemmers import Stemmer
    from sumy.summarizers.lex_rank import LexRankSummarizer
    from sumy.summarizers.text_rank import TextRankSummarizer
    from sumy.utils import get_stop_words

    classes: dict[str, Any] = {"lexrank": LexRankSummarizer, "textrank": TextRankSummarizer}
    summarizer = classes[method](Stemmer("english"))
    summarizer.stop_words = get_stop_words("english")
    tokenizer = RegexTokenizer()

    def run(transcript: str, words: int) -> list[str]:
        document = ObjectDocumentModel(
            [Paragraph([Sentence(s, tokenizer) for s in units(transcript) if _WORD.search(s)])]
        )

        def enough(ranked: list[Any]) -> list[Any]:
            # sumy hands this the sentences best-first; keep them until the length is reached.
            kept, total = [], 0
            for info in ranked:
                if total >= words:
                    break
                kept.append(info)
                total += len(str(info.sentence).split())
            return kept

        return [str(s) for s in summarizer(document, enough)]

    return run


class EngineSystem:
    """Any engine through the worker's real summariser (one pass or map → reduce)."""

    def __init__(self, engine: Engine, max_tokens: int) -> None:
        self._engine = engine
        self._max_tokens = max_tokens
        # One loop for every meeting: an HTTP engine's session is bound to the loop that opened it.
        self._loop = asyncio.new_event_loop()
        self._summaries: dict[int, str] = {}

    def summary(self, transcript: str) -> str:
        """The engine's summary of `transcript`, made once (ROUGE and the structure read the same)."""
        key = hash(transcript)
        if key not in self._summaries:
            summary = self._loop.run_until_complete(
                Summarizer(self._engine).summarize(transcript, self._max_tokens)
            )
            self._summaries[key] = summary.text
        return self._summaries[key]

    def __call__(self, transcript: str, words: int) -> list[str]:
        return [line.strip() for line in self.summary(transcript).splitlines() if line.strip()]

    def close(self) -> None:
        self._loop.run_until_complete(self._engine.aclose())
        self._loop.close()


def extractive_engine_system(max_tokens: int = WorkerSettings.default_max_tokens) -> EngineSystem:
    """The extractive engine through the summariser at the worker's default budget (what users get)."""
    return EngineSystem(ExtractiveEngine(), max_tokens)


def build_llm(args: argparse.Namespace) -> EngineSystem:
    """An OpenAI-compatible engine built exactly as the worker builds it (`build_engine`)."""
    from worker.engines import build_engine

    env = {"WORKER_ENGINE": "openai", **dict(kv.split("=", 1) for kv in args.env)}
    if args.url:
        env["WORKER_OPENAI_BASE_URL"] = args.url
    if args.model:
        env["WORKER_OPENAI_MODEL"] = args.model
    engine = build_engine(WorkerSettings.from_env(env).engine_settings)
    return EngineSystem(engine, args.max_tokens)
