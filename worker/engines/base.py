"""The engine protocol and what flows through it: options, one summary task, one completion.

An engine counts tokens exactly as its model does, knows its context length, and turns one
`SummaryTask` into one `Completion`. How the task becomes a prompt (completion-style for base
models, a chat template for instruction models) or a ranking (extractive) is the engine's business,
so `prompt_tokens` is the engine's too: the budget check must count the very prompt that is sent.

`SummaryOptions` is the job input's `options` object itself (worker.job embeds it): it travels
unchanged from the RunPod input to the prompt, so a new option is one field here and one use where
it matters, nothing copied in between.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

TaskKind = Literal["single", "map", "reduce"]
# Transcript formats the worker reads (worker/formats.py); `options.format` may name one.
Format = Literal["webvtt", "srt", "aws-transcribe", "whisper", "text"]
FORMATS: tuple[str, ...] = ("webvtt", "srt", "aws-transcribe", "whisper", "text")
# Far above any model's context: larger values are almost certainly a mistake in the caller.
MAX_TOKENS_LIMIT = 1_000_000
# Partial summaries are joined under this heading before a reduce step; engines that read their own
# output back (extractive) recognise it with `is_part_heading`.
PART_HEADING = "## Part "


def part_heading(number: int) -> str:
    return f"{PART_HEADING}{number}"


def is_part_heading(line: str) -> bool:
    return line.strip().startswith(PART_HEADING)


class SummaryOptions(BaseModel):
    """What the caller may tune. `max_tokens` is a request: the worker grants at most its cap."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_tokens: int | None = Field(default=None, ge=1, le=MAX_TOKENS_LIMIT)
    style: Literal["brief", "standard", "detailed"] = "standard"
    language: str | None = Field(default=None, min_length=2, max_length=32)
    temperature: float = Field(default=0.2, ge=0.0, le=2.0)
    # The transcript's format; None = detected from the content and the object key's extension.
    format: Format | None = None


@dataclass(frozen=True)
class SummaryTask:
    """One request: summarise `content` into at most `max_tokens` tokens (the granted budget).

    `single`: the whole transcript in one pass; `map`: one chunk of a long transcript
    (`part` of `parts`); `reduce`: partial summaries to merge into one.
    """

    kind: TaskKind
    content: str
    max_tokens: int
    options: SummaryOptions = field(default_factory=SummaryOptions)
    part: int = 1
    parts: int = 1
    # Tokens of the whole transcript this task serves (a reduce step sees only partial summaries):
    # an engine that sizes its answer by its input sizes it by this, so a longer transcript never
    # gets a shorter summary than its parts would. 0 = the content is the whole input.
    source_tokens: int = 0


@dataclass(frozen=True)
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str = "stop"


class Engine(Protocol):
    """Everything the worker calls on an engine; a built engine is ready to serve as returned."""

    name: str  # "extractive", "vllm", "openai", "fixed"
    model: str
    extractive: bool
    max_model_len: int

    async def count_tokens(self, text: str) -> int: ...

    async def prompt_tokens(self, task: SummaryTask) -> int: ...

    async def complete(self, task: SummaryTask) -> Completion: ...

    async def aclose(self) -> None:
        """Close this engine's connections (in the event loop that used them)."""

    def shutdown(self) -> None:
        """Stop whatever the engine supervises (a local model server); safe to call twice."""
