"""The reconciler: closes every open ledger entry, so no upload is left without an outcome.

A scheduled Lambda (template.yaml `ReconcilerFunction`, every few minutes) reads the open entries of
the ledger (dispatcher/ledger.py) and, for each, observes in this order and acts on the first answer
that decides, as the decision table in dispatcher/outcomes.py says:

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
   Not waiting for the deadline: a job that `/run` answered as already ended (`ended_at_run`: no
   worker ran it) is run again at the next pass, then `job_failed` after the last attempt.

Each entry is re-read (a consistent read: the open index lags) and every change is conditional on
its revision; a retry is claimed in the ledger before its `/run`, so two passes at once, or a pass
that dies after `/run`, never send two jobs for one run. A retry that RunPod refuses is undone (RunPod
being down uses no attempts).

Failures, one upload's or everyone's. The open index is read a page at a time (a page that fails is
read again, then the pass does what it read). A pass that fails on one entry counts it on the entry
(`failures`, revision-conditional; a retry resets it), and entries counted so are taken after the
others, so a few broken ones cannot hold the rest back pass after pass. A RunPod failure counts only
when RunPod answers in the same pass (another job's `/status`, or `/health`, asked once): when
`/health` fails too, RunPod is down, nothing is counted and the rest of the pass asks it nothing;
OUTAGE_STREAK failures in a row also stop the asking (an outage of `/status` alone). At
`RECONCILE_MAX_FAILURES` counted passes the entry is closed with `reconcile_failed` metadata naming
the last failure. Metadata that cannot be read (not JSON, not UTF-8, nested too deep, over 1 MB) is
no metadata.

Who marks `ok`/`error`: this module, by observing the outputs (the worker has presigned URLs only,
and a webhook would need a public endpoint and is not sent for expired jobs). The error metadata it
writes is the worker's document (contract/metadata.py): its keys, with the engine, model and timings
the upload's last worker metadata gave (null / `{}` when none did), plus `runpod` (RunPod's answer),
`attempts`, `job_ids` and `written_by: "reconciler"`; strict JSON, whatever RunPod answered. Every
closed entry is announced (dispatcher/notify.py). It never reads a transcript.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import Any, cast

from contract.metadata import RECONCILER_CODES, ReconcilerCode, encode
from dispatcher.app import Dispatcher
from dispatcher.errors import (
    DispatchError,
    LedgerError,
    RunPodAuthError,
    RunPodError,
    RunPodJobEndedError,
    RunPodNotFoundError,
    RunPodUnconfirmedError,
)
from dispatcher.ledger import CLOSED_STATES, ERROR, Entry, Ledger, deadline_after
from dispatcher.notify import Notifier
from dispatcher.outcomes import (
    DECISIONS,
    ENGINE_CRASHED,
    ENGINE_UNAVAILABLE,
    OPEN,
    WAITING,
    Decision,
    Observation,
    Seen,
    error_metadata,
)
from dispatcher.outputs import Outputs, describes, from_latest_run
from dispatcher.presign import make_s3_client
from dispatcher.upload import Upload

log = logging.getLogger("reconciler")
log.setLevel(logging.INFO)

RUNPOD_ENDED = frozenset({"COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"})
# A pass stops taking entries when its Lambda invocation has less than this left (one entry's
# RunPod calls, retries included, fit in it); the next pass takes them, earliest deadline first.
RUN_MARGIN_MS = 60_000
# The open index is read this many entries at a time; a page that fails is read this many times.
PAGE_SIZE, PAGE_READS = 100, 3
# Entries failing in a row after which a pass asks RunPod no more (an outage of /status alone).
OUTAGE_STREAK = 3


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
        self._outputs = Outputs(s3)
        self._notifier = notifier
        self._clock = clock
        self._runpod_down: str | None = None  # why RunPod is not asked again in this pass
        self._runpod_answered = False  # RunPod answered something in this pass: it is up
        self._health_asked = False
        self._streak = 0  # entries failing in a row in this pass
        self.page_size, self.page_pause_s = PAGE_SIZE, 1.0

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
        """One pass over every open entry, a page of the index at a time; returns how many ended in
        each way. Entries that failed in earlier passes are taken after the others. With a Lambda
        `context`, entries not reached before the last RUN_MARGIN_MS are left for the next pass."""
        tally: dict[str, int] = {}
        self._runpod_down, self._runpod_answered, self._health_asked, self._streak = None, False, False, 0
        failing: list[Entry] = []
        for seen in self._open_entries(tally):
            if seen.failures:
                failing.append(seen)
                continue
            outcome = "deferred" if _out_of_time(context) else self._reconcile_one(seen)
            tally[outcome] = tally.get(outcome, 0) + 1
        for seen in failing:
            outcome = "deferred" if _out_of_time(context) else self._reconcile_one(seen)
            tally[outcome] = tally.get(outcome, 0) + 1
        log.info(json.dumps({"event": "reconciled", **tally}))
        return tally

    def _open_entries(self, tally: dict[str, int]) -> Iterator[Entry]:
        """The open index page by page; a page that fails (throttled past botocore's own retries) is
        read again after a pause, then the reading ends and the entries read so far are done."""
        start: Any = None
        while True:
            for attempt in range(1, PAGE_READS + 1):
                try:
                    page, start = self._ledger.open_page(start, self.page_size)
                    break
                except LedgerError as exc:
                    log.error(
                        json.dumps({"event": "index_page_failed", "attempt": attempt, "error": str(exc)})
                    )
                    if attempt == PAGE_READS:
                        tally["index_unread"] = 1  # the next pass reads it again
                        return
                    time.sleep(self.page_pause_s * attempt)
            yield from page
            if start is None:
                return

    def _reconcile_one(self, seen: Entry) -> str:
        try:
            return self.reconcile(seen)
        except Exception as exc:  # reading the entry failed (DynamoDB), or a bug: the pass goes on
            log.exception(json.dumps({"event": "reconcile_failed", "entry": seen.id, "error": repr(exc)}))
        return "failed"

    def reconcile(self, seen: Entry) -> str:
        """Close, retry or leave one open entry; returns what happened. It acts on the entry as it
        is now (a consistent read: the index may lag, another reconciler may have moved it on), and
        every change is conditional on that revision, so two passes at once act once. A failure on
        this entry is counted on it (`_failed`), unless it is RunPod's outage."""
        entry = self._ledger.get_id(seen.id)
        if entry is None:
            return "closed_elsewhere"
        if entry.state in CLOSED_STATES:
            self._ledger.unlist(entry)  # closed, but listed as open (an item closed by hand)
            return "closed_elsewhere"
        try:
            outcome = self._reconcile(entry)
            self._streak = 0
            return outcome
        except RunPodAuthError as exc:
            # A wrong key is nobody's upload's fault: the rest of the pass asks RunPod nothing.
            self._runpod_down = str(exc)
            log.error(json.dumps({"event": "reconcile_failed", "entry": entry.id, "error": str(exc)}))
            return "failed"
        except RunPodError as exc:
            return self._runpod_failed(entry, exc)
        except Exception as exc:  # S3 for this upload, a bug, an item nobody foresaw
            log.exception(json.dumps({"event": "reconcile_failed", "entry": entry.id, "error": repr(exc)}))
            return self._failed(entry, str(exc) if isinstance(exc, DispatchError) else repr(exc))
        finally:
            seen.__dict__.update(entry.__dict__)  # the caller's view follows what was done

    def _runpod_failed(self, entry: Entry, exc: RunPodError) -> str:
        """RunPod failed on this entry's job. It counts against the entry only when RunPod answers
        in this pass (another job's /status, or /health asked once); otherwise RunPod is down and
        the rest of the pass asks it nothing. OUTAGE_STREAK failures in a row also stop the asking
        (no minutes of retries per entry while /status fails for every job)."""
        log.error(json.dumps({"event": "reconcile_failed", "entry": entry.id, "error": str(exc)}))
        self._streak += 1
        if not self._runpod_answered and not self._health_asked:
            self._health_asked = True
            try:
                self._runpod.health()
                self._runpod_answered = True
            except RunPodError as health:
                self._runpod_down = f"{exc}; /health failed too: {health}"
        if not self._runpod_answered:
            return "failed"  # an outage: nobody's fault, nothing counted
        if self._streak >= OUTAGE_STREAK:
            self._runpod_down = f"RunPod failed on {self._streak} uploads in a row; last: {exc}"
        return self._failed(entry, str(exc))

    def _failed(self, entry: Entry, reason: str) -> str:
        """Count a pass that failed on this entry; at RECONCILE_MAX_FAILURES in a row, close it with
        `reconcile_failed` metadata naming the last reason."""
        if not self._ledger.failed(entry, reason):
            return "raced"
        limit = self._settings.reconcile_max_failures
        if entry.failures < limit:
            return "failed"
        message = (
            f"the reconciler could not learn this upload's outcome in {entry.failures} passes in a row, "
            f"each failing on this upload alone (RunPod answering others); last: {reason[:1000]}"
        )
        seen = Observation(Seen.FAILING, message)
        try:
            return self._fail(entry, DECISIONS[Seen.FAILING].code, message, seen)
        except DispatchError as exc:  # its metadata could not be written either: the next pass tries
            log.error(json.dumps({"event": "reconcile_failed", "entry": entry.id, "error": str(exc)}))
            return "failed"

    def _reconcile(self, entry: Entry) -> str:
        seen = self._observe(entry)
        decision = DECISIONS[seen.kind]
        if decision.outcome in (OPEN, WAITING):
            return decision.outcome
        if decision.retry:
            return self._retry_or_fail(entry, decision, seen)
        if decision.code in RECONCILER_CODES:
            return self._fail(entry, decision.code, seen.message, seen)
        return self._close(entry, decision.outcome, decision.code or seen.code, seen.message, seen.meta)

    def _observe(self, entry: Entry) -> Observation:
        """The first thing that decides the entry's fate, asked in the order of dispatcher/outcomes.py."""
        if not self._complete(entry):
            return Observation(Seen.NAMES_NO_OBJECT, f"ledger item {entry.id!r} names no object")
        meta = self._outputs.metadata(entry)
        ours = meta if meta is not None and describes(meta, entry) else None
        if ours is not None and ours.get("status") == "ok":
            return Observation(Seen.OK_METADATA, meta=ours, latest=True)
        if ours is not None and ours.get("status") == "error" and from_latest_run(ours, entry):
            found = ours.get("error")
            error: dict[str, Any] = found if isinstance(found, dict) else {}
            code, message = str(error.get("code") or "error"), str(error.get("message") or "")
            if code != ENGINE_UNAVAILABLE:
                return Observation(Seen.WORKER_ERROR, message, code=code, meta=ours, latest=True)
            runs = entry.attempts + entry.uncharged
            return Observation(
                # Whether the worker says the job was alone on the engine (worker/isolation.py), and
                # whether it had sent the engine anything at all.
                Seen.ENGINE_DIED_ALONE
                if error.get("alone_on_engine") is not False
                else Seen.ENGINE_DIED_WAITING
                if error.get("reached_engine") is False
                else Seen.ENGINE_DIED_BESIDE_OTHERS,
                f"the model engine died on each of {runs} run(s) of this transcript "
                f"({entry.attempts} counted: alone on the engine, or past the excused deaths "
                f"next to other jobs); it is not tried again (last: {message})",
                meta=ours,
                latest=True,
            )
        replaced = self._outputs.superseded(entry)
        if replaced:
            return Observation(Seen.SUPERSEDED, replaced)
        if entry.ended_at_run and entry.job_id:
            # /run said the job had ended already: due now, whatever the clock (dispatcher/app.py).
            if self._runpod_down is not None:
                return Observation(Seen.RUNPOD_DOWN)
            return Observation(
                Seen.ENDED_AT_RUN,
                f"RunPod answered /run with job {entry.job_id} already {entry.ended_at_run[:40]}: "
                "no worker ran it",
                runpod={"id": entry.job_id, "status": entry.ended_at_run},
                meta=ours,
            )
        if self._clock() < entry.deadline:
            return Observation(Seen.BEFORE_DEADLINE)
        if self._runpod_down is not None:
            return Observation(Seen.RUNPOD_DOWN)
        if entry.job_id is None:
            return Observation(
                Seen.NEVER_CONFIRMED,
                "RunPod never confirmed a job (the /run answer did not come) and no job wrote outputs",
                meta=ours,
            )
        return self._ask_runpod(entry, entry.job_id, ours)

    def _ask_runpod(self, entry: Entry, job_id: str, ours: dict[str, Any] | None) -> Observation:
        try:
            answer = self._runpod.status(job_id)
        except RunPodNotFoundError:
            self._runpod_answered = True
            return Observation(
                Seen.UNKNOWN_TO_RUNPOD,
                f"RunPod has no job {job_id} (/status answered 404): it expired in the queue "
                "(policy.ttl) or was lost, and no worker wrote outputs",
                runpod={"id": job_id, "http_status": 404},
                meta=ours,
            )
        self._runpod_answered = True
        state = answer.get("status")
        if state in ("IN_QUEUE", "IN_PROGRESS"):
            return Observation(
                Seen.STILL_RUNNING,
                f"RunPod job {job_id} is still {state} past its deadline (its worker is lost or stuck)",
                runpod=answer,
                meta=ours,
            )
        output = answer.get("output")
        skipped = output.get("status") if isinstance(output, dict) else None
        if state == "COMPLETED" and skipped in ("superseded", "duplicate"):
            # The job wrote nothing because another version or job owned the outputs; that no longer
            # holds (the newer version was deleted, the other job's metadata is gone).
            return Observation(
                Seen.STOOD_ASIDE,
                f"RunPod job {job_id} ended as {skipped}, but this version is the key's current one "
                "and has no summary",
                runpod=answer,
                meta=ours,
            )
        said = answer.get("error") or output
        ended = (
            f"ended {state}"
            if state in RUNPOD_ENDED
            # Not a state RunPod documents: past the job's whole lifetime, it is ended all the same.
            else f"answered status {str(state)[:100]!r} past its deadline (not a state RunPod documents)"
        )
        return Observation(
            Seen.ENDED_WITHOUT_METADATA,
            f"RunPod job {job_id} {ended} without writing metadata"
            + (f": {str(said)[:500]}" if said else ""),
            runpod=answer,
            meta=ours,
        )

    # ---- outcomes ------------------------------------------------------------------------------
    def _retry_or_fail(self, entry: Entry, decision: Decision, seen: Observation) -> str:
        assert decision.code is not None  # every retried row names the code it ends with
        limit = self._settings.job_max_attempts
        excused = not decision.charged and entry.uncharged < limit * decision.excuses
        if not excused and entry.attempts >= limit:
            message = f"{seen.message}; gave up after {entry.attempts} attempt(s)"
            return self._fail(entry, decision.code, message, seen)
        before = replace(entry, job_ids=list(entry.job_ids))
        # The worker learns why the last run ended: after a dead engine it runs this one alone.
        previous = ENGINE_UNAVAILABLE if decision.code == ENGINE_CRASHED else decision.code
        run = entry.attempts + entry.uncharged + 1
        # Claimed before /run: a second reconciler (or this one crashing after /run) cannot send
        # another job for the same run; a claim whose job id never comes is retried past its deadline.
        deadline = deadline_after(self._clock(), self._settings)
        # The upload's options (one HEAD) before the claim: the claimed run's /run follows at once.
        options = self._dispatcher.job_options(entry.upload)
        if not self._ledger.retried(entry, deadline=deadline, charged=not excused):
            return "raced"
        if decision.cancel and before.job_id:
            # A stuck job must not also finish later; one already gone needs no stopping.
            with contextlib.suppress(RunPodError):
                self._runpod.cancel(before.job_id)
        try:
            job_id = self._dispatcher.submit_job(entry.upload, options, attempt=run, previous_error=previous)
        except RunPodUnconfirmedError:
            job_id = None
        except RunPodJobEndedError as exc:
            # The run happened and ended at once: it counts, and the entry is due again now.
            self._ledger.started(entry, exc.job_id, ended=exc.status, now=self._clock())
            log.error(json.dumps({"event": "ended_at_run", "entry": entry.id, "error": str(exc)}))
            return "retried"
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
                    "reason": decision.code,
                    "job_id": job_id,
                    "attempt": entry.attempts,
                    "excused": entry.uncharged,
                }
            )
        )
        return "retried"

    def _fail(self, entry: Entry, code: str | None, message: str | None, seen: Observation) -> str:
        """Writes the error metadata of a job that never wrote its own, then closes the entry."""
        if not self._ledger.hold(entry):
            return "raced"  # another reconciler moved the entry on: its decision stands
        meta = error_metadata(entry, cast(ReconcilerCode, code), message or "", seen)
        self._outputs.put_metadata(entry, encode(meta))
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

    def _close(
        self, entry: Entry, state: str, code: str | None, message: str | None, meta: Mapping[str, Any] | None
    ) -> str:
        if not self._ledger.close(entry, state, code, message):
            return "closed_elsewhere"
        log.info(json.dumps({"event": "closed", "entry": entry.id, "state": state, "code": code}))
        if self._notifier is not None:
            self._notifier.finished(entry, meta)
        return state if state != ERROR else f"error:{code}"


def _out_of_time(context: Any) -> bool:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining is not None and remaining() < RUN_MARGIN_MS


_reconciler: Reconciler | None = None


def lambda_handler(event: Any, context: Any) -> dict[str, int]:
    """The scheduled entry point (template.yaml: ReconcilerFunction)."""
    global _reconciler
    if _reconciler is None:
        _reconciler = Reconciler.from_env(os.environ)
    return _reconciler.run(context)
