"""A test and benchmark engine: answers every request after a fixed delay, with no model at all.

`WORKER_ENGINE=fixed` (with `WORKER_FIXED_LATENCY_MS`) lets the benchmarks and end-to-end tests run
the real worker, queue and transfers while inference costs exactly a known time, so what they
measure is everything *but* the model: throughput vs concurrency, the seed's polling Lambda,
worker overhead. Requests sleep concurrently (like a server that batches perfectly), so N requests
in flight finish together. Its output is the label plus the first words of the request, which
shrinks each map → reduce level the way a summary would; it is never a summary and says so in its
first line. Tokens are words and punctuation marks, as for the extractive engine.
"""

from __future__ import annotations

import asyncio

from worker.engines.base import Completion, SummaryTask
from worker.meeting import count_word_tokens

FIXED_LABEL = "[Test engine: fixed latency, no model; this is not a summary.]"
# A typical instruction prompt's wrapping around the content, so budgets are not exact fits.
PROMPT_OVERHEAD_TOKENS = 48


class FixedLatencyEngine:
    name = "fixed"
    model = "fixed-latency test engine (no model)"
    extractive = False

    def __init__(self, latency_s: float = 0.0, max_model_len: int = 131_072) -> None:
        self.latency_s = latency_s
        self.max_model_len = max_model_len
        self.requests = 0

    async def count_tokens(self, text: str) -> int:
        return count_word_tokens(text)

    async def prompt_tokens(self, task: SummaryTask) -> int:
        return count_word_tokens(task.content) + PROMPT_OVERHEAD_TOKENS

    async def complete(self, task: SummaryTask) -> Completion:
        self.requests += 1
        if self.latency_s > 0:
            await asyncio.sleep(self.latency_s)
        # Half the budget, so every level shrinks; words until the count is reached.
        budget = max(task.max_tokens // 2 - count_word_tokens(FIXED_LABEL), 1)
        words = task.content.split()[:budget]
        while words and count_word_tokens(" ".join(words)) > budget:
            words = words[: min(len(words) * 3 // 4, len(words) - 1)]
        text = FIXED_LABEL + "\n" + " ".join(words)
        return Completion(
            text=text,
            prompt_tokens=await self.prompt_tokens(task),
            completion_tokens=count_word_tokens(text),
        )

    async def aclose(self) -> None:
        return None

    def shutdown(self) -> None:
        return None  # supervises nothing
