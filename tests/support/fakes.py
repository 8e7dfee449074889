"""A fake engine with recorded history, for unit tests of the summariser (STYLE.md §7)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from worker.engines import Completion, SummaryTask

PROMPT_OVERHEAD = 20


@dataclass
class FakeEngine:
    """Counts whitespace tokens; answers with queued texts, else the first words of the content."""

    max_model_len: int = 400
    prompt_overhead: int = PROMPT_OVERHEAD
    name: str = "fake"
    model: str = "fake-model"
    extractive: bool = False
    history: list[SummaryTask] = field(default_factory=list)
    answers: deque[str] = field(default_factory=deque)

    def enqueue(self, *texts: str) -> None:
        self.answers.extend(texts)

    async def count_tokens(self, text: str) -> int:
        return len(text.split())

    async def prompt_tokens(self, task: SummaryTask) -> int:
        return len(task.content.split()) + self.prompt_overhead

    async def complete(self, task: SummaryTask) -> Completion:
        self.history.append(task)
        text = (
            self.answers.popleft() if self.answers else " ".join(task.content.split()[: task.max_tokens // 4])
        )
        return Completion(text, await self.prompt_tokens(task), len(text.split()))

    async def aclose(self) -> None:
        return None


class RaisingEngine(FakeEngine):
    """Fails every request the way a broken model server or a bug would."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(max_model_len=4000)
        self.error = error

    async def complete(self, task: SummaryTask) -> Completion:
        raise self.error
