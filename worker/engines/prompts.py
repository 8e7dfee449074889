"""Prompts: one summary task → a completion prompt (base models) or chat messages (instruct models).

The Yarn models are base models without a chat template, so they get a plain document that ends
where the summary should begin; instruction-tuned models get the same instructions as chat
messages through their own template. Both say the same thing, in three variants:

- `single`: the whole transcript → the final structured summary;
- `map`: part i of n → notes on that part only, in the same structure, so the merge keeps it;
- `reduce`: notes on consecutive parts (or partial summaries) → one summary of the whole.

The summary's structure is the task's profile (contract/profiles.py): its sections in order, each
with what goes in it; the default `meeting` profile has Overview, Key points, Decisions, Action items
(owner, task, due date when the transcript names them). It is written in `task.options.language`
when given, else in the transcript's own language, headings included. Styles (`SummaryOptions.style`):

- `brief`: an overview of two or three sentences and at most five key points;
- `standard`: every main topic, every decision and action item, concisely;
- `detailed`: thorough, with the reasoning and figures behind each decision and open questions.

Transcript text cannot forge the prompt's own structure. A content line that starts with `###`
(`### Summary`, `### Notes`, `### Transcript`) is escaped as `\\###`, so only the prompt's own
headings open or end a section (and stop sequences on `### Summary` / `### Notes` stay safe); that
holds after any leading blanks or invisible characters (NBSP, ideographic space, zero-width
space, BOM), for look-alike hashes (fullwidth `＃`, small `﹟`), and after characters a model may
read as a line break (U+2028, U+0085, form feed). The strings tokenizers turn into control tokens, of
any model family (`</s>`, `<|im_end|>`, `[INST]`, `<end_of_turn>`, Qwen3's `<think>`, DeepSeek's
full-width `<｜User｜>`...), would end the user's turn, open a thought or end the document in the
middle of the transcript: every string of those shapes (`_CONTROL`) is broken with a backslash after
its first character (`<\\|im_end|>`, `<\\/think>`), which no tokenizer reads as a control token.

Nothing here counts tokens or knows a server: the engine renders these and measures the result.
"""

from __future__ import annotations

import re

from contract.profiles import DEFAULT, STANDARD_KEYS, TIMES, Profile
from worker.engines.base import SummaryTask
from worker.meeting import LANGUAGES, language_name, resolve_language

STYLES = {
    "brief": "Keep it short: an overview of two or three sentences and at most five key points.",
    "standard": "Cover every main topic, every decision and every action item, concisely.",
    "detailed": (
        "Be thorough: cover every topic with the reasoning and figures behind each decision, "
        "and list the open questions at the end of Key points."
    ),
}

NUMBERS = ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")


def structure(profile: Profile) -> str:
    """The profile's sections, in order, each with what goes in it (contract/profiles.py)."""
    count = NUMBERS[len(profile.sections) - 2] if len(profile.sections) > 1 else "one"
    lines = [f"Use exactly these {count} section{'s' if len(profile.sections) > 1 else ''}, in this order:"]
    lines += [f"{section.title}: {section.instructions}".rstrip() for section in profile.sections]
    return "\n".join([*lines, TIMES])


SYSTEM = (
    "You summarise meeting, lecture and call transcripts accurately. You never invent names, "
    "numbers, decisions or tasks that the text does not contain."
)


def language_rule(language: str | None, profile: Profile = DEFAULT) -> str:
    code = resolve_language(language)
    if code in LANGUAGES and code != "en":
        # The exact headings, so that worker/meeting/structure.py can read the answer back; a
        # profile's own section without a heading in this language keeps its title as written.
        lang = LANGUAGES[code]
        headings = ", ".join(lang.heading(s.key, s.heading(code)) for s in profile.sections)
        return f"Write the summary in {language_name(code)}, with exactly these section headings: {headings}."
    own = [s.title for s in profile.sections if s.key not in STANDARD_KEYS]
    keep = f" (keep {', '.join(own)} exactly as written)" if own else ""
    if language:
        return f"Write the summary in {language_name(code or language)}, section headings included{keep}."
    return (
        "Write the summary in the same language as the transcript, section headings included "
        f"(translate the section names above if the transcript is not in English){keep}."
    )


def instructions(task: SummaryTask) -> str:
    """The instruction text of one task: variant, structure, style, language."""
    style = STYLES.get(task.options.style, STYLES["standard"])
    if task.kind == "map":
        what = (
            f"Below is part {task.part} of {task.parts} of a long transcript. Write notes on this "
            "part only, in the structure below, keeping every name, number, decision and action "
            "item with its owner: they will be merged with the notes on the other parts."
        )
    elif task.kind == "reduce":
        what = (
            "Below are notes on consecutive parts of one long transcript, in order. Merge them "
            "into one summary of the whole conversation: combine repeated points, keep every "
            "decision and action item once, and keep the owners."
        )
    else:
        what = "Below is a transcript. Summarise it."
    profile = task.profile
    parts = [what, structure(profile), style, language_rule(task.options.language, profile)]
    if profile.instructions:
        parts.insert(1, profile.instructions)
    return "\n\n".join(parts)


def _label(task: SummaryTask) -> str:
    if task.kind == "map":
        return f"Transcript, part {task.part} of {task.parts}"
    return "Notes on the parts" if task.kind == "reduce" else "Transcript"


# A line that reads as one of our level-3 section headings: after a line break (or a character a
# model may take for one), any blanks or invisible characters, then three hashes or look-alikes.
_MARKER = re.compile(
    r"(^|[\r\v\f\x1c-\x1e\x85\u2028\u2029])"
    r"((?:[^\S\n]|[\u00ad\u180e\u200b-\u200f\u2060-\u2064\ufeff])*)"
    r"(?=[#\uff03\ufe5f]{3})",
    re.MULTILINE,
)
# Strings that chat templates and tokenizers turn into control tokens, by shape rather than one by
# one, so another family's tokens are covered too: anything `<|…|`-shaped (ChatML, Llama 3, Phi,
# gpt-oss, Qwen's vision and FIM markers) and anything between full-width bars `｜…｜` (DeepSeek's
# `<｜User｜>`, `<｜tool▁sep｜>`, `｜DSML｜`); tags whose name joins words with `_` (`<start_of_turn>`,
# `<tool_call>`, `<arg_key>`) and the one-word ones models use (`<s>`, `<think>`, `<sop>`); Llama 2's
# `<<SYS>>`; Mistral's bracketed words (`[INST]`, `[THINK]`, `[TOOL_RESULTS]`) and GLM's `[gMASK]`.
# Transcript annotations (`[MUSIC]`, `[CROSSTALK]`), HTML (`<b>`) and a lone `|` are not tokens.
_CONTROL = re.compile(
    r"<\|[^|<>\s]{1,40}\|"
    r"|<?｜[^｜<>\s]{1,40}｜"
    r"|</?[a-z]+(?:_[a-z]+)+>"
    r"|</?(?:s|unk|pad|bos|eos|mask|sop|eop|think|thinking|reasoning|answer|response)>"
    r"|<</?SYS>>"
    r"|\[/?(?:INST|THINK|IMG|[A-Z]+(?:_[A-Z]+)+)\]|\[[gs]MASK\]",
    re.IGNORECASE,
)


def escape_content(content: str) -> str:
    """Transcript (or notes) text with every line-leading `###` (or look-alike) escaped as `\\###`
    and every control-token string broken by a backslash after its first character."""
    content = _CONTROL.sub(lambda m: m.group()[0] + "\\" + m.group()[1:], content)
    return _MARKER.sub(r"\1\2\\", content)


# A base model continues past the summary (the next section, a new transcript) until max_tokens:
# stop at the document's next heading, the one level that completion_prompt writes.
COMPLETION_STOP = ("\n###",)


def completion_prompt(task: SummaryTask) -> str:
    """A document that a base model continues with the summary."""
    heading = "Notes" if task.kind == "map" else "Summary"
    content = escape_content(task.content)
    return f"{instructions(task)}\n\n### {_label(task)}\n\n{content}\n\n### {heading}\n\n"


def chat_messages(task: SummaryTask) -> list[dict[str, str]]:
    """System + user messages for a model with a chat template."""
    user = f"{instructions(task)}\n\n### {_label(task)}\n\n{escape_content(task.content)}"
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]
