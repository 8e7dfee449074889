"""A `/run` answer that says the job already ended (issue 21 class 10).

RunPod's `/run` answers `{"id": …, "status": …}`; the status is normally `IN_QUEUE`, but a job can be
`FAILED`, `CANCELLED` or `TIMED_OUT` (its terminal states: docs.runpod.io/serverless/references/
job-states) without any worker having run it. Such a job was recorded as dispatched and first looked
at past its whole deadline (`policy.ttl` + `executionTimeout` + grace: over two hours by default),
then closed as `job_failed` without a retry. Now the claim is due at once and the reconciler runs it
again at its next pass; without a ledger the record fails so the event is delivered again.
Real pieces: moto (S3, DynamoDB), the RunPod emulator answering `/run` so (`faults.run_ended`).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from dispatcher.app import Dispatcher
from dispatcher.errors import DispatchError
from tests.metadata_schema import assert_valid
from tests.reconcile_stack import Stack, s3_event

ENDED = ["FAILED", "CANCELLED", "TIMED_OUT"]


def dispatch_ended(stack: Stack, key: str, status: str) -> dict[str, Any]:
    stack.emulator.faults.run_ended.append(status)
    return stack.dispatcher.handle(stack.upload(key))


@pytest.mark.parametrize("status", ENDED)
def test_a_run_answered_as_ended_is_not_reported_dispatched_and_is_due_at_once(
    stack: Stack, status: str
) -> None:
    result = dispatch_ended(stack, f"ended/{status}.txt", status)
    assert result["dispatched"] == [] and result["failed"] == []
    (ended,) = result["ended"]
    assert ended["ended"] == status and ended["job_id"]
    entry = stack.entry(f"ended/{status}.txt")
    assert entry.job_id == ended["job_id"] and entry.ended_at_run == status
    assert entry.deadline <= time.time()  # due now, not after the job's whole lifetime


@pytest.mark.parametrize("status", ENDED)
def test_the_next_pass_runs_a_job_that_ended_at_run_again_without_waiting_for_the_deadline(
    stack: Stack, status: str
) -> None:
    dispatch_ended(stack, f"again/{status}.txt", status)
    first = stack.entry(f"again/{status}.txt")
    # The reconciler's own clock: now, not hours later.
    assert stack.reconciler().run() == {"retried": 1}
    retried = stack.entry(f"again/{status}.txt")
    assert retried.attempts == 2 and retried.job_id not in (None, first.job_id)
    assert retried.ended_at_run is None and retried.deadline > time.time()
    job = stack.emulator.jobs[retried.job_id or ""]
    assert job.status == "IN_QUEUE" and job.input["attempt"] == 2


def test_runs_that_keep_ending_at_once_end_as_job_failed_with_valid_metadata(stack: Stack) -> None:
    stack.emulator.faults.run_ended.extend(["FAILED", "TIMED_OUT", "CANCELLED"])
    assert stack.dispatcher.handle(stack.upload("ended/always.txt"))["ended"]
    reconciler = stack.reconciler(JOB_MAX_ATTEMPTS="3")
    assert reconciler.run() == {"retried": 1}  # its /run answers TIMED_OUT: due again at once
    assert stack.entry("ended/always.txt").ended_at_run == "TIMED_OUT"
    assert reconciler.run() == {"retried": 1}  # CANCELLED
    assert reconciler.run() == {"error:job_failed": 1}
    entry = stack.entry("ended/always.txt")
    assert entry.state == "error" and entry.attempts == 3 and len(entry.job_ids) == 3
    meta = assert_valid(stack.metadata("ended/always.txt", raw=True))
    assert meta["error"]["code"] == "job_failed" and meta["written_by"] == "reconciler"
    assert "already CANCELLED" in meta["error"]["message"] and "gave up after 3" in meta["error"]["message"]
    assert meta["job_ids"] == entry.job_ids and meta["runpod"]["status"] == "CANCELLED"
    assert [e["error_code"] for e in stack.events.sent] == ["job_failed"]


def test_a_job_that_ended_at_run_and_then_wrote_metadata_is_closed_by_its_metadata(stack: Stack) -> None:
    # The outputs come first, as for every entry: a summary found is never run again.
    dispatch_ended(stack, "ended/late-ok.txt", "FAILED")
    entry = stack.entry("ended/late-ok.txt")
    meta = {
        "job_id": entry.job_id,
        "status": "ok",
        "source": {"key": entry.key, "version_id": entry.version_id},
    }
    stack.s3.put_object(Bucket=stack.bucket, Key=entry.metadata_key, Body=_json(meta))
    assert stack.reconciler().run() == {"ok": 1}


def test_a_redelivery_of_a_record_whose_job_ended_at_run_sends_nothing(stack: Stack) -> None:
    event = stack.upload("ended/redelivered.txt")
    stack.emulator.faults.run_ended.append("FAILED")
    assert stack.dispatcher.handle(event)["ended"]
    runs = stack.emulator.run_requests
    assert stack.dispatcher.handle(event)["skipped"]  # the claim is the reconciler's now
    assert stack.emulator.run_requests == runs


@pytest.mark.parametrize("status", ENDED)
def test_without_a_ledger_a_run_answered_as_ended_fails_the_record_naming_the_status(
    dispatcher_env: Any, s3: Any, bucket: str, stack: Stack, status: str
) -> None:
    dispatcher = Dispatcher.from_env(dispatcher_env())  # no LEDGER_TABLE: no reconciler either
    put = s3.put_object(Bucket=bucket, Key="plain/ended.txt", Body=b"Alice: hi.\n")
    event = s3_event(bucket, "plain/ended.txt", put.get("VersionId"), put["ETag"].strip('"'))
    stack.emulator.faults.run_ended.append(status)
    with pytest.raises(DispatchError, match=f"already {status}"):
        dispatcher.run(event)  # Lambda retries the event
    stack.emulator.faults.run_ended.append(status)
    sqs = {"Records": [{"eventSource": "aws:sqs", "messageId": "m-1", "body": _json(event).decode()}]}
    assert dispatcher.run_sqs(sqs) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}


def _json(value: Any) -> bytes:
    import json

    return json.dumps(value).encode()
