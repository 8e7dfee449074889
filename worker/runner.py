"""Run one job end to end: validate → fetch → decode → summarise → upload → small result.

Every job that was understood ends with a metadata file (when a metadata PUT URL exists) saying
`status: "ok"` or `status: "error"` with a message: a transcript is never lost silently. Our own
errors (`WorkerError`) become RunPod's `{"error": "..."}`; an unexpected bug does too, with a
generic message, and is logged with its traceback. `EngineUnavailableError` is re-raised after the
metadata is written, because a dead model server means this worker must stop taking jobs.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from contract.metadata import Metadata, encode
from contract.profiles import STANDARD_KEYS
from worker.cost import pricing
from worker.engines import Engine, SummaryOptions
from worker.errors import (
    EngineUnavailableError,
    JobInputError,
    JobStoppedError,
    TranscriptError,
    WorkerError,
)
from worker.freshness import Freshness, Skip
from worker.isolation import EngineSeats
from worker.job import METADATA_CONTENT_TYPE, SUMMARY_CONTENT_TYPE, JobInput
from worker.meeting import (
    Transcript,
    common_words,
    decode,
    detect_language,
    parse_structure,
    parse_transcript,
    resolve_language,
)
from worker.report import INTERNAL_ERROR, Report
from worker.settings import WorkerSettings
from worker.summarize import Progress, Summarizer, Summary, output_ceiling
from worker.transfer import Transfers, redact

log = logging.getLogger(__name__)


class JobRunner:
    def __init__(self, settings: WorkerSettings, engine: Engine, transfers: Transfers) -> None:
        self._settings = settings
        self._engine = engine
        self._transfers = transfers
        self._freshness = Freshness(transfers)
        self._seats = EngineSeats()
        self._pricing = pricing(settings.gpu, settings.price_per_s)  # asks nvidia-smi once

    async def run(self, job_id: str, raw_input: Any, progress: Progress | None = None) -> dict[str, Any]:
        report = Report(job_id, self._engine, self._pricing)
        try:
            job = JobInput.parse(raw_input)
        except JobInputError as exc:
            log.warning("job %s rejected: %s", job_id, exc, extra={"job_id": job_id})
            report.rejected(raw_input)
            await self._write_quietly(self._usable_metadata_url(raw_input), report.failed(exc.code, str(exc)))
            return {"error": str(exc)}
        # Structured fields on every line about this job (worker/logs.py JsonFormatter).
        ctx = {"job_id": job_id, "object_key": job.source.key if job.source else None}
        # The upload's (or the job's) request, else the profile's length, else the worker's default.
        requested = job.options.max_tokens or job.summary_profile().max_tokens
        # Never more than the model's context allows (a larger grant cannot fit the final request).
        granted = min(
            requested or self._settings.default_max_tokens,
            self._settings.max_output_tokens,
            output_ceiling(self._engine.max_model_len),
        )
        report.job(job, granted)
        try:
            return await self._work(job, granted, report, progress or (lambda update: None), ctx)
        except WorkerError as exc:
            log.warning("job %s failed (%s): %s", job_id, exc.code, exc, extra=ctx)
            await self._write_quietly(job.metadata_put_url, report.failed(exc.code, str(exc)))
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
            await self._write_quietly(job.metadata_put_url, report.failed(stopped.code, str(stopped)))
            raise
        except Exception as exc:
            log.exception("job %s: unexpected error", job_id, extra=ctx)
            message = f"internal error: {type(exc).__name__}"
            await self._write_quietly(job.metadata_put_url, report.failed(INTERNAL_ERROR, message))
            return {"error": message}

    async def _work(
        self, job: JobInput, granted: int, report: Report, progress: Progress, ctx: dict[str, Any]
    ) -> dict[str, Any]:
        """The job's stages; the ok metadata is written last, after the summary."""
        self._check_urls(job)
        skip = await self._freshness.before_work(job)
        if skip is not None:
            return self._skipped(skip, ctx)
        transcript, options = await self._read(job, report, progress, ctx)
        with report.timed("summarize_s"):
            summary = await self._summarize(transcript, granted, options, report, progress)
            own = [
                (s.key, heading)
                for s in report.profile.sections
                if s.key not in STANDARD_KEYS
                for heading in s.headings()
            ]
            common = common_words(transcript.body)
            structure = parse_structure(
                summary.text, starts=transcript.starts, own_sections=own, common=common
            )
            del transcript
            report.summary(summary, structure)
        with report.timed("upload_s"):
            skip = await self._freshness.superseded(job)  # a newer upload while we summarised
            if skip is not None:
                return self._skipped(skip, ctx)
            if job.summary_put_url is not None:
                progress({"stage": "uploading"})
                body = summary.text.encode("utf-8")
                await self._transfers.upload(job.summary_put_url, body, SUMMARY_CONTENT_TYPE, "summary")
        meta = report.ok()
        await self._write(job.metadata_put_url, meta)
        stats = summary.stats
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

    async def _download(self, job: JobInput, progress: Progress) -> bytes:
        limit = self._settings.max_transcript_bytes
        if job.transcript_url is not None:
            progress({"stage": "downloading"})
            return await self._transfers.download(job.transcript_url, limit)
        data = (job.text or "").encode("utf-8")
        if len(data) > limit:
            raise TranscriptError(f"transcript is {len(data)} bytes, over the {limit}-byte limit")
        return data

    async def _read(
        self, job: JobInput, report: Report, progress: Progress, ctx: dict[str, Any]
    ) -> tuple[Transcript, SummaryOptions]:
        """The transcript's turns and language, and the options every engine writes with. One copy of
        the transcript at a time: the bytes, then the text, then the turns."""
        with report.timed("download_s"):
            data = await self._download(job, progress)
        size = len(data)
        decoded = decode(data)
        del data
        parsed = parse_transcript(decoded.text, ctx["object_key"], job.options.format)
        transcript = parsed.transcript
        report.read(size, decoded, parsed.format, transcript.turns, transcript.timed)
        encoding = decoded.encoding
        del decoded, parsed
        detected = detect_language(transcript.sample())
        language = resolve_language(job.options.language) or detected
        report.language(detected, job.options.language, language)
        source = ctx["object_key"] or "inline text"
        log.info("job %s: %d bytes (%s) from %s", ctx["job_id"], size, encoding, source, extra=ctx)
        # Every engine writes in the language the caller asked for, else the transcript's own.
        return transcript, job.options.model_copy(update={"language": job.options.language or language})

    async def _summarize(
        self,
        transcript: Transcript,
        granted: int,
        options: SummaryOptions,
        report: Report,
        progress: Progress,
    ) -> Summary:
        async with self._seats.seat(report.job_id, alone=report.isolated) as report.seat:
            try:
                if report.seat.late:
                    raise EngineUnavailableError("the model server was lost before this job reached it")
                summarizer = Summarizer(self._engine, progress, report.profile)
                return await summarizer.summarize(transcript, granted, options)
            except EngineUnavailableError:
                self._seats.lost = True  # jobs seated after this one did not meet a live engine
                raise

    def _skipped(self, skip: Skip, ctx: dict[str, Any]) -> dict[str, Any]:
        """A job that must not write (worker/freshness.py) ends at once, outputs untouched."""
        log.info("job %s ends without writing (%s): %s", ctx["job_id"], skip.status, skip.reason, extra=ctx)
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

    async def _write(self, url: str | None, meta: Metadata) -> None:
        if url is not None:
            await self._transfers.upload(url, encode(meta), METADATA_CONTENT_TYPE, "metadata")

    async def _write_quietly(self, url: str | None, meta: Metadata) -> None:
        """Error metadata: a failure to write it is logged, never raised over the job's own error."""
        try:
            await self._write(url, meta)
        except WorkerError as exc:
            source = meta["source"] or {}
            log.error(
                "metadata for job %s could not be written to %s: %s",
                meta["job_id"],
                redact(url or ""),
                exc,
                extra={"job_id": meta["job_id"], "object_key": source.get("key")},
            )

    def _usable_metadata_url(self, raw: Any) -> str | None:
        """Even a rejected input gets its metadata file, if it carried a usable metadata URL."""
        url = raw.get("metadata_put_url") if isinstance(raw, dict) else None
        if not isinstance(url, str):
            return None
        try:
            self._transfers.check(url, "metadata_put_url")
        except WorkerError:
            return None
        return url
