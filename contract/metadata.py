"""The metadata document: `summaries/<name>_summary.json`, the product's output beside the summary.

One declared type (`Metadata` and the records it holds) for both writers: the worker
(worker/report.py builds it stage by stage: `ok`, or the error that ended the job), the
reconciler (dispatcher/outcomes.py `error_metadata`, for a job that never wrote its own) and the
dispatcher (`rejected_metadata`, for an upload whose options no job may carry).
`json_schema()` derives the published JSON Schema from these types (docs/metadata.schema.json; a
test keeps the file equal to it), and `encode` is the one way a document becomes bytes: strict
JSON, whatever went into it.

Stdlib only and no `from __future__ import annotations`: the schema is read from the live
annotations (`NotRequired` keys are the optional properties), and both deployables ship this file.
"""

import json
import math
import re
import sys
import types
import typing
from typing import Annotated, Any, Literal, NotRequired, TypedDict

from contract.options import OptionSource

SCHEMA_VERSION: Literal[1] = 1

# Error codes the worker writes: every `WorkerError.code` (worker/errors.py) and `internal_error`
# (a bug, reported without its details). A test checks that this list and the error tree agree.
WorkerCode = Literal[
    "worker_error",
    "invalid_input",
    "invalid_transcript",
    "transfer_failed",
    "url_not_allowed",
    "download_failed",
    "upload_failed",
    "engine_failed",
    "engine_unavailable",
    "config_error",
    "job_stopped",
    "internal_error",
]
# Error codes the reconciler writes, for jobs that never wrote metadata of their own.
ReconcilerCode = Literal["job_expired", "worker_lost", "engine_crashed", "job_failed", "reconcile_failed"]
# Error codes the dispatcher writes, for uploads it sends no job for (dispatcher/errors.py).
DispatcherCode = Literal["invalid_options"]
WORKER_CODES: tuple[str, ...] = typing.get_args(WorkerCode)
RECONCILER_CODES: tuple[str, ...] = typing.get_args(ReconcilerCode)
DISPATCHER_CODES: tuple[str, ...] = typing.get_args(DispatcherCode)


class Error(TypedDict):
    """Why the job ended without a summary."""

    code: WorkerCode | ReconcilerCode | DispatcherCode
    message: Annotated[str, "what went wrong, naming the field, URL host or limit concerned"]
    alone_on_engine: NotRequired[
        Annotated[bool, "engine_unavailable only: no other job was on the engine when it died"]
    ]
    reached_engine: NotRequired[
        Annotated[bool, "engine_unavailable only: the job had sent the engine its requests"]
    ]


class Source(TypedDict):
    """The uploaded object the job read (as the dispatcher saw it)."""

    bucket: str
    key: str
    version_id: NotRequired[str]
    etag: NotRequired[str]
    size: NotRequired[int]


# A rejected job input's `source`, copied as sent: strings cut at 1,024 characters, containers at
# 32 items and 4 levels, non-finite numbers as null.
SourceAsSent = Annotated[dict[str, Any], "a rejected job input's source, copied as sent (bounded)"]


class OptionSources(TypedDict, total=False):
    """Where each option's value came from: the upload's `x-amz-meta-summary-*`, the dispatcher's
    setting, the job input itself (a direct /run), a profile's length, or the worker's default."""

    style: OptionSource
    language: OptionSource
    profile: OptionSource
    max_tokens: OptionSource


class Options(TypedDict):
    """The job's options (`SummaryOptions`), where each came from, and the output budget granted."""

    max_tokens: int | None
    style: str
    language: str | None
    profile: Annotated[str, "the summary profile (contract/profiles.py or the deployment's own)"]
    temperature: float
    format: str | None
    max_tokens_requested: int | None
    max_tokens_granted: int
    sources: OptionSources


class InputFacts(TypedDict):
    """The transcript as read."""

    bytes: int
    chars: int
    encoding: str
    encoding_guessed: Annotated[
        bool, "the encoding was detected statistically (a legacy code page, or bytes pasted into UTF-8)"
    ]
    encoding_confidence: NotRequired[Annotated[float, "a detected code page: the detector's confidence, 0-1"]]
    pasted_bytes: NotRequired[Annotated[int, "bytes inside UTF-8 text read as Windows-1252 characters"]]
    replacement_chars: Annotated[int, "invalid sequences shown as U+FFFD"]
    format: str
    utterances: int
    timed: bool
    tokens: NotRequired[Annotated[int, "the transcript's tokens, once it was summarised"]]


class Language(TypedDict):
    """The transcript's language: detected offline, or the one the job asked for."""

    detected: str
    requested: str | None
    used: str
    name: str
    localized: Annotated[bool, "headings and labels are in this language (else English)"]


class Point(TypedDict):
    """A key point or a decision."""

    text: str
    speaker: str | None
    start: NotRequired[Annotated[int, "the second at which the quoted utterance starts"]]


class ActionItem(TypedDict):
    owner: str | None
    task: str
    due: str | None
    start: NotRequired[Annotated[int, "the second at which the quoted utterance starts"]]


class Structure(TypedDict):
    """The summary's sections, read back from any engine's text."""

    overview: str
    key_points: list[Point]
    decisions: list[Point]
    action_items: list[ActionItem]
    parsed: Annotated[bool, "false when the answer had no recognisable sections"]
    profile: NotRequired[Annotated[str, "the summary profile whose sections the summary has"]]
    sections: NotRequired[
        Annotated[dict[str, list[str]], "the profile's own sections (beyond the four above), by key"]
    ]
    unfilled: NotRequired[
        Annotated[list[str], "the extractive engine only: keys of sections it cannot write"]
    ]
    raw: NotRequired[Annotated[str, "the answer as written, when parsed is false"]]


class Output(TypedDict):
    """The summary written."""

    tokens: int
    chars: int
    trimmed: Annotated[int, "completions cut to their grant (an engine returned more than asked)"]
    empty_retries: Annotated[int, "requests asked again because the answer was empty"]


class Timings(TypedDict, total=False):
    """Seconds spent per stage; a stage the job never reached is absent ({} when nothing is known)."""

    download_s: float
    summarize_s: float
    upload_s: float
    total_s: float


class Cost(TypedDict):
    """What the job cost: its seconds on the worker times the worker's price per second (each of
    its GPUs)."""

    seconds: Annotated[float, "the job's wall time on the worker (timings.total_s)"]
    gpu: Annotated[str, "the GPU's name (nvidia-smi, or WORKER_GPU), '2 x NAME' for two; cpu for a local run"]
    price_per_s: Annotated[
        float, "USD per second for the worker, all its GPUs; 0 when not priced (see price_source)"
    ]
    price_source: Annotated[str, "where the price came from, and when it was read"]
    usd: float


class Metadata(TypedDict):
    """One upload's outcome: `status` "ok" with the summary's facts, or "error" and why."""

    schema: Literal[1]
    job_id: Annotated[str | None, "the RunPod job; null when its /run answer never came"]
    status: Literal["ok", "error"]
    error: Annotated[Error | None, "null when status is ok"]
    engine: Annotated[str | None, "extractive, vllm, openai or fixed; null when no worker said"]
    model: str | None
    extractive: bool | None
    max_model_len: int | None
    source: Source | SourceAsSent | None
    timings: Timings
    finished_at: Annotated[str, "ISO 8601, UTC, seconds"]
    cost: Annotated[Cost | None, "null when no worker ran the job to its end (the reconciler's)"]
    # From a job input that validated on.
    options: NotRequired[Options]
    attempt: NotRequired[Annotated[int, "which run of this upload (1 unless the reconciler retried)"]]
    isolated: NotRequired[Annotated[bool, "the job ran alone on its engine (a suspected poison)"]]
    # From each stage the job reached.
    input: NotRequired[InputFacts]
    language: NotRequired[Language]
    structure: NotRequired[Structure]
    output: NotRequired[Output]
    chunks: NotRequired[int]
    levels: NotRequired[Annotated[int, "map → reduce levels (1: one pass)"]]
    requests: NotRequired[int]
    tokens_per_level: NotRequired[list[int]]
    max_request_tokens: NotRequired[int]
    finish_reasons: NotRequired[dict[str, int]]
    # Written by the reconciler only.
    written_by: NotRequired[Annotated[Literal["reconciler", "dispatcher"], "absent when the worker wrote it"]]
    attempts: NotRequired[Annotated[int, "runs counted against JOB_MAX_ATTEMPTS"]]
    job_ids: NotRequired[list[str]]
    runpod: NotRequired[Annotated[Any, "RunPod's /status answer, when it was asked"]]


def encode(meta: Metadata) -> bytes:
    """The document as strict JSON (no NaN or Infinity, no lone surrogates), UTF-8, indented."""
    return json.dumps(_json_safe(meta), ensure_ascii=False, indent=2, allow_nan=False).encode("utf-8")


_SURROGATE = re.compile("[\ud800-\udfff]")


def _json_safe(value: Any) -> Any:
    """`value` with non-finite numbers as null, lone surrogates as U+FFFD and what JSON has no
    type for (a DynamoDB Decimal, say) as its string."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, dict):
        return {_json_safe(str(k)): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return _json_safe(str(value))


# ---- the published JSON Schema --------------------------------------------------------------------
_SCALARS: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of `Metadata`, derived from the types above."""
    defs: dict[str, Any] = {}
    root = _object(Metadata, defs)
    # The one rule the types cannot say: `error` is null exactly when `status` is "ok".
    ok_has_no_error = {
        "if": {"properties": {"status": {"const": "ok"}}},
        "then": {"properties": {"error": {"type": "null"}}},
        "else": {"properties": {"error": {"$ref": "#/$defs/Error"}}},
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Transcript summary metadata",
        **root,
        **ok_has_no_error,
        "$defs": dict(sorted(defs.items())),
    }


def _object(cls: Any, defs: dict[str, Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(cls, include_extras=True)
    properties = {name: _schema(_unwrap(hint), defs) for name, hint in hints.items()}
    schema: dict[str, Any] = {"description": " ".join((cls.__doc__ or "").split())} if cls.__doc__ else {}
    return schema | {
        "type": "object",
        "properties": properties,
        "required": [name for name in hints if name in cls.__required_keys__],
        "additionalProperties": False,
    }


def _unwrap(hint: Any) -> Any:
    while typing.get_origin(hint) in (NotRequired, typing.Required):
        hint = typing.get_args(hint)[0]
    return hint


def _schema(hint: Any, defs: dict[str, Any]) -> dict[str, Any]:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Annotated:
        return {**_schema(args[0], defs), "description": args[1]}
    if hint is Any:
        return {}
    if hint is type(None):
        return {"type": "null"}
    if hint in _SCALARS:
        return {"type": _SCALARS[hint]}
    if typing.is_typeddict(hint):
        if hint.__name__ not in defs:
            defs[hint.__name__] = {}  # a placeholder while its own fields are read
            defs[hint.__name__] = _object(hint, defs)
        return {"$ref": f"#/$defs/{hint.__name__}"}
    if origin is Literal:
        return {"const": args[0]} if len(args) == 1 else {"enum": list(args)}
    if origin in (typing.Union, types.UnionType):
        if all(typing.get_origin(arg) is Literal for arg in args):
            return {"enum": [value for arg in args for value in typing.get_args(arg)]}
        members = [_schema(arg, defs) for arg in args]
        if all(set(m) == {"type"} for m in members):
            return {"type": [m["type"] for m in members]}
        return {"anyOf": members}
    if origin is list:
        return {"type": "array", "items": _schema(args[0], defs)}
    if origin is dict:
        values = _schema(args[1], defs)
        return {"type": "object"} | ({"additionalProperties": values} if values else {})
    raise TypeError(f"no JSON Schema for {hint!r}")


def main() -> None:
    """`python -m contract.metadata > docs/metadata.schema.json`"""
    sys.stdout.write(json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
