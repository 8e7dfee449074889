"""`lambda_handler(event, context)`: parse → filter → presign → submit, for every record.

Settings and clients are built once per cold start (`Dispatcher.from_env`) and reused while the
execution environment is warm. Records fail independently: one bad record does not stop the others,
and if any failed the handler raises after trying them all, so Lambda's async retry (and then the
on-failure destination) sees the failure. A retry re-submits the records that had succeeded too;
the worker writes to fixed keys, so a duplicate costs GPU time but never corrupts or loses output.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from typing import Any

from dispatcher.errors import DispatchError
from dispatcher.events import ObjectRef, output_keys, parse_event, skip_reason
from dispatcher.presign import METADATA_CONTENT_TYPE, SUMMARY_CONTENT_TYPE, Presigner, make_s3_client
from dispatcher.runpod_api import RunPodClient
from dispatcher.settings import Settings

log = logging.getLogger("dispatcher")
log.setLevel(logging.INFO)

JOB_INPUT_VERSION = 1


@dataclass(frozen=True)
class Outcome:
    bucket: str
    key: str
    job_id: str | None = None
    skipped: str | None = None
    error: str | None = None


class Dispatcher:
    def __init__(self, settings: Settings, presigner: Presigner, runpod: RunPodClient) -> None:
        self.settings = settings
        self._presigner = presigner
        self._runpod = runpod

    @classmethod
    def from_env(cls, env: Any = os.environ) -> Dispatcher:
        settings = Settings.from_env(env)
        s3 = make_s3_client(settings.region, settings.s3_endpoint_url, env)
        runpod = RunPodClient(
            settings.runpod_endpoint_url,
            settings.runpod_api_key,
            timeout_s=settings.runpod_timeout_s,
            attempts=settings.runpod_attempts,
        )
        return cls(settings, Presigner(s3, settings.url_expires_s), runpod)

    def run(self, event: Any) -> dict[str, Any]:
        """Handle an event the way Lambda sees it: raise if any record failed, so it is retried."""
        result = self.handle(event)
        if result["failed"]:
            total = len(result["failed"]) + len(result["dispatched"])
            first = result["failed"][0]
            raise DispatchError(
                f"{len(result['failed'])} of {total} records failed; first: {first['key']}: {first['error']}"
            )
        return result

    def handle(self, event: Any) -> dict[str, Any]:
        parsed = parse_event(event)
        for note in parsed.skipped:
            log.info(json.dumps({"event": "skipped", "reason": note.reason}))
        outcomes = [self.dispatch(ref) for ref in parsed.objects]
        summary = {
            "dispatched": [o.__dict__ for o in outcomes if o.job_id],
            "skipped": [o.__dict__ for o in outcomes if o.skipped]
            + [{"reason": s.reason} for s in parsed.skipped],
            "failed": [o.__dict__ for o in outcomes if o.error],
        }
        return summary

    def dispatch(self, ref: ObjectRef) -> Outcome:
        s = self.settings
        reason = skip_reason(ref.key, s.output_prefix, s.input_suffix, s.summary_suffix)
        if reason:
            log.info(
                json.dumps(
                    {"event": "skipped", "bucket": ref.bucket, "object_key": ref.key, "reason": reason}
                )
            )
            return Outcome(ref.bucket, ref.key, skipped=reason)
        try:
            job_id = self._runpod.submit(self.job_input(ref), self.policy(), s.webhook_url)
        except DispatchError as exc:
            log.error(
                json.dumps(
                    {"event": "failed", "bucket": ref.bucket, "object_key": ref.key, "error": str(exc)}
                )
            )
            return Outcome(ref.bucket, ref.key, error=str(exc))
        log.info(
            json.dumps({"event": "dispatched", "bucket": ref.bucket, "object_key": ref.key, "job_id": job_id})
        )
        return Outcome(ref.bucket, ref.key, job_id=job_id)

    def job_input(self, ref: ObjectRef) -> dict[str, Any]:
        """The job contract, version 1 (validated by `worker.job.JobInput`)."""
        s = self.settings
        summary_key, metadata_key = output_keys(ref.key, s.output_prefix, s.input_suffix, s.summary_suffix)
        out_bucket = s.output_bucket or ref.bucket
        source: dict[str, Any] = {"bucket": ref.bucket, "key": ref.key}
        for name in ("version_id", "etag", "size"):
            value = getattr(ref, name)
            if value is not None:
                source[name] = value
        job: dict[str, Any] = {
            "version": JOB_INPUT_VERSION,
            "transcript_url": self._presigner.get(ref.bucket, ref.key, ref.version_id),
            "summary_put_url": self._presigner.put(out_bucket, summary_key, SUMMARY_CONTENT_TYPE),
            "metadata_put_url": self._presigner.put(out_bucket, metadata_key, METADATA_CONTENT_TYPE),
            "source": source,
        }
        if s.max_tokens is not None:
            job["options"] = {"max_tokens": s.max_tokens}
        return job

    def policy(self) -> dict[str, int]:
        # RunPod takes milliseconds; the URLs outlive ttl + executionTimeout (Settings checks).
        return {
            "executionTimeout": self.settings.job_execution_timeout_s * 1000,
            "ttl": self.settings.job_ttl_s * 1000,
        }


_dispatcher: Dispatcher | None = None


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    global _dispatcher
    if _dispatcher is None:
        _dispatcher = Dispatcher.from_env(os.environ)
    return _dispatcher.run(event)
