"""The reconciler's decision table (dispatcher/outcomes.py), walked row by row on real pieces.

Each row's observation is arranged for a fresh upload (moto, the RunPod emulator, the real JobRunner
writing the worker's metadata where a worker would), and the reconciler must do what the row says:
close it so, leave it, or retry — counting the run against the attempts or excusing it. Rows that
retry are walked twice: with attempts left, and with attempts (and excuses) spent, when the
reconciler writes the error metadata itself, which must validate against the published schema.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from dispatcher.ledger import ERROR, Entry
from dispatcher.outcomes import DECISIONS, OPEN, WAITING, Seen
from dispatcher.reconciler import Reconciler
from tests.support.fakes import RaisingEngine
from tests.support.jobs import run_job
from tests.support.metadata_schema import assert_valid
from tests.support.reconcile_stack import Stack, later
from worker.engines import Engine, ExtractiveEngine
from worker.errors import EngineError, EngineUnavailableError


def run_worker(stack: Stack, entry: Entry, engine: Engine) -> None:
    """The real worker runs the dispatched job (its presigned URLs point at moto)."""
    assert entry.job_id is not None
    raw = stack.emulator.jobs[entry.job_id].input

    # An engine_unavailable is re-raised so the worker stops taking jobs; its metadata is written.
    run_job(raw, engine=engine, job_id=entry.job_id, engine_may_die=True)


def engine_died(alone: bool, reached: bool) -> Callable[[Stack, Entry], None]:
    """The worker's metadata after a death next to other jobs: what worker/report.py writes then."""

    def arrange(stack: Stack, entry: Entry) -> None:
        error = {
            "code": "engine_unavailable",
            "message": "the model server exited",
            "alone_on_engine": alone,
            "reached_engine": reached,
        }
        source = {"bucket": stack.bucket, "key": entry.key, "version_id": entry.version_id}
        meta = {"job_id": entry.job_id, "status": "error", "error": error, "source": source}
        stack.s3.put_object(Bucket=stack.bucket, Key=entry.metadata_key, Body=_json(meta))

    return arrange


def _json(value: Any) -> bytes:
    import json

    return json.dumps(value).encode()


def take(status: str | None = None, output: Any = None) -> Callable[[Stack, Entry], None]:
    """A worker takes the job (and, with a status, RunPod ends it so) without writing metadata."""

    def arrange(stack: Stack, entry: Entry) -> None:
        (taken,) = stack.emulator.take("ghost-worker", 1)
        if output is not None:
            stack.emulator.finish(taken.id, {"output": output})
        elif status is not None:
            taken.status, taken.finished = status, time.time()

    return arrange


def lost_by_runpod(stack: Stack, entry: Entry) -> None:
    stack.emulator.jobs.pop(entry.job_id or "")


def failing(stack: Stack, entry: Entry) -> None:
    """Its /status answer broken while RunPod answers (/health), after all but one counted failure."""
    stack.emulator.faults.job_status[entry.job_id or ""] = (500, b'{"error": "internal"}')
    limit = stack.dispatcher.settings.reconcile_max_failures
    stack.ledger._db.update_item(
        TableName=stack.ledger.table,
        Key={"id": {"S": entry.id}},
        UpdateExpression="SET failures = :n",
        ExpressionAttributeValues={":n": {"N": str(limit - 1)}},
    )


def newer_upload(stack: Stack, entry: Entry) -> None:
    stack.upload(entry.key, b"Alice: the newer version.\n")


def nothing(stack: Stack, entry: Entry) -> None:
    return None


ARRANGE: dict[Seen, Callable[[Stack, Entry], None]] = {
    Seen.OK_METADATA: lambda stack, entry: run_worker(stack, entry, ExtractiveEngine()),
    Seen.WORKER_ERROR: lambda stack, entry: run_worker(stack, entry, RaisingEngine(EngineError("HTTP 500"))),
    Seen.ENGINE_DIED_ALONE: lambda stack, entry: run_worker(
        stack, entry, RaisingEngine(EngineUnavailableError("the model server exited"))
    ),
    Seen.ENGINE_DIED_BESIDE_OTHERS: engine_died(alone=False, reached=True),
    Seen.ENGINE_DIED_WAITING: engine_died(alone=False, reached=False),
    Seen.SUPERSEDED: newer_upload,
    Seen.BEFORE_DEADLINE: nothing,
    Seen.NEVER_CONFIRMED: nothing,  # dispatched while /run answers too late (dispatch below)
    Seen.ENDED_AT_RUN: nothing,  # dispatched while /run answers the job FAILED (dispatch below)
    Seen.UNKNOWN_TO_RUNPOD: lost_by_runpod,
    Seen.STILL_RUNNING: take(),
    Seen.STOOD_ASIDE: take(output={"status": "superseded", "reason": "replaced"}),
    Seen.ENDED_WITHOUT_METADATA: take("FAILED"),
    Seen.FAILING: failing,
}


def dispatch(stack: Stack, seen: Seen, key: str) -> Entry:
    if seen is Seen.ENDED_AT_RUN:
        stack.emulator.faults.run_ended.append("FAILED")
        assert stack.dispatcher.handle(stack.upload(key))["ended"]
        return stack.entry(key)
    if seen is not Seen.NEVER_CONFIRMED:
        return stack.dispatch(key)
    stack.emulator.faults.run_delay_s = stack.past_timeout_s  # the /run answer never comes
    try:
        return stack.dispatch(key)
    finally:
        stack.emulator.faults.run_delay_s = 0


def reconciler(stack: Stack, seen: Seen, attempts: int) -> Reconciler:
    # Before the deadline: a clock an hour behind (a busy machine may take seconds to get here).
    clock = later(-3600) if seen is Seen.BEFORE_DEADLINE else later()
    return stack.reconciler(clock=clock, JOB_MAX_ATTEMPTS=str(attempts))


def excuse(stack: Stack, entry: Entry, times: int) -> None:
    """Uncharged runs already used up: the next excusable death is counted."""
    stack.ledger._db.update_item(
        TableName=stack.ledger.table,
        Key={"id": {"S": entry.id}},
        UpdateExpression="SET uncharged = :n",
        ExpressionAttributeValues={":n": {"N": str(times)}},
    )


def test_every_row_is_walked() -> None:
    assert set(ARRANGE) | {Seen.NAMES_NO_OBJECT, Seen.RUNPOD_DOWN} == set(Seen) == set(DECISIONS)


@pytest.mark.parametrize("seen", list(ARRANGE), ids=lambda s: s.name.lower())
def test_each_observation_ends_as_its_row_says(stack: Stack, seen: Seen) -> None:
    decision = DECISIONS[seen]
    entry = dispatch(stack, seen, f"walk/{seen.name.lower()}.txt")
    ARRANGE[seen](stack, entry)
    runs = (entry.attempts, entry.uncharged)
    outcome = reconciler(stack, seen, attempts=3).reconcile(entry)  # the entry follows what it does
    after = stack.entry(entry.key)
    if decision.outcome in (OPEN, WAITING):
        assert outcome == decision.outcome and after.state == "dispatched"
    elif decision.retry:
        assert outcome == "retried"
        charged = (after.attempts - runs[0], after.uncharged - runs[1])
        assert charged == ((1, 0) if decision.charged else (0, 1))
        assert stack.emulator.jobs[after.job_id or ""].input["attempt"] == 2
    elif decision.outcome == ERROR:
        code = decision.code or "engine_failed"  # WORKER_ERROR: the worker's own code stands
        assert outcome == f"error:{code}" and after.code == code
    else:
        assert outcome == decision.outcome == after.state


@pytest.mark.parametrize("seen", [s for s in ARRANGE if DECISIONS[s].retry], ids=lambda s: s.name.lower())
def test_each_retried_observation_ends_with_schema_valid_metadata_once_attempts_are_spent(
    stack: Stack, seen: Seen
) -> None:
    decision = DECISIONS[seen]
    entry = dispatch(stack, seen, f"spent/{seen.name.lower()}.txt")
    excuse(stack, entry, decision.excuses)  # JOB_MAX_ATTEMPTS=1: every excuse is spent
    ARRANGE[seen](stack, entry)
    assert reconciler(stack, seen, attempts=1).reconcile(entry) == f"error:{decision.code}"
    meta = assert_valid(stack.metadata(entry.key, raw=True))
    assert meta["written_by"] == "reconciler" and meta["error"]["code"] == decision.code
    assert meta["source"]["key"] == entry.key and meta["job_ids"] == stack.entry(entry.key).job_ids
    if seen is Seen.ENGINE_DIED_ALONE:
        # The worker's metadata said which engine and how long: the reconciler's repeats it.
        assert meta["engine"] == "fake" and meta["model"] == "fake-model" and "total_s" in meta["timings"]
    else:
        assert meta["engine"] is None and meta["timings"] == {}


def test_an_item_that_names_no_object_is_closed_without_metadata(stack: Stack) -> None:
    stack.ledger._db.put_item(
        TableName=stack.ledger.table,
        Item={"id": {"S": "names-nothing"}, "open": {"S": "1"}, "deadline": {"N": "1"}},
    )
    entry = stack.ledger.get_id("names-nothing")
    assert entry is not None
    assert stack.reconciler(clock=later()).reconcile(entry) == f"error:{DECISIONS[Seen.NAMES_NO_OBJECT].code}"


def test_past_the_deadline_while_runpod_is_down_the_entry_waits_for_the_next_pass(stack: Stack) -> None:
    entries = [stack.dispatch(f"walk/down-{n}.txt") for n in range(2)]
    for entry in entries:
        stack.expire(entry)
    stack.emulator.faults.status_statuses.extend([503] * 10)
    stack.emulator.faults.health_statuses.extend([503] * 10)  # /health too: an outage
    try:
        tally = stack.reconciler(clock=later()).run()
    finally:
        stack.emulator.faults.status_statuses.clear()
        stack.emulator.faults.health_statuses.clear()
    assert tally == {"failed": 1, DECISIONS[Seen.RUNPOD_DOWN].outcome: 1}


def test_a_runpod_answer_holding_nan_still_gives_strict_json_metadata(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # RunPod's answer is parsed by json.loads, which accepts NaN; the metadata used to repeat it.
    entry = stack.dispatch("walk/nan.txt")
    reconciler = stack.reconciler(clock=later())
    answer = {"id": entry.job_id, "status": "FAILED", "output": {"score": float("nan"), "x": float("inf")}}
    monkeypatch.setattr(reconciler._runpod, "status", lambda job_id: answer)
    assert reconciler.reconcile(entry) == "error:job_failed"
    meta = assert_valid(stack.metadata(entry.key, raw=True))
    assert meta["runpod"]["output"] == {"score": None, "x": None}
