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

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

from contract.options import (
    DEFAULT_PROFILE,
    LANGUAGE_MAX_CHARS,
    MAX_TOKENS_LIMIT,
    MIN_MAX_TOKENS,
    check_language,
    check_max_tokens,
    check_profile_name,
)
from contract.profiles import DEFAULT, Profile
from worker.meeting.formats import FormatName, format_name

TaskKind = Literal["single", "map", "reduce"]
# contract.options.STYLES, as a type (tests/test_upload_options.py keeps the two equal).
Style = Literal["brief", "standard", "detailed"]


class SummaryOptions(BaseModel):
    """What the caller may tune. `max_tokens` is a request: the worker grants at most its cap."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Strict: JSON `true` is not the integer 1.
    max_tokens: StrictInt | None = Field(default=None, le=MAX_TOKENS_LIMIT)
    style: Style = "standard"  # contract.options.DEFAULT_STYLE
    language: str | None = Field(default=None, min_length=2, max_length=LANGUAGE_MAX_CHARS)
    # A built-in profile (contract/profiles.py) or the user's, whose definition is the job input's
    # `profile`.
    profile: str = Field(default=DEFAULT_PROFILE, max_length=40)
    # Strict: a number, not the string "0.5" (an int such as 1 is still a number).
    temperature: float = Field(default=0.2, ge=0.0, le=2.0, allow_inf_nan=False, strict=True)
    # The transcript's format; None = detected from the content and the object key's extension.
    format: FormatName | None = None

    @field_validator("max_tokens")
    @classmethod
    def _room_for_a_summary(cls, value: int | None) -> int | None:
        if value is not None and value < MIN_MAX_TOKENS:
            check_max_tokens(value)  # the contract's message: the bounds and why
        return value

    @field_validator("profile")
    @classmethod
    def _profile_name(cls, value: str) -> str:
        return check_profile_name(value)

    @field_validator("temperature", mode="before")
    @classmethod
    def _not_a_boolean(cls, value: object) -> object:
        if isinstance(value, bool):  # JSON `true` is not the number 1
            raise ValueError("Input should be a number, not a boolean")
        return value

    @field_validator("format", mode="before")
    @classmethod
    def _format_alias(cls, value: object) -> object:
        return format_name(value) if isinstance(value, str) else value

    @field_validator("language")
    @classmethod
    def _language_name_or_code(cls, value: str | None) -> str | None:
        return value if value is None else check_language(value)


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
    # The summary's sections and what the model writes in each (contract/profiles.py).
    profile: Profile = DEFAULT
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
