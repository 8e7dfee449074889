"""One job's metadata document (`contract.metadata.Metadata`) as the job goes: filled stage by
stage, finished once as `ok` or as the error that ended the job.

The runner (worker/runner.py) owns the flow; this module owns what the document says about it, so
the document has one builder and its type one writer on the worker side. It never does I/O.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Literal, cast

from contract.metadata import (
    SCHEMA_VERSION,
    Error,
    Metadata,
    OptionSources,
    Structure,
    Timings,
    WorkerCode,
)
from contract.options import OptionSource
from contract.profiles import DEFAULT, Profile
from worker.cost import Pricing
from worker.engines import Engine
from worker.errors import EngineUnavailableError
from worker.isolation import Seat
from worker.job import JobInput
from worker.meeting import LANGUAGES, Decoded, language_name
from worker.summarize import Summary

INTERNAL_ERROR: WorkerCode = "internal_error"


class Report:
    def __init__(self, job_id: str, engine: Engine, pricing: Pricing) -> None:
        self._started = time.perf_counter()
        self._pricing = pricing
        self.job_id = job_id
        self._extractive = engine.extractive
        # A job whose engine died under it before runs alone (worker/isolation.py).
        self.isolated = False
        self._seconds: dict[str, float] = {}  # per stage, as measured
        self.profile = DEFAULT  # the summary's sections (contract/profiles.py), once the job is read
        # The job's seat on the engine, once it has one: an engine death is reported with it.
        self.seat: Seat | None = None
        # `status`, `error`, `timings` and `finished_at` are set by `ok` or `failed`, the only ways out.
        self.meta: Metadata = {
            "schema": SCHEMA_VERSION,
            "job_id": job_id,
            "status": "error",
            "error": None,
            "engine": engine.name,
            "model": engine.model,
            "extractive": engine.extractive,
            "max_model_len": engine.max_model_len,
            "source": None,
            "timings": {},
            "finished_at": "",
            "cost": None,
        }

    # ---- stages --------------------------------------------------------------------------------
    def job(self, job: JobInput, granted: int) -> None:
        options = job.options
        self.profile = job.summary_profile()
        if job.source is not None:
            self.meta["source"] = job.source.model_dump(exclude_none=True)
        self.meta["options"] = {
            "max_tokens": options.max_tokens,
            "style": options.style,
            "language": options.language,
            "profile": options.profile,
            "temperature": options.temperature,
            "format": options.format,
            "max_tokens_requested": options.max_tokens or self.profile.max_tokens,
            "max_tokens_granted": granted,
            "sources": _sources(job, self.profile),
        }
        self.meta["attempt"] = job.attempt or 1
        self.isolated = job.previous_error == EngineUnavailableError.code
        self.meta["isolated"] = self.isolated

    def rejected(self, raw: Any) -> None:
        """A job input that failed validation: its `source` is copied as sent, within bounds."""
        source = raw.get("source") if isinstance(raw, dict) else None
        self.meta["source"] = _sample(source) if isinstance(source, dict) else None

    @contextmanager
    def timed(self, stage: Literal["download_s", "summarize_s", "upload_s"]) -> Iterator[None]:
        """Times a stage that ends normally (a failed stage has no timing)."""
        tick = time.perf_counter()
        yield
        self._seconds[stage] = time.perf_counter() - tick

    def read(self, size: int, decoded: Decoded, format_name: str, turns: int, timed: bool) -> None:
        self.meta["input"] = {
            "bytes": size,
            "chars": len(decoded.text),
            "encoding": decoded.encoding,
            "encoding_guessed": decoded.guessed,
            "replacement_chars": decoded.replacements,
            "format": format_name,
            "utterances": turns,
            "timed": timed,
        }
        if decoded.confidence is not None:
            self.meta["input"]["encoding_confidence"] = decoded.confidence
        if decoded.pasted:
            self.meta["input"]["pasted_bytes"] = decoded.pasted

    def language(self, detected: str, requested: str | None, used: str) -> None:
        self.meta["language"] = {
            "detected": detected,
            "requested": requested,
            "used": used,
            "name": language_name(used),
            # Headings and labels are localized for these; others get English headings.
            "localized": used in LANGUAGES,
        }

    def summary(self, summary: Summary, structure: dict[str, Any]) -> None:
        stats = summary.stats
        # worker/structure.py builds the Structure record as a plain dict; the schema test checks it.
        structure["profile"] = self.profile.name
        if self._extractive:  # it says so in the sections it cannot write (contract/profiles.py)
            structure["unfilled"] = self.profile.model_only()
            for key in structure["unfilled"]:
                if key in structure.get("sections", {}):
                    structure["sections"][key] = []  # its note is no item
        self.meta["structure"] = cast(Structure, structure)
        if "input" in self.meta:
            self.meta["input"]["tokens"] = stats.input_tokens
        self.meta["output"] = {
            "tokens": stats.output_tokens,
            "chars": len(summary.text),
            "trimmed": stats.trimmed,
            "empty_retries": stats.empty_retries,
        }
        self.meta["chunks"] = stats.chunks
        self.meta["levels"] = stats.levels
        self.meta["requests"] = stats.requests
        self.meta["tokens_per_level"] = stats.tokens_per_level
        self.meta["max_request_tokens"] = stats.max_request_tokens
        self.meta["finish_reasons"] = stats.finish_reasons

    # ---- the ways out ----------------------------------------------------------------------------
    def ok(self) -> Metadata:
        self.meta["status"] = "ok"
        self.meta["error"] = None
        return self._finished()

    def failed(self, code: WorkerCode, message: str) -> Metadata:
        error: Error = {"code": code, "message": message}
        if code == EngineUnavailableError.code:
            seat = self.seat
            # Whether this transcript may be what killed the engine: the reconciler counts the
            # death against this upload only then (docs/RELIABILITY.md, poison transcripts).
            error["alone_on_engine"] = seat is not None and seat.alone
            # A job still waiting for its seat, or seated after the engine was lost, never sent
            # the engine anything: it cannot be what killed it.
            error["reached_engine"] = seat is not None and not seat.late
        self.meta["status"] = "error"
        self.meta["error"] = error
        return self._finished()

    def _finished(self) -> Metadata:
        rounded = {stage: round(seconds, 4) for stage, seconds in self._seconds.items()}
        total = time.perf_counter() - self._started
        self.meta["timings"] = cast(Timings, rounded | {"total_s": round(total, 4)})
        self.meta["cost"] = self._pricing.cost(total)
        self.meta["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        return self.meta


# A rejected input's `source` is copied into its metadata as sent, within these bounds: it may be
# nested thousands deep (json.dumps then raised RecursionError out of the runner, no metadata) or
# hold megabytes of text (a metadata file as large as a transcript).
_SAMPLE_DEPTH = 4
_SAMPLE_ITEMS = 32
_SAMPLE_CHARS = 1024


def _sample(value: Any, depth: int = 0) -> Any:
    """A bounded copy of untrusted JSON: strings cut, containers cut and nested at most so deep,
    integers beyond 64 bits and anything else that is not JSON as null."""
    if isinstance(value, str):
        return value if len(value) <= _SAMPLE_CHARS else value[:_SAMPLE_CHARS] + "…"
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**63 else None
    if depth >= _SAMPLE_DEPTH:
        return None
    if isinstance(value, dict):
        items = list(value.items())[:_SAMPLE_ITEMS]
        return {str(k)[:_SAMPLE_CHARS]: _sample(v, depth + 1) for k, v in items}
    if isinstance(value, list | tuple):
        return [_sample(v, depth + 1) for v in value[:_SAMPLE_ITEMS]]
    return None


def _sources(job: JobInput, profile: Profile) -> OptionSources:
    """Where each option came from: as the dispatcher said, else the job input's own, else the
    profile's length (max_tokens), else the worker's default."""
    given = job.option_sources or {}
    sources: dict[str, OptionSource] = {}
    for name in ("style", "language", "profile", "max_tokens"):
        if name in given:
            sources[name] = given[name]
        elif name in job.options.model_fields_set:
            sources[name] = "job input"
        elif name == "max_tokens" and profile.max_tokens is not None:
            sources[name] = "profile"
        else:
            sources[name] = "built-in default"
    return cast(OptionSources, sources)
