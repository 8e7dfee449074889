"""`lambda_handler(event, context)`: parse → filter → claim → presign → submit, for every record.

What a job holds (the contract) is built in dispatcher/job.py; this module decides which records
become jobs, submits them and reports what happened.

Settings and clients are built once per cold start (`Dispatcher.from_env`) and reused while the
execution environment is warm. Records fail independently: one bad record does not stop the others.

One record, straight through: skip what is not an input → the upload's identity and output keys,
built once (dispatcher/upload.py) → with a ledger, claim the version (dispatcher/ledger.py: a
conditional put, the one dedupe; a version already claimed is a duplicate and sends nothing) →
its options, from one HEAD of the version (dispatcher/options.py; options no job may carry end the
upload here with error metadata and a closed claim) → presign and `/run` → the job id onto the
claim. A refused `/run` deletes the claim so the retry
dispatches; an unanswered one leaves it for the reconciler.

A `/run` answer saying the job already ended (`FAILED`, `CANCELLED`, `TIMED_OUT`: nothing will run
it) is not a dispatch. With the ledger, the claim keeps that job id marked `ended_at_run` and due
now: the reconciler's next pass (minutes, not the job's 2 h+ lifetime) runs it again, counting the
attempt, and writes `job_failed` metadata once attempts are spent; the record is reported under
`ended` and not failed (a redelivery would only find the claim). Without a ledger nobody would
retry it: the record fails, so Lambda (or SQS) delivers it again.

Without `LEDGER_TABLE` nothing is deduplicated here: every delivery sends a job. The worker's own
checks keep the output single (worker/freshness.py): a job whose version already has `ok` metadata
ends as `duplicate` without model work, and an older version's job writes nothing.

Two wirings, one handler:
- S3 → Lambda (async, the default): an async invocation has no partial-batch response, so if any
  record failed the handler raises after trying them all, and Lambda retries the whole event (then
  the on-failure destination). With the ledger the retry re-submits only the records that failed:
  the others are claimed already.
- S3 → SQS → Lambda (event source mapping with `ReportBatchItemFailures`): the handler returns
  `{"batchItemFailures": [...]}` naming only the messages whose records failed, so only those are
  redelivered (and, after `maxReceiveCount`, land in the queue's DLQ).
"""

from __future__ import annotations

import json
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from contract.metadata import encode
from dispatcher.errors import (
    DispatchError,
    InvalidOptionsError,
    LedgerError,
    RunPodJobEndedError,
    RunPodUnconfirmedError,
)
from dispatcher.events import ObjectRef, parse_event, skip_reason
from dispatcher.job import build_job_input, job_policy
from dispatcher.ledger import ERROR, UNCONFIRMED, Entry, Ledger, deadline_after
from dispatcher.options import JobOptions, UploadOptions, load_profiles
from dispatcher.outcomes import rejected_metadata
from dispatcher.presign import METADATA_CONTENT_TYPE, Presigner, make_client, make_s3_client
from dispatcher.runpod_api import RunPodClient
from dispatcher.secrets import api_key
from dispatcher.settings import Settings
from dispatcher.upload import Upload

log = logging.getLogger("dispatcher")
log.setLevel(logging.INFO)

# Records not yet started when the invocation has less than this left are failed (and retried)
# rather than cut off by Lambda's timeout halfway through a /run.
DEADLINE_MARGIN_MS = 10_000


@dataclass(frozen=True)
class Outcome:
    bucket: str
    key: str
    job_id: str | None = None
    skipped: str | None = None
    error: str | None = None
    duplicate_of: str | None = None
    rejected: str | None = None  # invalid options: error metadata written, no job sent
    ended: str | None = None  # /run answered the job already ended so: the reconciler retries it


class Dispatcher:
    def __init__(
        self,
        settings: Settings,
        presigner: Presigner,
        runpod: RunPodClient,
        ledger: Ledger | None = None,
        options: UploadOptions | None = None,
    ) -> None:
        self.settings = settings
        self._presigner = presigner
        self._runpod = runpod
        self.ledger = ledger
        self.options = options or UploadOptions(settings)

    @classmethod
    def from_env(cls, env: Any = os.environ) -> Dispatcher:
        # Secrets Manager / SSM when configured (read once per cold start), else RUNPOD_API_KEY.
        settings = Settings.from_env(env, api_key=api_key(env))
        s3 = make_s3_client(settings.region, settings.s3_endpoint_url, env)
        runpod = RunPodClient(
            settings.runpod_endpoint_url,
            settings.runpod_api_key,
            timeout_s=settings.runpod_timeout_s,
            attempts=settings.runpod_attempts,
        )
        ledger = None
        if settings.ledger_table:
            ledger = Ledger(
                settings.ledger_table,
                make_client("dynamodb", settings.region, settings.dynamodb_endpoint_url, env),
            )
        presigner = Presigner(s3, settings.url_expires_s)
        # The user's profiles document, read once per cold start; a broken one stops it here.
        options = UploadOptions(settings, load_profiles(settings.summary_profiles_uri, presigner.read))
        return cls(settings, presigner, runpod, ledger, options)

    @property
    def runpod(self) -> RunPodClient:
        return self._runpod

    def run(self, event: Any, context: Any = None) -> dict[str, Any]:
        """Handle an event the way Lambda sees it: raise if any record failed, so it is retried."""
        result = self.handle(event, context)
        if result["failed"]:
            total = len(result["failed"]) + len(result["dispatched"])
            first = result["failed"][0]
            raise DispatchError(
                f"{len(result['failed'])} of {total} records failed; first: {first['key']}: {first['error']}"
            )
        return result

    def run_sqs(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        """S3 events delivered through SQS: report only the failed messages for redelivery."""
        failures: list[dict[str, str]] = []
        for message in event.get("Records") or []:
            message_id = str(message.get("messageId", ""))
            try:
                body = json.loads(message.get("body") or "")
            except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
                # Not an S3 event and never will be: redelivering it cannot help.
                log.error(
                    json.dumps({"event": "skipped", "message_id": message_id, "reason": "body not JSON"})
                )
                continue
            if self.handle(body, context)["failed"]:
                failures.append({"itemIdentifier": message_id})
        return {"batchItemFailures": failures}

    def handle(self, event: Any, context: Any = None) -> dict[str, Any]:
        parsed = parse_event(event)
        for note in parsed.skipped:
            log.info(json.dumps({"event": "skipped", "reason": note.reason}))
        workers = min(self.settings.dispatch_concurrency, len(parsed.objects))
        if workers <= 1:
            outcomes = [self.dispatch(ref, context) for ref in parsed.objects]
        else:
            # Results keep the records' order; only the /run calls overlap.
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dispatch") as pool:
                outcomes = list(pool.map(lambda ref: self.dispatch(ref, context), parsed.objects))
        summary = {
            "dispatched": [o.__dict__ for o in outcomes if o.job_id and not o.ended],
            "ended": [o.__dict__ for o in outcomes if o.ended],
            "skipped": [o.__dict__ for o in outcomes if o.skipped]
            + [{"reason": s.reason} for s in parsed.skipped],
            "rejected": [o.__dict__ for o in outcomes if o.rejected],
            "failed": [o.__dict__ for o in outcomes if o.error],
        }
        return summary

    def dispatch(self, ref: ObjectRef, context: Any = None, *, resummarize: str | None = None) -> Outcome:
        """One object version through skip → claim → `/run`; `resummarize` (the time a re-summarise
        was asked for, `client backfill --force`) makes it a new upload of the same version."""
        s = self.settings
        ref = self._existing_key(ref)
        where = {"bucket": ref.bucket, "object_key": ref.key}
        reason = skip_reason(ref.key, s.output_prefix, s.input_suffixes, s.summary_suffix, s.input_prefix)
        if reason:
            log.info(json.dumps({"event": "skipped", **where, "reason": reason}))
            return Outcome(ref.bucket, ref.key, skipped=reason)
        try:
            if _out_of_time(context):
                raise DispatchError("not attempted: the invocation is about to time out")
            upload = Upload.of(ref, s, resummarize)
            entry = None
            if self.ledger is not None:
                now = time.time()
                entry, new = self.ledger.claim(upload, deadline=deadline_after(now, s), now=now)
                if not new:  # a redelivery, at once or days later: the claim's holder sent the job
                    job_id = entry.job_id or UNCONFIRMED
                    reason = f"duplicate delivery: this version was already dispatched as job {job_id}"
                    log.info(json.dumps({"event": "skipped", **where, "job_id": job_id, "reason": reason}))
                    return Outcome(ref.bucket, ref.key, skipped=reason, duplicate_of=job_id)
            try:
                options = self.job_options(upload)
            except InvalidOptionsError as exc:
                self._reject(upload, entry, exc)
                log.warning(json.dumps({"event": "rejected", **where, "error": str(exc)}))
                return Outcome(ref.bucket, ref.key, rejected=str(exc))
            except DispatchError:
                if self.ledger is not None and entry is not None:
                    self.ledger.forget(entry)  # the event's retry claims it again
                raise
            if self.ledger is None or entry is None:
                job_id = self.submit_job(upload, options)  # no dedupe: every delivery sends a job (above)
            else:
                job_id = self._run_claimed(self.ledger, upload, entry, options)
        except RunPodJobEndedError as exc:
            if self.ledger is None:
                log.error(json.dumps({"event": "failed", **where, "error": str(exc)}))
                return Outcome(ref.bucket, ref.key, error=str(exc))
            # The claim holds the ended job, due now: the reconciler runs it again (above).
            log.error(json.dumps({"event": "ended_at_run", **where, "job_id": exc.job_id, "error": str(exc)}))
            return Outcome(ref.bucket, ref.key, job_id=exc.job_id, ended=exc.status)
        except DispatchError as exc:
            log.error(json.dumps({"event": "failed", **where, "error": str(exc)}))
            return Outcome(ref.bucket, ref.key, error=str(exc))
        log.info(json.dumps({"event": "dispatched", **where, "job_id": job_id}))
        return Outcome(ref.bucket, ref.key, job_id=job_id)

    def job_options(self, upload: Upload) -> JobOptions:
        """The upload's options: one HEAD of its version for its `x-amz-meta-summary-*` keys, over
        the deployment's defaults (dispatcher/options.py). A version deleted since gets the
        defaults (its job ends as a download error, or the reconciler sees it superseded)."""
        ref = upload.ref
        return self.options.read(self._presigner.user_metadata(ref.bucket, ref.key, ref.version_id) or {})

    def _reject(self, upload: Upload, entry: Entry | None, exc: InvalidOptionsError) -> None:
        """Options no job may carry: the upload's error metadata, written here, and its claim
        closed, so a redelivery sends nothing either."""
        meta = rejected_metadata(upload, exc.code, str(exc))
        self._presigner.write(upload.output_bucket, upload.metadata_key, encode(meta), METADATA_CONTENT_TYPE)
        if self.ledger is not None and entry is not None:
            self.ledger.close(entry, ERROR, exc.code, str(exc))

    def _run_claimed(self, ledger: Ledger, upload: Upload, entry: Entry, options: JobOptions) -> str:
        """`/run` for a version this invocation claimed; its job id goes onto the claim."""
        try:
            job_id = self.submit_job(upload, options)
        except RunPodUnconfirmedError:
            # The job may exist: the claim stays, with no job id; the reconciler recovers it past
            # the deadline (dispatcher/reconciler.py), so this is not an error.
            return UNCONFIRMED
        except RunPodJobEndedError as exc:
            if not ledger.started(entry, exc.job_id, ended=exc.status):
                raise LedgerError(
                    f"ledger table {ledger.table!r}: {entry.id} changed before its job id was written"
                ) from exc
            raise
        except DispatchError:
            ledger.forget(entry)  # refused: the event's retry dispatches it again
            raise
        if not ledger.started(entry, job_id):
            raise LedgerError(
                f"ledger table {ledger.table!r}: {entry.id} changed before its job id was written"
            )
        return job_id

    def _existing_key(self, ref: ObjectRef) -> ObjectRef:
        """An EventBridge key that reads differently URL-decoded: the reading that exists in S3
        (the literal one unless only the decoded one is there)."""
        if ref.decoded_key is None:
            return ref
        literal = self._presigner.exists(ref.bucket, ref.key, ref.version_id)
        if literal is False and self._presigner.exists(ref.bucket, ref.decoded_key, ref.version_id):
            return replace(ref, key=ref.decoded_key, decoded_key=None)
        return replace(ref, decoded_key=None)

    def submit_job(
        self,
        upload: Upload,
        options: JobOptions | None = None,
        *,
        attempt: int | None = None,
        previous_error: str | None = None,
    ) -> str:
        """Presign and POST /run for one upload (the reconciler's retries too, with the run's
        number and the previous run's error code; their options are read again: a version's
        metadata never changes)."""
        job = build_job_input(
            upload,
            self._presigner,
            self.settings,
            options or self.job_options(upload),
            attempt=attempt,
            previous_error=previous_error,
        )
        return self._runpod.submit(job, self.policy(), self.settings.webhook_url)

    def policy(self) -> dict[str, int]:
        """The RunPod `policy` every job of this dispatcher is sent with (dispatcher/job.py)."""
        return job_policy(self.settings)


_dispatcher: Dispatcher | None = None


def _out_of_time(context: Any) -> bool:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining is not None and remaining() < DEADLINE_MARGIN_MS


def is_sqs(event: Any) -> bool:
    """Whether `event` is an SQS batch (S3 → SQS → Lambda) rather than an S3 notification."""
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list) or not records:
        return False
    return all(isinstance(r, dict) and r.get("eventSource") == "aws:sqs" for r in records)


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    global _dispatcher
    if _dispatcher is None:
        _dispatcher = Dispatcher.from_env(os.environ)
    if is_sqs(event):
        return _dispatcher.run_sqs(event, context)
    return _dispatcher.run(event, context)
