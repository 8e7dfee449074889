"""Run one job end to end: validate → fetch → decode → summarise → upload → small result.

Every job that was understood ends with a metadata file (when a metadata PUT URL exists) saying
`status: "ok"` or `status: "error"` with a message: a transcript is never lost silently. Our own
errors (`WorkerError`) become RunPod's `{"error": "..."}`; an unexpected bug does too, with a
generic message, and is logged with its traceback. `EngineUnavailableError` is re-raised after the
metadata is written, because a dead model server means this worker must stop taking jobs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import time
from datetime import UTC, datetime
from typing import Any

from worker.engines import Engine
from worker.errors import (
    EngineUnavailableError,
    JobInputError,
    JobStoppedError,
    TranscriptError,
    WorkerError,
)
from worker.freshness import Freshness, Skip
from worker.isolation import EngineSeats, Seat
from worker.job import METADATA_CONTENT_TYPE, SUMMARY_CONTENT_TYPE, JobInput
from worker.meeting import (
    LANGUAGES,
    decode,
    detect_language,
    language_name,
    parse_structure,
    parse_transcript,
    resolve_language,
)
from worker.settings import WorkerSettings
from worker.summarize import Progress, Summarizer
from worker.transfer import Transfers, redact

log = logging.getLogger(__name__)

METADATA_SCHEMA = 1
_SURROGATE = re.compile("[\ud800-\udfff]")


class JobRunner:
    def __init__(self, settings: WorkerSettings, engine: Engine, transfers: Transfers) -> None:
        self._settings = settings
        self._engine = engine
        self._transfers = transfers
        self._freshness = Freshness(transfers)
        self._seats = EngineSeats()

    async def run(self, job_id: str, raw_input: Any, progress: Progress | None = None) -> dict[str, Any]:
        started = time.perf_counter()
        progress = progress or (lambda update: None)
        timings: dict[str, float] = {}
        meta: dict[str, Any] = {
            "schema": METADATA_SCHEMA,
            "job_id": job_id,
            "status": "running",
            "engine": self._engine.name,
            "model": self._engine.model,
            "extractive": self._engine.extractive,
            "max_model_len": self._engine.max_model_len,
        }
        try:
            job = JobInput.parse(raw_input)
        except JobInputError as exc:
            log.warning("job %s rejected: %s", job_id, exc, extra={"job_id": job_id})
            await self._report_unparsed(raw_input, meta, exc, started)
            return {"error": str(exc)}

        meta["source"] = job.source.model_dump(exclude_none=True) if job.source else None
        key = job.source.key if job.source else None
        # Structured fields on every line about this job (worker/logs.py JsonFormatter).
        ctx = {"job_id": job_id, "object_key": key}
        requested = job.options.max_tokens
        granted = min(requested or self._settings.default_max_tokens, self._settings.max_output_tokens)
        meta["options"] = {
            **job.options.model_dump(),
            "max_tokens_requested": requested,
            "max_tokens_granted": granted,
        }
        # A job whose engine died under it before runs alone (worker/isolation.py).
        isolated = job.previous_error == EngineUnavailableError.code
        meta["attempt"] = job.attempt or 1
        meta["isolated"] = isolated
        seat: Seat | None = None
        try:
            self._check_urls(job)
            skip = await self._freshness.before_work(job)
            if skip is not None:
                return self._skipped(job_id, skip, ctx)
            tick = time.perf_counter()
            if job.transcript_url is not None:
                progress({"stage": "downloading"})
                data = await self._transfers.download(job.transcript_url, self._settings.max_transcript_bytes)
            else:
                data = (job.text or "").encode("utf-8")
                limit = self._settings.max_transcript_bytes
                if len(data) > limit:
                    raise TranscriptError(f"transcript is {len(data)} bytes, over the {limit}-byte limit")
            timings["download_s"] = time.perf_counter() - tick
            size = len(data)
            decoded = decode(data)
            # One copy of the transcript at a time: the bytes, then the text, then the turns.
            del data
            parsed = parse_transcript(decoded.text, key, job.options.format)
            transcript = parsed.transcript
            meta["input"] = {
                "bytes": size,
                "chars": len(decoded.text),
                "encoding": decoded.encoding,
                # Invalid UTF-8 sequences shown as U+FFFD (a cut or damaged but mostly-UTF-8 file).
                "replacement_chars": decoded.replacements,
                "format": parsed.format,
                "utterances": transcript.turns,
                "timed": transcript.timed,
            }
            del decoded, parsed
            detected = detect_language(transcript.sample())
            language = resolve_language(job.options.language) or detected
            meta["language"] = {
                "detected": detected,
                "requested": job.options.language,
                "used": language,
                "name": language_name(language),
                # Headings and labels are localized for these; others get English headings.
                "localized": language in LANGUAGES,
            }
            # Every engine writes in the language the caller asked for, else the transcript's own.
            options = job.options.model_copy(update={"language": job.options.language or language})
            log.info(
                "job %s: %d bytes (%s) from %s",
                job_id,
                size,
                meta["input"]["encoding"],
                key or "inline text",
                extra=ctx,
            )

            tick = time.perf_counter()
            async with self._seats.seat(job_id, alone=isolated) as seat:
                try:
                    if seat.late:
                        raise EngineUnavailableError("the model server was lost before this job reached it")
                    summary = await Summarizer(self._engine, progress).summarize(transcript, granted, options)
                except EngineUnavailableError:
                    self._seats.lost = True  # jobs seated after this one did not meet a live engine
                    raise
            structure = parse_structure(summary.text, starts=transcript.starts)
            del transcript
            meta["structure"] = structure
            timings["summarize_s"] = time.perf_counter() - tick
            stats = summary.stats
            meta["input"]["tokens"] = stats.input_tokens
            meta["output"] = {
                "tokens": stats.output_tokens,
                "chars": len(summary.text),
                # Completions cut to their grant because an engine returned more than asked.
                "trimmed": stats.trimmed,
                # Requests asked again because the model's answer was empty.
                "empty_retries": stats.empty_retries,
            }
            meta["chunks"] = stats.chunks
            meta["levels"] = stats.levels
            meta["requests"] = stats.requests
            meta["tokens_per_level"] = stats.tokens_per_level
            meta["max_request_tokens"] = stats.max_request_tokens
            meta["finish_reasons"] = stats.finish_reasons

            tick = time.perf_counter()
            skip = await self._freshness.superseded(job)  # a newer upload while we summarised
            if skip is not None:
                return self._skipped(job_id, skip, ctx)
            if job.summary_put_url is not None:
                progress({"stage": "uploading"})
                await self._transfers.upload(
                    job.summary_put_url, summary.text.encode("utf-8"), SUMMARY_CONTENT_TYPE, "summary"
                )
            timings["upload_s"] = time.perf_counter() - tick
            meta["status"] = "ok"
            meta["error"] = None
            await self._write_metadata(job.metadata_put_url, meta, timings, started)
        except WorkerError as exc:
            log.warning("job %s failed (%s): %s", job_id, exc.code, exc, extra=ctx)
            meta["status"] = "error"
            meta["error"] = {"code": exc.code, "message": str(exc)}
            if isinstance(exc, EngineUnavailableError):
                # Whether this transcript may be what killed the engine: the reconciler counts the
                # death against this upload only then (docs/RELIABILITY.md, poison transcripts).
                meta["error"]["alone_on_engine"] = seat is not None and seat.alone
                # A job still waiting for its seat, or seated after the engine was lost, never sent
                # the engine anything: it cannot be what killed it.
                meta["error"]["reached_engine"] = seat is not None and not seat.late
            await self._write_metadata_quietly(job.metadata_put_url, meta, timings, started)
            if isinstance(exc, EngineUnavailableError):
                raise
            return {"error": str(exc)}
        except asyncio.CancelledError:
            # RunPod stops a job (cancel, policy.executionTimeout) by cancelling its task: say so in
            # the metadata, then let the cancellation through to the SDK.
            stopped = JobStoppedError(
                "the job was stopped by the platform (cancelled, or over policy.executionTimeout)"
            )
            log.warning("job %s stopped: %s", job_id, stopped, extra=ctx)
            meta["status"] = "error"
            meta["error"] = {"code": stopped.code, "message": str(stopped)}
            await self._write_metadata_quietly(job.metadata_put_url, meta, timings, started)
            raise
        except Exception as exc:
            log.exception("job %s: unexpected error", job_id, extra=ctx)
            meta["status"] = "error"
            meta["error"] = {"code": "internal_error", "message": f"internal error: {type(exc).__name__}"}
            await self._write_metadata_quietly(job.metadata_put_url, meta, timings, started)
            return {"error": meta["error"]["message"]}

        result: dict[str, Any] = {
            "status": "ok",
            "engine": self._engine.name,
            "model": self._engine.model,
            "input_tokens": stats.input_tokens,
            "output_tokens": stats.output_tokens,
            "chunks": stats.chunks,
            "levels": stats.levels,
            "max_tokens_granted": granted,
            "timings": meta["timings"],
        }
        if job.source:
            result["source_key"] = job.source.key
        if job.summary_put_url is None:
            result["summary"] = summary.text  # push mode: nowhere else to put it
            result["structure"] = structure
        return result

    def _skipped(self, job_id: str, skip: Skip, ctx: dict[str, Any]) -> dict[str, Any]:
        """A job that must not write (worker/freshness.py) ends at once, outputs untouched."""
        log.info("job %s ends without writing (%s): %s", job_id, skip.status, skip.reason, extra=ctx)
        return {"status": skip.status, "reason": skip.reason}

    def _check_urls(self, job: JobInput) -> None:
        for what in (
            "transcript_url",
            "summary_put_url",
            "metadata_put_url",
            "current_source_url",
            "metadata_get_url",
        ):
            url = getattr(job, what)
            if url is not None:
                self._transfers.check(url, what)

    async def _write_metadata(
        self, url: str | None, meta: dict[str, Any], timings: dict[str, float], started: float
    ) -> None:
        meta["timings"] = {k: round(v, 4) for k, v in timings.items()} | {
            "total_s": round(time.perf_counter() - started, 4)
        }
        meta["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        if url is None:
            return
        # A rejected input is copied in as sent: NaN, Infinity and lone surrogates must not make
        # the metadata invalid JSON (or unencodable).
        body = json.dumps(_json_safe(meta), ensure_ascii=False, indent=2, allow_nan=False).encode("utf-8")
        await self._transfers.upload(url, body, METADATA_CONTENT_TYPE, "metadata")

    async def _write_metadata_quietly(
        self, url: str | None, meta: dict[str, Any], timings: dict[str, float], started: float
    ) -> None:
        try:
            await self._write_metadata(url, meta, timings, started)
        except WorkerError as exc:
            source = meta.get("source") or {}
            log.error(
                "metadata for job %s could not be written to %s: %s",
                meta["job_id"],
                redact(url or ""),
                exc,
                extra={"job_id": meta["job_id"], "object_key": source.get("key")},
            )

    async def _report_unparsed(
        self, raw: Any, meta: dict[str, Any], exc: JobInputError, started: float
    ) -> None:
        """Even a rejected input gets its metadata file, if it carried a usable metadata URL."""
        url = raw.get("metadata_put_url") if isinstance(raw, dict) else None
        if not isinstance(url, str):
            return
        try:
            self._transfers.check(url, "metadata_put_url")
        except WorkerError:
            return
        source = raw.get("source")
        meta["source"] = _sample(source) if isinstance(source, dict) else None
        meta["status"] = "error"
        meta["error"] = {"code": exc.code, "message": str(exc)}
        await self._write_metadata_quietly(url, meta, {}, started)


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


def _json_safe(value: Any) -> Any:
    """`value` with non-finite numbers as null and lone surrogates as U+FFFD: valid strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_json_safe(str(k)): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value
