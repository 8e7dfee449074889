"""The engine protocol: the only surface the summariser sees of a model server or ranking method.

An engine counts tokens exactly as its model does, knows its context length, and turns one
`SummaryTask` into one `Completion`. How the task becomes a prompt (completion-style for base
models, a chat template for instruction models) or a ranking (extractive) is the engine's business,
so `prompt_tokens` is the engine's too: the budget check must count the very prompt that is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

TaskKind = Literal["single", "map", "reduce"]


@dataclass(frozen=True)
class SummaryTask:
    """One request: summarise `content` into at most `max_tokens` tokens.

    `single`: the whole transcript in one pass; `map`: one chunk of a long transcript
    (`part` of `parts`); `reduce`: partial summaries to merge into one.
    """

    kind: TaskKind
    content: str
    max_tokens: int
    style: str = "standard"
    language: str | None = None
    temperature: float = 0.2
    part: int = 1
    parts: int = 1


@dataclass(frozen=True)
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str = "stop"


class Engine(Protocol):
    name: str  # "extractive", "vllm", "openai"
    model: str
    extractive: bool
    max_model_len: int

    async def count_tokens(self, text: str) -> int: ...

    async def prompt_tokens(self, task: SummaryTask) -> int: ...

    async def complete(self, task: SummaryTask) -> Completion: ...

    async def aclose(self) -> None: ...
