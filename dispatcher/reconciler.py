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
from datetime import UTC, datetime
from typing import Any

from dispatcher.app import Dispatcher
from dispatcher.errors import DispatchError, RunPodError, RunPodNotFoundError, RunPodUnconfirmedError
from dispatcher.ledger import ERROR, OK, SUPERSEDED, Entry, Ledger, deadline_after
from dispatcher.notify import Notifier
from dispatcher.presign import METADATA_CONTENT_TYPE, make_s3_client

log = logging.getLogger("reconciler")
log.setLevel(logging.INFO)

ENGINE_UNAVAILABLE = "engine_unavailable"  # worker/errors.py: the model server died under the job
ENGINE_CRASHED = "engine_crashed"
JOB_EXPIRED = "job_expired"
WORKER_LOST = "worker_lost"
JOB_FAILED = "job_failed"
METADATA_SCHEMA = 1


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

    def run(self) -> dict[str, int]:
        """One pass over every open entry; returns how many ended in each way."""
        tally: dict[str, int] = {}
        for entry in list(self._ledger.open_entries()):
            try:
                outcome = self.reconcile(entry)
            except DispatchError as exc:
                # This entry stays open for the next pass; the others go on.
                log.error(json.dumps({"event": "reconcile_failed", "entry": entry.id, "error": str(exc)}))
                outcome = "failed"
            tally[outcome] = tally.get(outcome, 0) + 1
        log.info(json.dumps({"event": "reconciled", **tally}))
        return tally

    def reconcile(self, entry: Entry) -> str:
        """Close, retry or leave one open entry; returns what happened."""
        meta = self._metadata(entry)
        if meta is not None and _describes(meta, entry):
            found = meta.get("error")
            error: dict[str, Any] = found if isinstance(found, dict) else {}
            if meta.get("status") == "ok":
                # Any job of this version may have written it (an unconfirmed /run's, a retried one's).
                return self._close(entry, OK, None, None, meta)
            if meta.get("status") == "error" and entry.job_id in (None, meta.get("job_id")):
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
                    )
                return self._close(entry, ERROR, code, message, meta)
        if self._superseded(entry):
            return self._close(entry, SUPERSEDED, None, "a newer version of the object was uploaded", None)
        if self._clock() < entry.deadline:
            return "open"
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
        state = str(answer.get("status"))
        if state in ("IN_QUEUE", "IN_PROGRESS"):
            return self._retry_or_fail(
                entry,
                WORKER_LOST,
                f"RunPod job {entry.job_id} is still {state} past its deadline (its worker is lost or stuck)",
                runpod=answer,
            )
        said = answer.get("error") or answer.get("output")
        return self._fail(
            entry,
            JOB_FAILED,
            f"RunPod job {entry.job_id} ended {state} without writing metadata"
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
    ) -> str:
        limit = self._settings.job_max_attempts
        excused = not charged and entry.uncharged < limit
        if not excused and entry.attempts >= limit:
            return self._fail(entry, code, f"{message}; gave up after {entry.attempts} attempt(s)", runpod)
        if cancel and entry.job_id:
            # A stuck job must not also finish later; one already gone needs no stopping.
            with contextlib.suppress(RunPodError):
                self._runpod.cancel(entry.job_id)
        # The worker learns why the last run ended: after a dead engine it runs this one alone.
        previous = ENGINE_UNAVAILABLE if code == ENGINE_CRASHED else code
        run = entry.attempts + entry.uncharged + 1
        try:
            job_id: str | None = self._dispatcher.submit_job(entry.ref, attempt=run, previous_error=previous)
        except RunPodUnconfirmedError:
            job_id = None
        deadline = deadline_after(self._clock(), self._settings)
        self._ledger.retried(entry, job_id, deadline=deadline, charged=not excused)
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
        body = json.dumps(meta, ensure_ascii=False, indent=2).encode("utf-8")
        self._s3_call(
            "put_object",
            Bucket=entry.output_bucket,
            Key=entry.metadata_key,
            Body=body,
            ContentType=METADATA_CONTENT_TYPE,
        )
        return self._close(entry, ERROR, code, message, meta)

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

    def _superseded(self, entry: Entry) -> bool:
        try:
            head = self._s3_call("head_object", Bucket=entry.bucket, Key=entry.key, missing=True)
        except _MissingError:
            return False  # deleted: the job's version-pinned GET decides (and reports) what happens
        if entry.version_id:
            return head.get("VersionId") not in (None, entry.version_id)
        etag = str(head.get("ETag", "")).strip('"')
        return bool(entry.etag and etag and etag != entry.etag)

    def _s3_call(self, operation: str, *, missing: bool = False, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self._s3, operation)(**kwargs)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if missing and code in ("NoSuchKey", "404", "NotFound"):
                raise _MissingError from exc
            raise DispatchError(
                f"S3 {operation} s3://{kwargs.get('Bucket')}/{kwargs.get('Key')}: {exc}"
            ) from exc
        except BotoCoreError as exc:
            raise DispatchError(
                f"S3 {operation} s3://{kwargs.get('Bucket')}/{kwargs.get('Key')}: {exc}"
            ) from exc


class _MissingError(Exception):
    pass


def _describes(meta: dict[str, Any], entry: Entry) -> bool:
    """Whether a metadata file is about this entry's version (not an older or newer upload)."""
    found = meta.get("source")
    source: dict[str, Any] = found if isinstance(found, dict) else {}
    if entry.version_id:
        return bool(source.get("version_id") == entry.version_id)
    return source.get("key") == entry.key and (not entry.etag or source.get("etag") == entry.etag)


_reconciler: Reconciler | None = None


def lambda_handler(event: Any, context: Any) -> dict[str, int]:
    """The scheduled entry point (template.yaml: ReconcilerFunction)."""
    global _reconciler
    if _reconciler is None:
        _reconciler = Reconciler.from_env(os.environ)
    return _reconciler.run()
