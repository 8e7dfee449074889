"""The reconciler and the ledger under races, crashes, odd items and a RunPod that misbehaves.

Real pieces, no worker: moto over HTTP (S3, DynamoDB), the RunPod emulator, the dispatcher and the
reconciler built from their settings. Jobs live 1 s in the emulator's queue, so an expired job is a
short wait; the reconciler's clock is moved past deadlines instead of waiting for them. The worker
paths through real worker processes are tests/e2e/test_ledger.py, tests/e2e/test_versions.py and
tests/e2e/test_poison.py.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from dispatcher.app import Dispatcher
from dispatcher.events import output_keys
from dispatcher.reconciler import Reconciler
from dispatcher.upload import Upload
from tests.support.dispatch import deliver_at_once
from tests.support.procs import scaled
from tests.support.reconcile_stack import MEETING, Stack, later


# ---- two passes at once, a stale view, a pass that dies half-way ------------------------------------
def test_reconcilers_running_at_once_retry_an_expired_job_once(stack: Stack) -> None:
    entry = stack.dispatch("race/expired.txt")
    stack.expire(entry)
    runs = stack.emulator.run_requests
    # The retried job lives long enough that a pass coming after the winner sees it still queued
    # (with jobs living 1 s, a slow pass found the new job expired too and rightly retried again).
    passes = [stack.reconciler(clock=later(60), JOB_TTL_S="600") for _ in range(4)]
    barrier = threading.Barrier(len(passes))
    tallies: list[dict[str, int]] = []

    def one(reconciler: Reconciler) -> None:
        barrier.wait()
        tallies.append(reconciler.run())

    threads = [threading.Thread(target=one, args=(r,)) for r in passes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(t.get("retried", 0) for t in tallies) == 1, tallies
    assert stack.emulator.run_requests == runs + 1  # one new job, not one per pass
    retried = stack.entry("race/expired.txt")
    assert retried.attempts == 2 and len(retried.job_ids) == 2 and retried.job_id == retried.job_ids[-1]


def test_reconcilers_running_at_once_close_and_announce_an_entry_once(stack: Stack) -> None:
    entry = stack.dispatch("race/failed.txt")
    (taken,) = stack.emulator.take("ghost-worker", 1)
    stack.emulator.finish(taken.id, {"error": "CUDA error: out of memory"})
    passes = [stack.reconciler(clock=later()) for _ in range(4)]
    barrier = threading.Barrier(len(passes))

    def one(reconciler: Reconciler) -> None:
        barrier.wait()
        reconciler.run()

    threads = [threading.Thread(target=one, args=(r,)) for r in passes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert stack.entry("race/failed.txt").state == "error"
    assert [e["key"] for e in stack.events.sent] == ["race/failed.txt"]
    assert stack.metadata("race/failed.txt")["error"]["code"] == "job_failed"
    assert entry.id not in [e.id for e in stack.ledger.open_entries()]


def test_a_stale_view_of_a_retried_entry_does_not_close_it(stack: Stack) -> None:
    entry = stack.dispatch("race/stale.txt")
    stack.expire(entry)
    (stale,) = [e for e in stack.ledger.open_entries() if e.id == entry.id]
    assert stack.reconciler(clock=later()).reconcile(entry) == "retried"
    # Another pass that read the index before the retry: the first job is now cancelled or gone,
    # which must not end the upload while its retry is on its way.
    assert stack.reconciler(clock=later()).reconcile(stale) == "open"
    assert stack.entry("race/stale.txt").state == "dispatched" and stack.events.sent == []


def test_a_pass_that_dies_after_run_sends_no_second_job_and_its_claim_is_retried_later(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = stack.dispatch("crash/after-run.txt")
    stack.expire(entry)
    dying = stack.reconciler(clock=later())

    def killed(*args: Any, **kwargs: Any) -> bool:
        raise SystemExit("the Lambda was stopped after /run")

    monkeypatch.setattr(dying._ledger, "started", killed)
    runs = stack.emulator.run_requests
    with pytest.raises(SystemExit):
        dying.reconcile(entry)
    assert stack.emulator.run_requests == runs + 1
    claimed = stack.entry("crash/after-run.txt")
    assert claimed.attempts == 2 and claimed.job_id is None  # the claim holds the run
    # The next passes: the claim's deadline has not passed (no job sent), then it has.
    assert stack.reconciler(clock=later(1800)).reconcile(claimed) == "open"
    assert stack.emulator.run_requests == runs + 1
    final = stack.reconciler(clock=later(7200), JOB_MAX_ATTEMPTS="2").reconcile(claimed)
    assert final == "error:job_expired"
    assert "never confirmed" in stack.metadata("crash/after-run.txt")["error"]["message"]
    assert len(stack.events.sent) == 1


def test_a_pass_that_dies_between_the_metadata_and_the_close_closes_it_once_next_time(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = stack.dispatch("crash/after-metadata.txt")
    stack.expire(entry)
    dying = stack.reconciler(clock=later(), JOB_MAX_ATTEMPTS="1")

    def killed(*args: Any, **kwargs: Any) -> bool:
        raise SystemExit("the Lambda was stopped after the metadata PUT")

    monkeypatch.setattr(dying._ledger, "close", killed)
    with pytest.raises(SystemExit):
        dying.reconcile(entry)
    assert stack.metadata("crash/after-metadata.txt")["error"]["code"] == "job_expired"
    assert stack.reconciler(clock=later(), JOB_MAX_ATTEMPTS="1").run() == {"error:job_expired": 1}
    assert stack.entry("crash/after-metadata.txt").state == "error"
    assert [e["error_code"] for e in stack.events.sent] == ["job_expired"]


# ---- RunPod answers oddly, or not at all ------------------------------------------------------------
@pytest.mark.parametrize("status", ["FAILED", "CANCELLED", "TIMED_OUT", "COMPLETED", "PAUSED_BY_OPS"])
def test_a_job_that_ended_without_metadata_ends_as_job_failed_naming_runpods_status(
    stack: Stack, status: str
) -> None:
    entry = stack.dispatch(f"status/{status}.txt")
    (taken,) = stack.emulator.take("ghost-worker", 1)
    taken.status, taken.finished = status, time.time()
    assert stack.reconciler(clock=later()).reconcile(entry) == "error:job_failed"
    meta = stack.metadata(f"status/{status}.txt")
    assert status in meta["error"]["message"] and meta["runpod"]["status"] == status
    assert ("not a state RunPod documents" in meta["error"]["message"]) == (status == "PAUSED_BY_OPS")
    assert [(e["status"], e["error_code"]) for e in stack.events.sent] == [("error", "job_failed")]


def test_a_status_answer_without_a_status_still_ends_the_upload(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = stack.dispatch("status/blank.txt")
    reconciler = stack.reconciler(clock=later())
    monkeypatch.setattr(reconciler._runpod, "status", lambda job_id: {"id": job_id})
    assert reconciler.reconcile(entry) == "error:job_failed"
    assert stack.metadata("status/blank.txt")["status"] == "error"


def test_a_job_id_runpod_never_heard_of_is_retried_then_ends_as_job_expired(stack: Stack) -> None:
    entry = stack.dispatch("status/unknown-id.txt")
    stack.emulator.jobs.pop(entry.job_id or "")  # RunPod lost it: /status answers 404
    assert stack.reconciler(clock=later(), JOB_MAX_ATTEMPTS="2").reconcile(entry) == "retried"
    retried = stack.entry("status/unknown-id.txt")
    stack.emulator.jobs.pop(retried.job_id or "")  # and the retry's job is lost too
    final = stack.reconciler(clock=later(7200), JOB_MAX_ATTEMPTS="2").reconcile(retried)
    assert final == "error:job_expired"
    assert stack.entry("status/unknown-id.txt").attempts == 2


@pytest.mark.parametrize("fault", [500, 503, 429, "hang"])
def test_status_erroring_or_hanging_leaves_the_entry_open_without_using_an_attempt(
    stack: Stack, fault: int | str
) -> None:
    entries = [stack.dispatch(f"down/{fault}-{n}.txt") for n in range(3)]
    for entry in entries:
        stack.expire(entry)
    faults = stack.emulator.faults
    # RunPod down: /health fails too (one job's failing /status is test_reconcile_failures.py).
    if fault == "hang":
        faults.status_delay_s = faults.health_delay_s = stack.past_timeout_s + 1
    else:
        faults.status_statuses.extend([int(fault)] * 10)
        faults.health_statuses.extend([int(fault)] * 10)
    asked = stack.emulator.status_requests
    try:
        started = time.monotonic()
        tally = stack.reconciler(clock=later()).run()
        took = time.monotonic() - started
    finally:
        faults.status_delay_s = faults.health_delay_s = 0
        faults.status_statuses.clear()
        faults.health_statuses.clear()
    assert tally == {"failed": 1, "waiting": 2}, tally
    assert stack.emulator.status_requests - asked <= 2  # RunPod was not asked about every entry
    assert took < scaled(30)
    assert all(stack.entry(e.key).attempts == 1 and stack.entry(e.key).state == "dispatched" for e in entries)
    # RunPod is back: the next pass ends them all (attempts were not used up while it was down).
    assert stack.reconciler(clock=later(), JOB_MAX_ATTEMPTS="1").run() == {"error:job_expired": 3}


def test_a_retry_refused_by_runpod_does_not_use_up_an_attempt(stack: Stack) -> None:
    entry = stack.dispatch("down/refused-retry.txt")
    stack.expire(entry)
    stack.emulator.faults.run_statuses.extend([503])
    assert stack.reconciler(clock=later()).run() == {"failed": 1}
    kept = stack.entry("down/refused-retry.txt")
    assert kept.attempts == 1 and kept.job_id == entry.job_id and kept.state == "dispatched"
    assert stack.reconciler(clock=later()).run() == {"retried": 1}
    assert stack.entry("down/refused-retry.txt").attempts == 2


# ---- odd ledger items ---------------------------------------------------------------------------------
def test_odd_ledger_items_are_read_closed_and_never_stop_a_pass(stack: Stack, dynamodb: Any) -> None:
    table = stack.ledger.table
    good = stack.dispatch("odd/good.txt")
    stack.expire(good)
    version = stack.s3.put_object(Bucket=stack.bucket, Key="odd/bare.txt", Body=MEETING)["VersionId"]
    items = [
        # Only an id and the index key: bucket, key, version and outputs come from the id.
        {
            "id": {"S": f"s3://{stack.bucket}/odd/bare.txt#v:{version}"},
            "open": {"S": "1"},
            "deadline": {"N": "1"},
        },
        # Numbers as strings, job ids as a string set, an unknown attribute, no deadline at all.
        {
            "id": {"S": f"s3://{stack.bucket}/odd/typed.txt#e:abc:123"},
            "open": {"S": "1"},
            "deadline": {"N": "2"},
            "bucket": {"S": stack.bucket},
            "key": {"S": "odd/typed.txt"},
            "attempts": {"S": "many"},
            "dispatched_at": {"S": "not a time"},
            "job_ids": {"SS": ["gone-1", "gone-2"]},
            "job_id": {"S": "gone-2"},
            "colour": {"S": "blue"},
        },
        # Names no object at all.
        {"id": {"S": "something-else"}, "open": {"S": "1"}, "deadline": {"N": "3"}},
        # A state nobody knows, still listed as open: open.
        {
            "id": {"S": f"s3://{stack.bucket}/odd/weird.txt#e:def:456"},
            "open": {"S": "1"},
            "deadline": {"N": "4"},
            "state": {"S": "half-done"},
        },
        # Closed by hand but left in the open index: taken out of it.
        {
            "id": {"S": f"s3://{stack.bucket}/odd/closed.txt#e:ghi:789"},
            "open": {"S": "1"},
            "deadline": {"N": "5"},
            "state": {"S": "ok"},
        },
    ]
    for item in items:
        dynamodb.put_item(TableName=table, Item=item)
    tally = stack.reconciler(clock=later(), JOB_MAX_ATTEMPTS="1").run()
    assert tally == {"error:job_expired": 4, "error:ledger_entry_invalid": 1, "closed_elsewhere": 1}, tally
    assert list(stack.ledger.open_entries()) == []
    bare = stack.metadata("odd/bare.txt")
    assert bare["error"]["code"] == "job_expired" and bare["source"]["version_id"] == version
    assert "gone-2" in stack.metadata("odd/typed.txt")["error"]["message"]


# ---- one dispatch per version, however late the redelivery ------------------------------------------
def test_a_redelivery_after_the_upload_closed_is_a_duplicate_and_reopens_nothing(stack: Stack) -> None:
    event = stack.upload("dup/late.txt")
    assert stack.dispatcher.handle(event)["dispatched"]
    entry = stack.entry("dup/late.txt")
    stack.expire(entry)
    assert stack.reconciler(clock=later(), JOB_MAX_ATTEMPTS="1").run() == {"error:job_expired": 1}
    runs = stack.emulator.run_requests
    again = stack.dispatcher.handle(event)
    assert again["dispatched"] == [] and again["skipped"][0]["duplicate_of"] == entry.job_id
    assert stack.emulator.run_requests == runs
    closed = stack.entry("dup/late.txt")
    assert closed.state == "error" and closed.attempts == 1 and closed.job_ids == entry.job_ids
    assert stack.reconciler(clock=later()).run() == {}
    assert len(stack.events.sent) == 1


def test_a_redelivery_while_the_job_runs_is_a_duplicate(stack: Stack) -> None:
    event = stack.upload("dup/early.txt")
    first = stack.dispatcher.handle(event)["dispatched"][0]["job_id"]
    again = stack.dispatcher.handle(event)
    assert again["skipped"][0]["duplicate_of"] == first
    assert stack.entry("dup/early.txt").job_ids == [first]


def test_a_refused_first_run_leaves_no_claim_so_the_events_retry_dispatches(stack: Stack) -> None:
    event = stack.upload("dup/refused.txt")
    stack.emulator.faults.run_statuses.extend([400])
    assert stack.dispatcher.handle(event)["failed"]
    assert [e for e in stack.ledger.entries() if e.key == "dup/refused.txt"] == []
    assert stack.dispatcher.handle(event)["dispatched"]
    assert stack.entry("dup/refused.txt").attempts == 1


# ---- the newest version wins, even when the object is deleted ----------------------------------------
def test_versions_closed_after_a_delete_marker_are_superseded_and_no_metadata_is_written(
    stack: Stack,
) -> None:
    old = stack.dispatch("deleted/plan.txt")
    stack.expire(old)
    stack.s3.delete_object(Bucket=stack.bucket, Key="deleted/plan.txt")  # a delete marker is current
    assert stack.reconciler(clock=later()).reconcile(old) == "superseded"
    assert stack.entry("deleted/plan.txt").message == "the object was deleted after this version was uploaded"
    assert "Contents" not in stack.s3.list_objects_v2(Bucket=stack.bucket, Prefix="summaries/deleted/")
    assert [e["status"] for e in stack.events.sent] == ["superseded"]


def test_version_id_null_is_not_a_version(stack: Stack) -> None:
    # Versioning suspended: every upload of the key is version "null"; two uploads are two versions.
    stack.s3.put_bucket_versioning(Bucket=stack.bucket, VersioningConfiguration={"Status": "Suspended"})
    first = stack.upload("null/plan.txt", b"Alice: first.\n")
    second = stack.upload("null/plan.txt", b"Alice: second.\n")
    for event in (first, second):
        event["Records"][0]["s3"]["object"]["versionId"] = "null"
        assert stack.dispatcher.handle(event)["dispatched"]
    entries = [e for e in stack.ledger.entries() if e.key == "null/plan.txt"]
    assert len(entries) == 2 and all(e.version_id is None for e in entries)
    older = next(e for e in entries if e.etag != second["Records"][0]["s3"]["object"]["eTag"])
    assert stack.reconciler().reconcile(older) == "superseded"


# ---- users are told, whatever the clocks -------------------------------------------------------------
def test_every_announcement_has_timings_and_no_negative_duration_under_clock_skew(stack: Stack) -> None:
    entry = stack.dispatch("told/skew.txt")
    stack.expire(entry)
    stack.ledger._db.update_item(  # the dispatcher's clock ran an hour ahead of the reconciler's
        TableName=stack.ledger.table,
        Key={"id": {"S": entry.id}},
        UpdateExpression="SET dispatched_at = :t",
        ExpressionAttributeValues={":t": {"N": repr(time.time() + 3600)}},
    )
    assert stack.reconciler(clock=later(7200), JOB_MAX_ATTEMPTS="1").run() == {"error:job_expired": 1}
    (told,) = stack.events.sent
    assert told["duration_s"] == 0 and told["timings"] == {}
    assert (
        told["key"] == "told/skew.txt" and told["status"] == "error" and told["error_code"] == "job_expired"
    )


# ---- metadata from an earlier run is not the latest run's answer ---------------------------------------
@pytest.mark.parametrize("code", ["engine_unavailable", "job_stopped"])
def test_an_earlier_runs_error_metadata_neither_closes_nor_retries_an_unconfirmed_retry(
    stack: Stack, code: str
) -> None:
    key = f"earlier/{code}.txt"
    entry = stack.dispatch(key)
    (taken,) = stack.emulator.take("ghost-worker", 1)
    s = stack.dispatcher.settings
    _, metadata_key = output_keys(key, s.output_prefix, s.input_suffixes, s.summary_suffix)
    source = {"bucket": stack.bucket, "key": key, "version_id": entry.version_id, "etag": entry.etag}
    error = {"code": code, "message": "the first run ended", "alone_on_engine": False}
    meta = {"job_id": taken.id, "status": "error", "error": error, "source": source}

    def worker_writes() -> None:
        stack.s3.put_object(Bucket=stack.bucket, Key=metadata_key, Body=json.dumps(meta).encode())

    stack.emulator.faults.run_delay_s = stack.past_timeout_s  # the retry's /run answer never comes
    # The retry's deadline lies ahead, however long its unanswered /run took on a busy machine.
    ahead = {"JOB_TTL_S": "600", "JOB_EXECUTION_TIMEOUT_S": "600"}
    try:
        if code == "engine_unavailable":
            worker_writes()
            # The engine path, before the first job's deadline.
            assert stack.reconciler(**ahead).reconcile(entry) == "retried"
        else:
            # Stuck past its deadline: cancelled and retried; the cancelled job then writes job_stopped.
            assert stack.reconciler(clock=later(), **ahead).reconcile(entry) == "retried"
            worker_writes()
    finally:
        stack.emulator.faults.run_delay_s = 0
    retried = stack.entry(key)
    assert retried.job_id is None and retried.job_ids == [taken.id]
    runs = stack.emulator.run_requests
    assert stack.reconciler().reconcile(retried) == "open"
    assert stack.emulator.run_requests == runs and stack.entry(key).state == "dispatched"
    assert stack.events.sent == []


# ---- existing buckets: EventBridge events beside S3 notifications ---------------------------------------
def eventbridge_event(
    bucket: str, record: dict[str, Any], key: str, *, version: bool = True
) -> dict[str, Any]:
    """The S3 → EventBridge "Object Created" event for the object of an S3 notification `record`."""
    obj = record["s3"]["object"]
    detail_obj = {"key": key, "size": obj["size"], "etag": obj["eTag"], "sequencer": obj["sequencer"]}
    if version and obj.get("versionId"):
        detail_obj["version-id"] = obj["versionId"]
    return {
        "version": "0",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "time": "2026-11-30T10:00:01Z",
        "detail": {"version": "0", "bucket": {"name": bucket}, "object": detail_obj, "reason": "PutObject"},
    }


@pytest.mark.parametrize("versioned", [True, False])
def test_an_s3_notification_and_an_eventbridge_event_for_one_upload_dispatch_once(
    stack: Stack, versioned: bool
) -> None:
    if not versioned:
        stack.s3.put_bucket_versioning(Bucket=stack.bucket, VersioningConfiguration={"Status": "Suspended"})
    notification = stack.upload("both/plan.txt")
    (record,) = notification["Records"]
    runs = stack.emulator.run_requests
    first = stack.dispatcher.handle(
        eventbridge_event(stack.bucket, record, "both/plan.txt", version=versioned)
    )
    assert first["dispatched"]
    second = stack.dispatcher.handle(notification)
    assert (
        second["dispatched"] == []
        and second["skipped"][0]["duplicate_of"] == first["dispatched"][0]["job_id"]
    )
    assert stack.emulator.run_requests == runs + 1


@pytest.mark.parametrize(
    ("real", "sent"),
    [
        ("incoming/weekly sync+notes.txt", "incoming/weekly sync+notes.txt"),  # as EventBridge sends it
        ("incoming/weekly sync+notes.txt", "incoming/weekly+sync%2Bnotes.txt"),  # URL-encoded on the way
        ("incoming/100% done.txt", "incoming/100% done.txt"),  # a literal % that is no escape
        ("incoming/a%2Bb.txt", "incoming/a%2Bb.txt"),  # a literal escape-looking key that exists
    ],
)
def test_eventbridge_keys_encoded_or_not_name_the_object_that_exists(
    stack: Stack, real: str, sent: str
) -> None:
    notification = stack.upload(real)
    (record,) = notification["Records"]
    result = stack.dispatcher.handle(eventbridge_event(stack.bucket, record, sent))
    assert [d["key"] for d in result["dispatched"]] == [real]
    (job,) = stack.emulator.jobs.values()
    assert job.input["source"]["key"] == real


def test_eventbridge_events_outside_the_input_prefix_or_suffixes_are_skipped(stack: Stack) -> None:
    stack.dispatcher = Dispatcher.from_env(stack.env | {"INPUT_PREFIX": "incoming/"})
    for key in ("elsewhere/plan.txt", "incoming/plan.pdf", "summaries/incoming/plan_summary.txt"):
        (record,) = stack.upload(key)["Records"]
        result = stack.dispatcher.handle(eventbridge_event(stack.bucket, record, key))
        assert result["dispatched"] == [] and result["skipped"], key
    (record,) = stack.upload("incoming/plan.txt")["Records"]
    assert stack.dispatcher.handle(eventbridge_event(stack.bucket, record, "incoming/plan.txt"))["dispatched"]
    assert stack.emulator.run_requests == 1


def test_a_job_that_stood_aside_for_a_version_deleted_since_is_run_again(stack: Stack) -> None:
    key = "deleted/newer-removed.txt"
    older = stack.dispatch(key)
    newer = stack.upload(key, b"Alice: the newer version.\n")
    (taken,) = stack.emulator.take("ghost-worker", 1)
    stack.emulator.finish(taken.id, {"output": {"status": "superseded", "reason": "replaced"}})
    # The newer version is deleted for good: the older one is the key's current version again.
    version = newer["Records"][0]["s3"]["object"]["versionId"]
    stack.s3.delete_object(Bucket=stack.bucket, Key=key, VersionId=version)
    assert stack.reconciler(clock=later()).reconcile(older) == "retried"
    assert stack.entry(key).attempts == 2


# ---- poison: who is blamed for an engine's death --------------------------------------------------------
@pytest.mark.parametrize(
    ("reached_engine", "excused_before", "charged"),
    [
        (True, 2, True),  # next to others, excuses spent (JOB_MAX_ATTEMPTS=2): counted
        (False, 2, False),  # still waiting for its seat when the engine died: excused further
        (False, 5, False),
        (False, 6, True),  # up to WAITING_EXCUSES x JOB_MAX_ATTEMPTS, so it still ends
    ],
)
def test_a_job_that_never_reached_the_dying_engine_is_not_blamed_for_it(
    stack: Stack, reached_engine: bool, excused_before: int, charged: bool
) -> None:
    key = f"poison/waiting-{reached_engine}-{excused_before}.txt"
    entry = stack.dispatch(key)
    stack.ledger._db.update_item(
        TableName=stack.ledger.table,
        Key={"id": {"S": entry.id}},
        UpdateExpression="SET uncharged = :n",
        ExpressionAttributeValues={":n": {"N": str(excused_before)}},
    )
    s = stack.dispatcher.settings
    _, metadata_key = output_keys(key, s.output_prefix, s.input_suffixes, s.summary_suffix)
    error = {
        "code": "engine_unavailable",
        "message": "the model server exited",
        "alone_on_engine": False,
        "reached_engine": reached_engine,
    }
    meta = {
        "job_id": entry.job_id,
        "status": "error",
        "error": error,
        "source": {"version_id": entry.version_id},
    }
    stack.s3.put_object(Bucket=stack.bucket, Key=metadata_key, Body=json.dumps(meta).encode())
    assert stack.reconciler(JOB_MAX_ATTEMPTS="2").reconcile(entry) == "retried"
    after = stack.entry(key)
    assert (after.attempts, after.uncharged) == ((2, excused_before) if charged else (1, excused_before + 1))
    retry = stack.emulator.jobs[after.job_id or ""].input
    assert retry["previous_error"] == "engine_unavailable" and retry["attempt"] == excused_before + 2


def test_an_entry_recorded_with_a_job_id_runpod_never_issued_ends_as_job_expired(stack: Stack) -> None:
    from dispatcher.events import ObjectRef

    put = stack.s3.put_object(Bucket=stack.bucket, Key="status/invented.txt", Body=MEETING)
    ref = ObjectRef(stack.bucket, "status/invented.txt", put["VersionId"], put["ETag"].strip('"'))
    upload = Upload.of(ref, stack.dispatcher.settings)
    entry = stack.ledger.dispatched(upload, "no-such-job", deadline=time.time() - 1)
    assert entry.job_id == "no-such-job" and stack.entry(ref.key).job_ids == ["no-such-job"]
    assert stack.reconciler(JOB_MAX_ATTEMPTS="1").reconcile(entry) == "error:job_expired"
    assert "no-such-job" in stack.metadata(ref.key)["error"]["message"]


@pytest.mark.parametrize("key", ["odd keys/a b+c.txt", "odd keys/100%.txt", "odd keys/Résumé 会议#1?.txt"])
def test_an_upload_with_an_odd_key_is_closed_with_metadata_at_its_own_output_key(
    stack: Stack, key: str
) -> None:
    entry = stack.dispatch(key)
    assert entry.key == key
    stack.expire(entry)
    assert stack.reconciler(clock=later(), JOB_MAX_ATTEMPTS="1").run() == {"error:job_expired": 1}
    meta = stack.metadata(key)
    assert meta["source"]["key"] == key and meta["source"]["version_id"] == entry.version_id
    assert [e["key"] for e in stack.events.sent] == [key]


def test_six_deliveries_at_once_send_one_job(stack: Stack) -> None:
    event = stack.upload("dup/burst.txt")
    stack.emulator.faults.run_delay_s = 0.3  # the winner's /run is still in flight when the others arrive
    try:
        results = deliver_at_once([Dispatcher.from_env(stack.env) for _ in range(6)], event, timeout_s=60)
    finally:
        stack.emulator.faults.run_delay_s = 0
    assert stack.emulator.run_requests == 1
    assert sum(len(r["dispatched"]) for r in results) == 1
    assert sum(len(r["skipped"]) for r in results) == 5 and not any(r["failed"] for r in results)
    assert len(stack.entry("dup/burst.txt").job_ids) == 1
