"""The reconciler: closes every open ledger entry, so no upload is left without an outcome.

A scheduled Lambda (template.yaml `ReconcilerFunction`, every few minutes) reads the open entries of
the ledger (dispatcher/ledger.py) and, for each:

1. **Outputs first.** It reads the metadata file. Metadata describing this version and written by
   one of its jobs closes the entry: `ok`, or `error` with the worker's code. The one exception is
   `engine_unavailable` (the model server died under the latest job): the transcript may be what
   kills it, so it is run again, alone on its worker's engine (the job input's `previous_error`),
   then closed as `engine_crashed` once `JOB_MAX_ATTEMPTS` runs are counted against it (a poison
   transcript ends; other uploads keep flowing). A death is counted only when the worker says the
   job was alone on the engine (`error.alone_on_engine`); one that happened next to other jobs is
   excused, at most `JOB_MAX_ATTEMPTS` times (the ledger's `uncharged`), so an innocent upload that
   shared a worker with a poison one is not blamed for it.
2. **Superseded.** When the key's current version is another (a newer upload), the entry closes as
   `superseded`: the newer version's job owns the outputs (the worker checks the same before any
   model work and before writing: worker/freshness.py).
3. **Past the deadline** (`policy.ttl` + `executionTimeout` + `RECONCILE_GRACE_S` after the last
   dispatch) without outputs, it asks RunPod `/status`:
   - 404: RunPod deleted the job (expired in the queue, or lost by its queue store) → run again;
     after the last attempt, error metadata `job_expired`.
   - no job id (the `/run` answer never came) → run again, then `job_expired`.
   - still `IN_QUEUE`/`IN_PROGRESS` past its own lifetime → cancelled and run again, then
     `worker_lost`.
   - any other state without metadata (`FAILED`, `CANCELLED`, `TIMED_OUT`, `COMPLETED`) → error
     metadata `job_failed` with what RunPod said, at once: RunPod already retried lost workers.

Each entry is re-read (a consistent read: the open index lags) and every change is conditional on
its revision; a retry is claimed in the ledger before its `/run`, so two passes at once, or a pass
that dies after `/run`, never send two jobs for one run. A retry that RunPod refuses is undone (RunPod
being down uses no attempts), and once RunPod fails in a pass the rest of the pass asks it nothing.

Who marks `ok`/`error`: this module, by observing the outputs (the worker has presigned URLs only,
and a webhook would need a public endpoint and is not sent for expired jobs). The error metadata it
writes has the worker's shape (`status: "error"`, `error.code`, `error.message`) plus `runpod`
(RunPod's answer) and `written_by: "reconciler"`. Every closed entry is announced
(dispatcher/notify.py). It never reads a transcript.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from dispatcher.app import Dispatcher
from dispatcher.errors import (
    DispatchError,
    RunPodAuthError,
    RunPodError,
    RunPodNotFoundError,
    RunPodUnavailableError,
    RunPodUnconfirmedError,
)
from dispatcher.ledger import CLOSED_STATES, ERROR, OK, SUPERSEDED, Entry, Ledger, deadline_after
from dispatcher.notify import Notifier
from dispatcher.presign import METADATA_CONTENT_TYPE, make_s3_client
from dispatcher.upload import Upload

log = logging.getLogger("reconciler")
log.setLevel(logging.INFO)

ENGINE_UNAVAILABLE = "engine_unavailable"  # worker/errors.py: the model server died under the job
ENGINE_CRASHED = "engine_crashed"
JOB_EXPIRED = "job_expired"
WORKER_LOST = "worker_lost"
JOB_FAILED = "job_failed"
# A job whose engine died while it waited for its seat behind another job (worker/isolation.py) is
# excused up to this many times JOB_MAX_ATTEMPTS: it keeps meeting other uploads' deaths, never its own.
WAITING_EXCUSES = 3
RUNPOD_ENDED = frozenset({"COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"})
LEDGER_ENTRY_INVALID = "ledger_entry_invalid"  # an item that names no object: nothing to write to
METADATA_SCHEMA = 1
# A pass stops taking entries when its Lambda invocation has less than this left (one entry's
# RunPod calls, retries included, fit in it); the next pass takes them, earliest deadline first.
RUN_MARGIN_MS = 60_000


class Reconciler:
    def __init__(
        self,
        dispatcher: Dispatcher,
        ledger: Ledger,
        s3: Any,
        notifier: Notifier | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._dispatcher = dispatcher
        self._settings = dispatcher.settings
        self._runpod = dispatcher.runpod
        self._ledger = ledger
        self._s3 = s3
        self._notifier = notifier
        self._clock = clock
        self._runpod_down: str | None = None  # why RunPod is not asked again in this pass

    @classmethod
    def from_env(cls, env: Any = os.environ, clock: Callable[[], float] | None = None) -> Reconciler:
        dispatcher = Dispatcher.from_env(env)
        s = dispatcher.settings
        if dispatcher.ledger is None:
            raise DispatchError("the reconciler needs LEDGER_TABLE")
        notifier = None
        if s.event_bus_name:
            from dispatcher.notify import make_events_client

            # Locally moto serves EventBridge on the DynamoDB endpoint; on AWS both are None.
            notifier = Notifier(s.event_bus_name, make_events_client(s.region, s.dynamodb_endpoint_url, env))
        s3 = make_s3_client(s.region, s.s3_endpoint_url, env)
        return cls(dispatcher, dispatcher.ledger, s3, notifier, clock=clock or time.time)

    def run(self, context: Any = None) -> dict[str, int]:
        """One pass over every open entry; returns how many ended in each way. With a Lambda
        `context`, entries not reached before the last RUN_MARGIN_MS are left for the next pass."""
        tally: dict[str, int] = {}
        self._runpod_down = None
        for seen in list(self._ledger.open_entries()):
            outcome = "deferred" if _out_of_time(context) else self._reconcile_one(seen)
            tally[outcome] = tally.get(outcome, 0) + 1
        log.info(json.dumps({"event": "reconciled", **tally}))
        return tally

    def _reconcile_one(self, seen: Entry) -> str:
        try:
            return self.reconcile(seen)
        except (RunPodUnavailableError, RunPodUnconfirmedError, RunPodAuthError) as exc:
            # RunPod is down or refuses the key: the rest of this pass asks it nothing (no minutes
            # of retries per entry), while closes from S3 go on; the entries wait for the next pass.
            self._runpod_down = str(exc)
            log.error(json.dumps({"event": "reconcile_failed", "entry": seen.id, "error": str(exc)}))
        except DispatchError as exc:
            # This entry stays open for the next pass; the others go on.
            log.error(json.dumps({"event": "reconcile_failed", "entry": seen.id, "error": str(exc)}))
        except Exception as exc:  # a bug or an item nobody foresaw must not stop the pass
            log.exception(json.dumps({"event": "reconcile_failed", "entry": seen.id, "error": repr(exc)}))
        return "failed"

    def reconcile(self, seen: Entry) -> str:
        """Close, retry or leave one open entry; returns what happened. It acts on the entry as it
        is now (a consistent read: the index may lag, another reconciler may have moved it on), and
        every change is conditional on that revision, so two passes at once act once."""
        entry = self._ledger.get_id(seen.id)
        if entry is None:
            return "closed_elsewhere"
        if entry.state in CLOSED_STATES:
            self._ledger.unlist(entry)  # closed, but listed as open (an item closed by hand)
            return "closed_elsewhere"
        try:
            return self._reconcile(entry)
        finally:
            seen.__dict__.update(entry.__dict__)  # the caller's view follows what was done

    def _reconcile(self, entry: Entry) -> str:
        if not self._complete(entry):
            return self._close(
                entry, ERROR, LEDGER_ENTRY_INVALID, f"ledger item {entry.id!r} names no object", None
            )
        meta = self._metadata(entry)
        if meta is not None and _describes(meta, entry):
            found = meta.get("error")
            error: dict[str, Any] = found if isinstance(found, dict) else {}
            if meta.get("status") == "ok":
                # Any job of this version may have written it (an unconfirmed /run's, a retried one's).
                return self._close(entry, OK, None, None, meta)
            if meta.get("status") == "error" and _from_latest_run(meta, entry):
                code, message = str(error.get("code") or "error"), str(error.get("message") or "")
                if code == ENGINE_UNAVAILABLE:
                    # A death counts against this upload only when it was alone on the engine (the
                    # worker says so: worker/isolation.py); else it is excused, at most
                    # JOB_MAX_ATTEMPTS times, and the retry runs alone.
                    runs = entry.attempts + entry.uncharged
                    return self._retry_or_fail(
                        entry,
                        ENGINE_CRASHED,
                        f"the model engine died on each of {runs} run(s) of this transcript "
                        f"({entry.attempts} counted: alone on the engine, or past the excused deaths "
                        f"next to other jobs); it is not tried again (last: {message})",
                        cancel=False,
                        charged=error.get("alone_on_engine") is not False,
                        # Never sent the engine anything (waiting for its seat): excused more often.
                        excuses=self._settings.job_max_attempts
                        * (WAITING_EXCUSES if error.get("reached_engine") is False else 1),
                    )
                return self._close(entry, ERROR, code, message, meta)
        replaced = self._superseded(entry)
        if replaced:
            return self._close(entry, SUPERSEDED, None, replaced, None)
        if self._clock() < entry.deadline:
            return "open"
        if self._runpod_down is not None:
            return "waiting"  # past its deadline, but RunPod cannot be asked in this pass
        if entry.job_id is None:
            return self._retry_or_fail(
                entry,
                JOB_EXPIRED,
                "RunPod never confirmed a job (the /run answer did not come) and no job wrote outputs",
            )
        try:
            answer = self._runpod.status(entry.job_id)
        except RunPodNotFoundError:
            return self._retry_or_fail(
                entry,
                JOB_EXPIRED,
                f"RunPod has no job {entry.job_id} (/status answered 404): it expired in the queue "
                "(policy.ttl) or was lost, and no worker wrote outputs",
                runpod={"id": entry.job_id, "http_status": 404},
            )
        state = answer.get("status")
        if state in ("IN_QUEUE", "IN_PROGRESS"):
            return self._retry_or_fail(
                entry,
                WORKER_LOST,
                f"RunPod job {entry.job_id} is still {state} past its deadline (its worker is lost or stuck)",
                runpod=answer,
            )
        output = answer.get("output")
        skipped = output.get("status") if isinstance(output, dict) else None
        if state == "COMPLETED" and skipped in ("superseded", "duplicate"):
            # The job wrote nothing because another version or job owned the outputs; that no longer
            # holds (the newer version was deleted, the other job's metadata is gone): run it again.
            return self._retry_or_fail(
                entry,
                JOB_FAILED,
                f"RunPod job {entry.job_id} ended as {skipped}, but this version is the key's current one "
                "and has no summary",
                runpod=answer,
                cancel=False,
            )
        said = answer.get("error") or output
        ended = (
            f"ended {state}"
            if state in RUNPOD_ENDED
            # Not a state RunPod documents: past the job's whole lifetime, it is ended all the same.
            else f"answered status {str(state)[:100]!r} past its deadline (not a state RunPod documents)"
        )
        return self._fail(
            entry,
            JOB_FAILED,
            f"RunPod job {entry.job_id} {ended} without writing metadata"
            + (f": {str(said)[:500]}" if said else ""),
            answer,
        )

    # ---- outcomes ------------------------------------------------------------------------------
    def _retry_or_fail(
        self,
        entry: Entry,
        code: str,
        message: str,
        *,
        runpod: Any = None,
        cancel: bool = True,
        charged: bool = True,
        excuses: int | None = None,
    ) -> str:
        limit = self._settings.job_max_attempts
        excused = not charged and entry.uncharged < (limit if excuses is None else excuses)
        if not excused and entry.attempts >= limit:
            return self._fail(entry, code, f"{message}; gave up after {entry.attempts} attempt(s)", runpod)
        before = replace(entry, job_ids=list(entry.job_ids))
        # The worker learns why the last run ended: after a dead engine it runs this one alone.
        previous = ENGINE_UNAVAILABLE if code == ENGINE_CRASHED else code
        run = entry.attempts + entry.uncharged + 1
        # Claimed before /run: a second reconciler (or this one crashing after /run) cannot send
        # another job for the same run; a claim whose job id never comes is retried past its deadline.
        deadline = deadline_after(self._clock(), self._settings)
        if not self._ledger.retried(entry, deadline=deadline, charged=not excused):
            return "raced"
        if cancel and before.job_id:
            # A stuck job must not also finish later; one already gone needs no stopping.
            with contextlib.suppress(RunPodError):
                self._runpod.cancel(before.job_id)
        try:
            job_id = self._dispatcher.submit_job(entry.upload, attempt=run, previous_error=previous)
        except RunPodUnconfirmedError:
            job_id = None
        except DispatchError:
            # Refused (RunPod down, a 4xx): the run did not happen, so it does not count.
            self._ledger.unretried(entry, before)
            raise
        if job_id is not None:
            self._ledger.started(entry, job_id)
        log.info(
            json.dumps(
                {
                    "event": "retried",
                    "entry": entry.id,
                    "reason": code,
                    "job_id": job_id,
                    "attempt": entry.attempts,
                    "excused": entry.uncharged,
                }
            )
        )
        return "retried"

    def _fail(self, entry: Entry, code: str, message: str, runpod: Any) -> str:
        if not self._ledger.hold(entry):
            return "raced"  # another reconciler moved the entry on: its decision stands
        meta = {
            "schema": METADATA_SCHEMA,
            "job_id": entry.job_id,
            "status": "error",
            "error": {"code": code, "message": message},
            "source": entry.ref.__dict__ | {"sequencer": None, "event_time": None},
            "attempts": entry.attempts,
            "job_ids": entry.job_ids,
            "runpod": runpod,
            "written_by": "reconciler",
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        meta["source"] = {k: v for k, v in meta["source"].items() if v is not None}
        body = json.dumps(meta, ensure_ascii=False, indent=2, default=str).encode("utf-8")
        self._s3_call(
            "put_object",
            Bucket=entry.output_bucket,
            Key=entry.metadata_key,
            Body=body,
            ContentType=METADATA_CONTENT_TYPE,
        )
        return self._close(entry, ERROR, code, message, meta)

    def _complete(self, entry: Entry) -> bool:
        """Fill what an odd item lacks from the settings; False when it names no object at all."""
        if not entry.bucket or not entry.key:
            return False
        if not entry.metadata_key or not entry.summary_key or not entry.output_bucket:
            placed = Upload.of(entry.ref, self._settings)
            if not entry.metadata_key or not entry.summary_key:
                entry.summary_key, entry.metadata_key = placed.summary_key, placed.metadata_key
            entry.output_bucket = entry.output_bucket or placed.output_bucket
        return True

    def _close(self, entry: Entry, state: str, code: str | None, message: str | None, meta: Any) -> str:
        if not self._ledger.close(entry, state, code, message):
            return "closed_elsewhere"
        log.info(json.dumps({"event": "closed", "entry": entry.id, "state": state, "code": code}))
        if self._notifier is not None:
            self._notifier.finished(entry, meta)
        return state if state != ERROR else f"error:{code}"

    # ---- S3 ------------------------------------------------------------------------------------
    def _metadata(self, entry: Entry) -> dict[str, Any] | None:
        try:
            answer = self._s3_call(
                "get_object", Bucket=entry.output_bucket, Key=entry.metadata_key, missing=True
            )
        except _MissingError:
            return None
        try:
            meta = json.loads(answer["Body"].read())
        except (ValueError, UnicodeDecodeError):
            return None
        return meta if isinstance(meta, dict) else None

    def _superseded(self, entry: Entry) -> str | None:
        """Why this entry's version is no longer the key's newest, or None."""
        try:
            head = self._s3_call("head_object", Bucket=entry.bucket, Key=entry.key, missing=True)
        except _MissingError:
            if not entry.version_id:
                return None  # deleted: the job's GET decides (and reports) what happens
            # A delete marker is the current version (the worker skips such a job as superseded
            # too, worker/freshness.py); if this version is gone as well, the GET reports it.
            try:
                self._s3_call(
                    "head_object",
                    Bucket=entry.bucket,
                    Key=entry.key,
                    VersionId=entry.version_id,
                    missing=True,
                )
            except _MissingError:
                return None
            return "the object was deleted after this version was uploaded"
        newer = "a newer version of the object was uploaded"
        if entry.version_id:
            return newer if head.get("VersionId") not in (None, "null", entry.version_id) else None
        etag = str(head.get("ETag", "")).strip('"')
        return newer if entry.etag and etag and etag != entry.etag else None

    def _s3_call(self, operation: str, *, missing: bool = False, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self._s3, operation)(**kwargs)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if missing and code in ("NoSuchKey", "NoSuchVersion", "404", "NotFound"):
                raise _MissingError from exc
            raise DispatchError(
                f"S3 {operation} s3://{kwargs.get('Bucket')}/{kwargs.get('Key')}: {exc}"
            ) from exc
        except BotoCoreError as exc:
            raise DispatchError(
                f"S3 {operation} s3://{kwargs.get('Bucket')}/{kwargs.get('Key')}: {exc}"
            ) from exc


def _out_of_time(context: Any) -> bool:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining is not None and remaining() < RUN_MARGIN_MS


class _MissingError(Exception):
    pass


def _describes(meta: dict[str, Any], entry: Entry) -> bool:
    """Whether a metadata file is about this entry's version (not an older or newer upload)."""
    found = meta.get("source")
    source: dict[str, Any] = found if isinstance(found, dict) else {}
    if entry.version_id:
        return bool(source.get("version_id") == entry.version_id)
    return source.get("key") == entry.key and (not entry.etag or source.get("etag") == entry.etag)


def _from_latest_run(meta: dict[str, Any], entry: Entry) -> bool:
    """Whether error metadata was written by the entry's latest run, not an earlier one (a cancelled
    job's `job_stopped`, the `engine_unavailable` a retry is already answering). A run whose `/run`
    answer never came has no job id: metadata from a job the entry does not know is that run's."""
    job = meta.get("job_id")
    if entry.job_id is not None:
        return bool(job == entry.job_id)
    return job not in entry.job_ids


_reconciler: Reconciler | None = None


def lambda_handler(event: Any, context: Any) -> dict[str, int]:
    """The scheduled entry point (template.yaml: ReconcilerFunction)."""
    global _reconciler
    if _reconciler is None:
        _reconciler = Reconciler.from_env(os.environ)
    return _reconciler.run(context)
