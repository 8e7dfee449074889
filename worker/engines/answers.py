"""What a model server answers, read: the summary text out of a completion, its counts checked.

A chat model's answer loses its reasoning (`strip_thinking`): Qwen3 and DeepSeek-R1 think in a
`<think>…</think>` block that opens the answer, or after a `<think>` their chat template put in the
prompt (the answer then holds only the closing tag). A base model's continuation is cut where it
leaves the summary (`trim_completion`): the document's next heading, the line it was writing when
`max_tokens` ran out. Either keeps what the summary quotes: a `<think>` tag or `###` in the middle
of the text is content (a meeting about parsers, an issue number) and so is every line after it.

An answer is read field by field (`read_completion`, `read_count`): one that is not the OpenAI
shape (a list, no choice, a text that is a number, counts as strings or negative, JSON nested too
deep) is an `EngineError` naming the field, never a TypeError or ValueError from deep in the worker
(which would end the job as `internal_error`).
"""

from __future__ import annotations

import re
from typing import Any

from worker.errors import EngineError

# A thought is where a thinking model puts it: first in the answer. A `<think>` further on is a
# quote (a meeting about parsers, a transcript that held the tag) and stays with what follows it.
_LEADING_THOUGHT = re.compile(r"\s*<think>.*?(?:</think>|\Z)", re.DOTALL)
# Where a base model's continuation leaves the summary: a `###` heading at the start of a line (the
# stop sequence missed it only when its newline was generated with it), or one of the headings the
# prompt itself writes (`### Transcript`, `### Notes`, `### Summary`) even mid-line. `###` inside a
# line otherwise is content: an issue number, `C###`, Markdown being explained.
_NEXT_SECTION = re.compile(r"^[^\S\n]*###|###[^\S\n]*(?:Transcript|Notes|Summary)\b", re.MULTILINE)


def strip_thinking(text: str) -> str:
    """A chat answer without its reasoning: a `<think>…</think>` block that opens the answer (to
    the end when unclosed: the budget ran out mid-thought), or what precedes a first `</think>`
    that no `<think>` opened (templates that open the block in the prompt). Tags quoted later in
    the answer, and everything after them, are kept."""
    thought = _LEADING_THOUGHT.match(text)
    if thought is not None:
        return text[thought.end() :].strip()
    closing = text.find("</think>")
    if closing >= 0 and "<think>" not in text[:closing]:
        text = text[closing + len("</think>") :]
    return text.strip()


def trim_completion(text: str, finish_reason: str) -> str:
    """A base model's continuation cut to the summary: nothing from the document's next section on
    (`_NEXT_SECTION`), not the unfinished line it was writing when `max_tokens` ran out, and no
    section heading left without content at the end."""
    section = _NEXT_SECTION.search(text)
    if section is not None:
        text = text[: section.start()]
    text = text.rstrip()
    lines = text.split("\n")
    if finish_reason == "length" and len(lines) > 1:
        lines.pop()
    while lines and _bare_heading(lines[-1]):
        lines.pop()
    return "\n".join(lines).rstrip()


def _bare_heading(line: str) -> bool:
    stripped = line.strip().strip("*#").strip()
    return not stripped or (stripped.endswith(":") and len(stripped.split()) <= 3)


def read_completion(answer: Any, path: str, chat: bool) -> tuple[str, str, int | None, int | None]:
    """(text, finish_reason, prompt_tokens, completion_tokens) of a completion answer."""
    answer = _object(answer, path)
    choices = answer.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise EngineError(f"{path} answered without a usable choice (`choices` must be a list of objects)")
    choice = choices[0]
    if chat:
        message = choice.get("message")
        if not isinstance(message, dict):
            raise EngineError(f"{path} answered a choice without a message object")
        text, field = message.get("content"), "message.content"
    else:
        text, field = choice.get("text"), "text"
    if text is not None and not isinstance(text, str):
        raise EngineError(f"{path} answered a {field} that is not a string but {_shown(text)}")
    usage = answer.get("usage") or {}
    if not isinstance(usage, dict):
        raise EngineError(f"{path} answered a usage that is not an object but {_shown(usage)}")
    counts = [
        None if usage.get(name) is None else _count(usage[name], f"usage.{name}", path)
        for name in ("prompt_tokens", "completion_tokens")
    ]
    return text or "", str(choice.get("finish_reason") or "stop")[:40], counts[0], counts[1]


def read_count(answer: Any) -> int:
    """The token count of a `/tokenize` answer."""
    return _count(_object(answer, "/tokenize").get("count"), "count", "/tokenize")


def _object(answer: Any, path: str) -> dict[str, Any]:
    if not isinstance(answer, dict):
        raise EngineError(f"{path} answered {_shown(answer)}, not a JSON object")
    return answer


def _count(value: Any, field: str, path: str) -> int:
    # A JSON integer: a string ("12"), a boolean, a fraction, NaN or a negative is no token count.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise EngineError(f"{path} answered {field} = {_shown(value)}, not a token count")
    return value


def _shown(value: Any) -> str:
    """A value for an error message: short scalars as written, anything else by its JSON type."""
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        text = repr(value)
        return text if len(text) <= 40 else text[:40] + "…"
    return {dict: "an object", list: "a list", bool: f"the boolean {value}", type(None): "null"}.get(
        type(value), type(value).__name__
    )
