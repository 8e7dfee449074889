"""What the reconciler does about what it saw: one row per observation (dispatcher/reconciler.py).

The reconciler asks in a fixed order, cheapest and most certain first — the outputs (the metadata of
this version), the key's current version, the clock, then RunPod — and stops at the first answer
that decides; `Seen` names each answer. `DECISIONS` says, for each, how the entry ends: closed (and
with which code), left open, or run again while attempts last — charged against
`JOB_MAX_ATTEMPTS`, or excused (an engine death beside other jobs) up to `excuses` times that many.
After the last attempt a retried observation closes as `error` with its code, and the reconciler
writes that error metadata itself: `error_metadata` builds the document (contract/metadata.py) from
the entry and what was observed. No I/O here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, cast

from contract.metadata import SCHEMA_VERSION, DispatcherCode, Metadata, ReconcilerCode, Source, Timings
from dispatcher.ledger import ERROR, OK, SUPERSEDED, Entry
from dispatcher.upload import Upload

OPEN = "open"  # not yet past the job's deadline: nothing to do
WAITING = "waiting"  # past it, but RunPod already failed in this pass: asked in the next one
LEDGER_ENTRY_INVALID = "ledger_entry_invalid"  # an item that names no object: nothing to write to
ENGINE_UNAVAILABLE = "engine_unavailable"  # worker/errors.py: the model server died under the job
ENGINE_CRASHED = "engine_crashed"
JOB_EXPIRED = "job_expired"
WORKER_LOST = "worker_lost"
JOB_FAILED = "job_failed"
RECONCILE_FAILED = "reconcile_failed"
# A job whose engine died while it waited for its seat behind another job (worker/isolation.py) is
# excused up to this many times JOB_MAX_ATTEMPTS: it keeps meeting other uploads' deaths, never its own.
WAITING_EXCUSES = 3


class Seen(StrEnum):
    NAMES_NO_OBJECT = "a ledger item without bucket or key"
    OK_METADATA = "ok metadata of this version"
    WORKER_ERROR = "the latest run's error metadata (not engine_unavailable)"
    ENGINE_DIED_ALONE = "engine_unavailable, alone on the engine (or not saying)"
    ENGINE_DIED_BESIDE_OTHERS = "engine_unavailable, other jobs on the engine"
    ENGINE_DIED_WAITING = "engine_unavailable before the job reached the engine"
    SUPERSEDED = "the key's current version is another"
    ENDED_AT_RUN = "/run answered the latest job already FAILED, CANCELLED or TIMED_OUT"
    BEFORE_DEADLINE = "no outputs, before the job's deadline"
    RUNPOD_DOWN = "past the deadline, RunPod failed earlier in this pass"
    NEVER_CONFIRMED = "past the deadline, /run never answered (no job id)"
    UNKNOWN_TO_RUNPOD = "past the deadline, /status answers 404"
    STILL_RUNNING = "past the deadline, still IN_QUEUE or IN_PROGRESS"
    STOOD_ASIDE = "COMPLETED as superseded or duplicate, but this version has no summary"
    ENDED_WITHOUT_METADATA = "any other RunPod state, no metadata"
    FAILING = "RECONCILE_MAX_FAILURES passes in a row failed on this entry while RunPod answered others"


@dataclass(frozen=True)
class Decision:
    outcome: str  # the ledger state the entry closes in (OK, ERROR, SUPERSEDED), or OPEN / WAITING
    code: str | None = None  # the error code it closes with; None with ERROR: the worker's own
    retry: bool = False  # run again while attempts last, then close as ERROR with `code`
    charged: bool = True  # a retry counts against JOB_MAX_ATTEMPTS ...
    excuses: int = 1  # ... else it is excused, up to this many times JOB_MAX_ATTEMPTS
    cancel: bool = False  # stop the previous job before the retry (it may still be running)


DECISIONS: dict[Seen, Decision] = {
    Seen.NAMES_NO_OBJECT: Decision(ERROR, LEDGER_ENTRY_INVALID),
    # Any job of this version may have written it (an unconfirmed /run's, a retried one's).
    Seen.OK_METADATA: Decision(OK),
    Seen.WORKER_ERROR: Decision(ERROR),
    # The transcript may be what kills the engine: run again alone (the job input's previous_error),
    # counted only when it was alone, so a poison transcript ends and its neighbours are not blamed.
    Seen.ENGINE_DIED_ALONE: Decision(ERROR, ENGINE_CRASHED, retry=True),
    Seen.ENGINE_DIED_BESIDE_OTHERS: Decision(ERROR, ENGINE_CRASHED, retry=True, charged=False),
    Seen.ENGINE_DIED_WAITING: Decision(
        ERROR, ENGINE_CRASHED, retry=True, charged=False, excuses=WAITING_EXCUSES
    ),
    # The newer version's job owns the outputs (the worker checks the same: worker/freshness.py).
    Seen.SUPERSEDED: Decision(SUPERSEDED),
    # No worker ran it: run again now (not past the job's whole lifetime), then job_failed.
    Seen.ENDED_AT_RUN: Decision(ERROR, JOB_FAILED, retry=True),
    Seen.BEFORE_DEADLINE: Decision(OPEN),
    Seen.RUNPOD_DOWN: Decision(WAITING),
    Seen.NEVER_CONFIRMED: Decision(ERROR, JOB_EXPIRED, retry=True, cancel=True),
    # RunPod deleted the job: expired in the queue (policy.ttl) or lost by its queue store.
    Seen.UNKNOWN_TO_RUNPOD: Decision(ERROR, JOB_EXPIRED, retry=True, cancel=True),
    # Past its own lifetime: its worker is lost or stuck; a stuck job must not also finish later.
    Seen.STILL_RUNNING: Decision(ERROR, WORKER_LOST, retry=True, cancel=True),
    # It stood aside for another version or job that no longer owns the outputs: run it again.
    Seen.STOOD_ASIDE: Decision(ERROR, JOB_FAILED, retry=True),
    # RunPod already retried lost workers: a job that ended without metadata ends the upload.
    Seen.ENDED_WITHOUT_METADATA: Decision(ERROR, JOB_FAILED),
    # Its /status answer broken (an error, undecodable), its outputs unreadable, a bug: its fate
    # cannot be learnt, and waiting longer would leave it open for ever.
    Seen.FAILING: Decision(ERROR, RECONCILE_FAILED),
}


@dataclass(frozen=True)
class Observation:
    kind: Seen
    message: str | None = None
    code: str | None = None  # WORKER_ERROR: the worker's own code
    # Worker metadata of this version (the answer for OK_METADATA and WORKER_ERROR; otherwise an
    # earlier run's, whose engine facts the reconciler's own metadata repeats); `latest`: its run
    # is the entry's latest, so its timings are this run's.
    meta: Mapping[str, Any] | None = None
    latest: bool = False
    runpod: Any = None  # RunPod's /status answer, when it was asked


def error_metadata(entry: Entry, code: ReconcilerCode, message: str, seen: Observation) -> Metadata:
    """The metadata document of an upload whose job never wrote its own: the worker's keys, with
    what the last worker metadata of this upload said (engine, model, timings) or null / {} when no
    worker said, plus the reconciler's own (attempts, job ids, RunPod's answer)."""
    meta = seen.meta or {}
    source: Source = {"bucket": entry.bucket, "key": entry.key}
    if entry.version_id is not None:
        source["version_id"] = entry.version_id
    if entry.etag is not None:
        source["etag"] = entry.etag
    if entry.size is not None:
        source["size"] = entry.size
    extractive = meta.get("extractive")
    return {
        "schema": SCHEMA_VERSION,
        "job_id": entry.job_id,
        "status": "error",
        "error": {"code": code, "message": message},
        "engine": _text(meta.get("engine")),
        "model": _text(meta.get("model")),
        "extractive": extractive if isinstance(extractive, bool) else None,
        "max_model_len": _count(meta.get("max_model_len")),
        "source": source,
        "timings": _timings(meta.get("timings")) if seen.latest else {},
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        # No worker ran this job to its end (or none said what it used): nothing is priced here.
        "cost": None,
        "written_by": "reconciler",
        "attempts": entry.attempts,
        "job_ids": entry.job_ids,
        "runpod": seen.runpod,
    }


def rejected_metadata(upload: Upload, code: DispatcherCode, message: str) -> Metadata:
    """The metadata document of an upload the dispatcher sent no job for (its options are outside
    the vocabulary): no engine ran, so the engine's keys are null."""
    ref = upload.ref
    source: Source = {"bucket": ref.bucket, "key": ref.key}
    if ref.version_id is not None:
        source["version_id"] = ref.version_id
    if ref.etag is not None:
        source["etag"] = ref.etag
    if ref.size is not None:
        source["size"] = ref.size
    return {
        "schema": SCHEMA_VERSION,
        "job_id": None,
        "status": "error",
        "error": {"code": code, "message": message},
        "engine": None,
        "model": None,
        "extractive": None,
        "max_model_len": None,
        "source": source,
        "timings": {},
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cost": None,  # no job ran
        "written_by": "dispatcher",
    }


# Metadata read back from S3 is untrusted (a worker of another version, a hand-made file): only
# values of the declared types are repeated.
def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _timings(value: Any) -> Timings:
    stages = Timings.__optional_keys__ | Timings.__required_keys__
    if not isinstance(value, dict):
        return {}
    kept = {
        k: v
        for k, v in value.items()
        if k in stages and isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    }
    return cast(Timings, kept)
