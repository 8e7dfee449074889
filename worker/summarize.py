"""One pass when the transcript fits the model, else map → reduce; written once against `Engine`.

The budget is exact and always checked on the prompt that is sent: prompt tokens + `max_tokens`
≤ `max_model_len`. Chunks are planned from per-utterance counts (a cheap, near-additive estimate)
and then re-measured as the real prompt; one that overflows is split again. Chunks of a level run
concurrently, so a batching server (vLLM) sees them together. Reduce recurses while the joined
partial summaries still do not fit, and fails loudly if a level stops shrinking.

Memory stays a small multiple of the transcript whatever its shape: the turns arrive as one string
(`Transcript`), chunks are planned from an array of per-turn counts (counted a batch at a time,
no object per turn), each chunk's text is cut only once its group is known, and an extractive
engine (CPU-bound, all its per-sentence state in this process) ranks a few chunks at a time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from contract.profiles import DEFAULT, Profile
from worker.chunking import balance_counts, pack_counts, split_words
from worker.engines import Completion, Engine, SummaryOptions, SummaryTask
from worker.errors import EngineError, TranscriptError
from worker.meeting import (
    Transcript,
    Utterance,
    iter_utterances,
    lines,
    part_heading,
    render_turns,
    sentences,
)

log = logging.getLogger(__name__)

Progress = Callable[[dict[str, int | str]], None]
MAX_LEVELS = 8
# Tokens kept free in every request for the few a tokenizer adds where chunks are joined.
SAFETY_TOKENS = 16
# Pieces counted concurrently: enough to keep a tokenizer server busy, few enough to stay small.
_COUNT_BATCH = 256
# Chunks an extractive engine ranks at once: it holds every sentence of a chunk in this process.
_CPU_CHUNKS = 2
# A summary may take at most this share of the model's context: the rest holds what it is made
# from (the transcript in one pass, the partial summaries in the last merge). A larger grant can
# never fit the last request, whatever the levels of map and reduce before it.
OUTPUT_SHARE = 0.5
# An answer that is empty once cleaned (a base model that opens with a `###` heading, a thinking
# model that spent its grant inside `<think>`) is asked again once, sampled at least this warm.
EMPTY_RETRY_TEMPERATURE = 0.7


def output_ceiling(max_model_len: int) -> int:
    """The largest grant a model's context allows (the worker grants no more)."""
    return int(max_model_len * OUTPUT_SHARE)


@dataclass
class SummaryStats:
    input_tokens: int = 0
    output_tokens: int = 0
    chunks: int = 0
    levels: int = 0
    requests: int = 0
    tokens_per_level: list[int] = field(default_factory=list)
    max_request_tokens: int = 0
    finish_reasons: dict[str, int] = field(default_factory=dict)
    # Completions the summariser cut to their granted max_tokens (an engine returned more).
    trimmed: int = 0
    # Requests asked again because the answer was empty.
    empty_retries: int = 0


@dataclass(frozen=True)
class Summary:
    text: str
    stats: SummaryStats


class Summarizer:
    def __init__(self, engine: Engine, progress: Progress | None = None, profile: Profile = DEFAULT) -> None:
        self._engine = engine
        self._progress = progress or (lambda update: None)
        self._profile = profile  # the summary's sections, on every task (contract/profiles.py)

    async def summarize(
        self,
        transcript: str | list[Utterance] | Transcript,
        max_tokens: int,
        options: SummaryOptions | None = None,
    ) -> Summary:
        """Summarise the transcript in at most `max_tokens` tokens (the budget the worker granted).

        `transcript` is the turns `worker.meeting.formats` read (speakers and start times kept), as a
        `Transcript` or a list, or plain text split here.
        """
        engine = self._engine
        ceiling = output_ceiling(engine.max_model_len)
        if max_tokens > ceiling:
            # Refused before any request: no level of map and reduce ends in a final request that fits.
            raise EngineError(
                f"a grant of {max_tokens} tokens is over half the model's {engine.max_model_len}-token "
                f"context (at most {ceiling}): the rest must hold what the summary is made from"
            )
        options = options or SummaryOptions()
        stats = SummaryStats()
        if not isinstance(transcript, Transcript):
            transcript = render_turns(
                iter_utterances(transcript) if isinstance(transcript, str) else transcript
            )
        if not transcript.turns:
            raise TranscriptError("transcript has speaker labels but no speech")
        body = transcript.body
        del transcript
        stats.input_tokens = await engine.count_tokens(body)
        stats.tokens_per_level.append(stats.input_tokens)

        single = self._task("single", body, max_tokens, options)
        if await self._fits(single):
            self._progress({"stage": "summarising", "done": 0, "total": 1})
            result = await self._run(single, stats)
            self._progress({"stage": "summarising", "done": 1, "total": 1})
            stats.levels = 1
            stats.chunks = 1
            return self._finish(result, stats)
        del single

        # Level 1 reads the body's lines (one turn each); later levels the partial summaries.
        source: Callable[[], Iterator[str]] = lambda: lines(body)  # noqa: E731
        level = 0
        while True:
            level += 1
            if level > MAX_LEVELS:
                raise EngineError(f"summary did not fit after {MAX_LEVELS} reduce levels")
            map_tokens = self._map_tokens(max_tokens)
            budget = await self._content_budget("map" if level == 1 else "reduce", map_tokens, options)
            kind = "map" if level == 1 else "reduce"
            source_tokens = 0 if level == 1 else stats.input_tokens
            chunks = await self._plan(source, budget, map_tokens, options, kind, source_tokens)
            if level == 1:
                stats.chunks = len(chunks)
                del body  # the chunks hold the text now
            log.info("level %d: %d chunks of <= %d tokens", level, len(chunks), budget)
            partials = await self._run_level(chunks, stats, level)
            del chunks
            parts = [f"{part_heading(i)}\n{p.text.strip()}" for i, p in enumerate(partials, 1)]
            del partials
            joined = "\n\n".join(parts)
            joined_tokens = await engine.count_tokens(joined)
            stats.tokens_per_level.append(joined_tokens)
            if joined_tokens >= stats.tokens_per_level[-2]:
                raise EngineError(
                    f"partial summaries did not shrink at level {level} "
                    f"({stats.tokens_per_level[-2]} → {joined_tokens} tokens)"
                )
            final = self._task("reduce", joined, max_tokens, options, source_tokens=stats.input_tokens)
            if await self._fits(final):
                self._progress({"stage": "merging", "level": level + 1, "done": 0, "total": 1})
                result = await self._run(final, stats)
                self._progress({"stage": "merging", "level": level + 1, "done": 1, "total": 1})
                stats.levels = level + 1
                return self._finish(result, stats)
            source = parts.__iter__

    def _task(
        self,
        kind: str,
        content: str,
        max_tokens: int,
        options: SummaryOptions,
        part: int = 1,
        parts: int = 1,
        source_tokens: int = 0,
    ) -> SummaryTask:
        return SummaryTask(
            kind=kind,  # type: ignore[arg-type]
            content=content,
            max_tokens=max_tokens,
            options=options,
            profile=self._profile,
            part=part,
            parts=parts,
            source_tokens=source_tokens,
        )

    def _map_tokens(self, final_max_tokens: int) -> int:
        """Room for each partial summary: enough to carry a chunk's substance, small enough to
        shrink the input several-fold per level."""
        return max(1, min(final_max_tokens, max(256, self._engine.max_model_len // 16)))

    async def _fits(self, task: SummaryTask) -> bool:
        prompt = await self._engine.prompt_tokens(task)
        return prompt + task.max_tokens + SAFETY_TOKENS <= self._engine.max_model_len

    async def _content_budget(self, kind: str, max_tokens: int, options: SummaryOptions) -> int:
        overhead = await self._engine.prompt_tokens(self._task(kind, "", max_tokens, options, 99, 99))
        budget = self._engine.max_model_len - overhead - max_tokens - SAFETY_TOKENS
        if budget < 32:
            raise EngineError(
                f"model context {self._engine.max_model_len} leaves no room for content "
                f"(prompt overhead {overhead}, output {max_tokens})"
            )
        return budget

    async def _plan(
        self,
        source: Callable[[], Iterator[str]],
        budget: int,
        max_tokens: int,
        options: SummaryOptions,
        kind: str,
        source_tokens: int = 0,
    ) -> list[SummaryTask]:
        """Chunks of the pieces `source()` yields (called twice: to count, then to cut)."""
        counts: array[int] = array("I")
        splits: dict[int, list[str]] = {}
        await self._measure(source(), budget, counts, splits)
        sizes = balance_counts(counts, pack_counts(counts, budget), budget)
        del counts
        pieces = _pieces(source(), splits)
        queue = ["\n".join(islice(pieces, size)) for size in sizes]
        del pieces, splits
        tasks: list[SummaryTask] = []
        while queue:
            content = queue.pop(0)
            task = self._task(kind, content, max_tokens, options)
            if await self._fits(task):
                tasks.append(task)
                continue
            # The near-additive estimate missed (tokens merged at joins): halve and re-check.
            lines = content.split("\n")
            if len(lines) > 1:
                mid = len(lines) // 2
                queue[:0] = ["\n".join(lines[:mid]), "\n".join(lines[mid:])]
            else:
                words = content.split()
                if len(words) > 1:
                    mid = len(words) // 2
                    queue[:0] = [" ".join(words[:mid]), " ".join(words[mid:])]
                elif len(content) > 1:  # no spaces to cut at (CJK, Thai): halve the characters
                    queue[:0] = [content[: len(content) // 2], content[len(content) // 2 :]]
                else:
                    raise EngineError("a single character does not fit the model context")
        n = len(tasks)
        return [
            self._task(kind, t.content, max_tokens, options, i, n, source_tokens)
            for i, t in enumerate(tasks, 1)
        ]

    async def _measure(
        self, pieces: Iterable[str], budget: int, counts: array[int], splits: dict[int, list[str]]
    ) -> None:
        """Count every piece (concurrently, a batch at a time) into `counts`; a piece that alone
        exceeds the budget is split, its parts kept in `splits` under its index and counted in
        its place. Nothing per piece is kept but its count."""
        index = 0
        stream = iter(pieces)
        while batch := list(islice(stream, _COUNT_BATCH)):
            tokens = await asyncio.gather(*(self._engine.count_tokens(p) for p in batch))
            for text, n in zip(batch, tokens, strict=True):
                if n <= budget:
                    counts.append(n)
                else:
                    parts = await self._split(text, n, budget)
                    splits[index] = [p for p, _ in parts]
                    counts.extend(t for _, t in parts)
                index += 1

    async def _split(self, text: str, tokens: int, budget: int) -> list[tuple[str, int]]:
        """One over-budget piece → its sentences, else word windows, each counted and within budget."""
        parts = sentences(text)
        if len(parts) == 1:
            parts = split_words(text, tokens, budget)
        out: list[tuple[str, int]] = []
        for start in range(0, len(parts), _COUNT_BATCH):
            batch = parts[start : start + _COUNT_BATCH]
            counted = await asyncio.gather(*(self._engine.count_tokens(p) for p in batch))
            for part, n in zip(batch, counted, strict=True):
                out.extend([(part, n)] if n <= budget else await self._split(part, n, budget))
        return out

    async def _run_level(self, tasks: list[SummaryTask], stats: SummaryStats, level: int) -> list[Completion]:
        done = 0
        total = len(tasks)
        self._progress({"stage": "chunks", "level": level, "done": 0, "total": total})
        # A model server batches whatever it is sent at once; an extractive engine ranks on this
        # process's CPU (one at a time under the GIL), so more at once would only hold more memory.
        gate = asyncio.Semaphore(_CPU_CHUNKS if self._engine.extractive else max(total, 1))

        async def one(task: SummaryTask) -> Completion:
            nonlocal done
            async with gate:
                result = await self._run(task, stats)
            done += 1
            self._progress({"stage": "chunks", "level": level, "done": done, "total": total})
            return result

        return list(await asyncio.gather(*(one(t) for t in tasks)))

    async def _run(self, task: SummaryTask, stats: SummaryStats) -> Completion:
        result = await self._complete(task, stats)
        if not result.text.strip() and not self._engine.extractive:
            log.warning(
                "engine %s answered a %s request with nothing: asking once more", self._engine.name, task.kind
            )
            stats.empty_retries += 1
            warmer = task.options.model_copy(
                update={"temperature": max(task.options.temperature, EMPTY_RETRY_TEMPERATURE)}
            )
            result = await self._complete(dataclasses.replace(task, options=warmer), stats)
        return result

    async def _complete(self, task: SummaryTask, stats: SummaryStats) -> Completion:
        result = await self._engine.complete(task)
        if result.completion_tokens > task.max_tokens:
            result = await self._trim(result, task.max_tokens)
            stats.trimmed += 1
        stats.requests += 1
        stats.max_request_tokens = max(stats.max_request_tokens, result.prompt_tokens + task.max_tokens)
        stats.finish_reasons[result.finish_reason] = stats.finish_reasons.get(result.finish_reason, 0) + 1
        if result.prompt_tokens + task.max_tokens > self._engine.max_model_len:
            raise EngineError(
                f"request of {result.prompt_tokens} prompt tokens + {task.max_tokens} exceeded "
                f"the model context {self._engine.max_model_len}"
            )
        return result

    async def _trim(self, result: Completion, max_tokens: int) -> Completion:
        """Cut a completion that is over its grant to at most `max_tokens` (engine-counted)."""
        log.warning(
            "engine %s returned %d tokens, over the %d granted: trimmed",
            self._engine.name,
            result.completion_tokens,
            max_tokens,
        )
        text, tokens = result.text, result.completion_tokens
        while tokens > max_tokens and text:
            text = text[: int(len(text) * max_tokens / tokens * 0.95)]
            tokens = await self._engine.count_tokens(text)
        return Completion(text, result.prompt_tokens, tokens, "length")

    def _finish(self, result: Completion, stats: SummaryStats) -> Summary:
        text = result.text.strip()
        stats.output_tokens = result.completion_tokens
        if not text:
            raise EngineError("the engine returned an empty summary")
        return Summary(text=text, stats=stats)


def _pieces(source: Iterator[str], splits: dict[int, list[str]]) -> Iterator[str]:
    """The pieces `Summarizer._measure` counted, in order: a split piece as its parts."""
    for index, text in enumerate(source):
        if index in splits:
            yield from splits[index]
        else:
            yield text
