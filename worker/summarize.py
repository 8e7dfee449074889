"""One pass when the transcript fits the model, else map → reduce; written once against `Engine`.

The budget is exact and always checked on the prompt that is sent: prompt tokens + `max_tokens`
≤ `max_model_len`. Chunks are planned from per-utterance counts (a cheap, near-additive estimate)
and then re-measured as the real prompt; one that overflows is split again. Chunks of a level run
concurrently, so a batching server (vLLM) sees them together. Reduce recurses while the joined
partial summaries still do not fit, and fails loudly if a level stops shrinking.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from worker.chunking import Piece, balance, join, pack, split_words
from worker.engines import (
    Completion,
    Engine,
    SummaryOptions,
    SummaryTask,
    Utterance,
    part_heading,
    sentences,
    utterances,
)
from worker.errors import EngineError, TranscriptError

log = logging.getLogger(__name__)

Progress = Callable[[dict[str, int | str]], None]
MAX_LEVELS = 8
# Tokens kept free in every request for the few a tokenizer adds where chunks are joined.
SAFETY_TOKENS = 16
# Pieces counted concurrently: enough to keep a tokenizer server busy, few enough to stay small.
_COUNT_BATCH = 256


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


@dataclass(frozen=True)
class Summary:
    text: str
    stats: SummaryStats


class Summarizer:
    def __init__(self, engine: Engine, progress: Progress | None = None) -> None:
        self._engine = engine
        self._progress = progress or (lambda update: None)

    async def summarize(
        self, transcript: str | list[Utterance], max_tokens: int, options: SummaryOptions | None = None
    ) -> Summary:
        """Summarise the transcript in at most `max_tokens` tokens (the budget the worker granted).

        `transcript` is the turns `worker.formats` read (speakers and start times kept), or plain
        text split here.
        """
        engine = self._engine
        options = options or SummaryOptions()
        stats = SummaryStats()
        turns = utterances(transcript) if isinstance(transcript, str) else transcript
        if not turns:
            raise TranscriptError("transcript has speaker labels but no speech")
        body = "\n".join(t.render() for t in turns)
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

        pieces = [Piece(t.render(), 0) for t in turns]
        del turns, single, body  # 200K one-word turns: keep one copy of each, not three
        level = 0
        while True:
            level += 1
            if level > MAX_LEVELS:
                raise EngineError(f"summary did not fit after {MAX_LEVELS} reduce levels")
            map_tokens = self._map_tokens(max_tokens)
            budget = await self._content_budget("map" if level == 1 else "reduce", map_tokens, options)
            kind = "map" if level == 1 else "reduce"
            source = 0 if level == 1 else stats.input_tokens
            chunks = await self._plan(pieces, budget, map_tokens, options, kind, source)
            if level == 1:
                stats.chunks = len(chunks)
            log.info("level %d: %d chunks of <= %d tokens", level, len(chunks), budget)
            partials = await self._run_level(chunks, stats, level)
            joined = "\n\n".join(f"{part_heading(i)}\n{p.text.strip()}" for i, p in enumerate(partials, 1))
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
            pieces = [Piece(f"{part_heading(i)}\n{p.text.strip()}", 0) for i, p in enumerate(partials, 1)]

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
        pieces: list[Piece],
        budget: int,
        max_tokens: int,
        options: SummaryOptions,
        kind: str,
        source_tokens: int = 0,
    ) -> list[SummaryTask]:
        measured = await self._measure(pieces, budget)
        groups = balance(pack(measured, budget), budget)
        tasks: list[SummaryTask] = []
        queue = [join(g) for g in groups]
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

    async def _measure(self, pieces: list[Piece], budget: int) -> list[Piece]:
        """Count every piece (concurrently, a batch at a time) and split those that alone exceed
        the budget. Batches keep 200K one-word turns from becoming 200K pending tasks at once."""
        counts: list[int] = []
        for start in range(0, len(pieces), _COUNT_BATCH):
            batch = pieces[start : start + _COUNT_BATCH]
            counts.extend(await asyncio.gather(*(self._engine.count_tokens(p.text) for p in batch)))
        out: list[Piece] = []
        for piece, tokens in zip(pieces, counts, strict=True):
            if tokens <= budget:
                out.append(Piece(piece.text, tokens))
                continue
            parts = sentences(piece.text)
            if len(parts) == 1:
                parts = split_words(piece.text, tokens, budget)
            out.extend(await self._measure([Piece(p, 0) for p in parts], budget))
        return out

    async def _run_level(self, tasks: list[SummaryTask], stats: SummaryStats, level: int) -> list[Completion]:
        done = 0
        total = len(tasks)
        self._progress({"stage": "chunks", "level": level, "done": 0, "total": total})

        async def one(task: SummaryTask) -> Completion:
            nonlocal done
            result = await self._run(task, stats)
            done += 1
            self._progress({"stage": "chunks", "level": level, "done": done, "total": total})
            return result

        return list(await asyncio.gather(*(one(t) for t in tasks)))

    async def _run(self, task: SummaryTask, stats: SummaryStats) -> Completion:
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
