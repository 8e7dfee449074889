"""Every upload accounted for (issue 12): the job ledger and its reconciler through the local cloud.

Real pieces: moto (S3, SQS, DynamoDB) over HTTP, the S3 → dispatcher bridge, the RunPod emulator
(which deletes a job queued past `policy.ttl`, so `/status` answers 404, as RunPod documents), and
a real worker process running the runpod SDK loop. Jobs live 2 s in the queue here; the
reconciler's schedule is a call to `run()`, and its clock is moved past a deadline instead of
waiting for it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from devstack.cloud import CloudConfig, LocalCloud
from devstack.runpod_emulator import RunPodEmulator
from tests.support.ledger import dispatched, entry_of
from tests.support.procs import until

# Drives real worker processes or the whole local cloud: `make test-fast` leaves this tier out.
pytestmark = pytest.mark.e2e

MEETING = b"""Alice: The migration starts on Monday and the vendor delivers the scanners on Tuesday.
Bob: I will prepare the staffing plan for the parallel running period by Friday.
Carol: We agreed that parallel running lasts at most two weeks.
"""
SHORT_LIVED = {
    "JOB_TTL_S": "2",
    "JOB_EXECUTION_TIMEOUT_S": "2",
    "RECONCILE_GRACE_S": "0",
    "RUNPOD_TIMEOUT_S": "1",
}


def later(seconds: float = 3600) -> Callable[[], float]:
    return lambda: time.time() + seconds


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    config = CloudConfig(start_worker=False, worker_concurrency=2, dispatcher_env=SHORT_LIVED)
    with LocalCloud(config) as running:
        yield running


@pytest.fixture
def worker(cloud: LocalCloud) -> Iterator[None]:
    process = cloud.start_worker()
    until(lambda: cloud.emulator.last_seen, 60, "the worker polling for jobs")
    try:
        yield
    finally:
        cloud.stop_worker()
        cloud.emulator.last_seen.clear()
        assert process.poll() is not None


def expired(emulator: RunPodEmulator, job_id: str | None) -> bool:
    emulator.refresh()
    return job_id in emulator.expired


def metadata(cloud: LocalCloud, key: str) -> dict[str, Any]:
    return json.loads(cloud.read(cloud.output_keys(key)[1]))


# ---- the emulator, as RunPod documents it -------------------------------------------------------
def test_expired_job_is_deleted_and_status_answers_404() -> None:
    import urllib.error
    import urllib.request

    emulator = RunPodEmulator().start()
    try:
        job = emulator.submit({"input": {"text": "x"}, "policy": {"ttl": 200}})
        time.sleep(0.4)
        request = urllib.request.Request(
            f"{emulator.endpoint_url}/status/{job.id}",
            headers={"Authorization": f"Bearer {emulator.api_key}"},
        )
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(request, timeout=5)
        answer.value.close()
        assert answer.value.code == 404
        assert job.id in emulator.expired and job.id not in emulator.jobs
        assert emulator.take("worker", 1) == []  # never handed to a worker
    finally:
        emulator.stop()


# ---- ok ------------------------------------------------------------------------------------------
def test_every_dispatch_is_in_the_ledger_and_closes_ok(cloud: LocalCloud, worker: None) -> None:
    key = "ledger/ok.txt"
    cloud.upload(key, MEETING)
    entry = dispatched(cloud, key)
    assert entry.state == "dispatched" and entry.attempts == 1 and entry.job_id
    assert entry.deadline == pytest.approx(entry.dispatched_at + 4, abs=0.01)
    cloud.wait_for_metadata(key, 60)
    assert cloud.reconciler().run().get("ok", 0) >= 1
    closed = entry_of(cloud, key)
    assert closed.state == "ok" and closed.closed_at and closed.job_ids == [entry.job_id]
    assert entry.id not in [e.id for e in cloud.dispatcher.ledger.open_entries()]  # type: ignore[union-attr]


# ---- expired in the queue (RunPod: deleted, /status 404) ------------------------------------------
def test_job_expired_in_queue_is_retried_and_then_summarised(cloud: LocalCloud) -> None:
    key = "ledger/expired-then-ok.txt"
    cloud.upload(key, MEETING)
    first = dispatched(cloud, key)
    first_job = first.job_id
    until(lambda: expired(cloud.emulator, first_job), 15, "the job expiring in the queue")
    process = cloud.start_worker()
    try:
        until(lambda: cloud.emulator.last_seen, 60, "the worker polling")
        assert cloud.reconciler(clock=later()).reconcile(first) == "retried"
        retried = entry_of(cloud, key)
        assert retried.attempts == 2 and retried.job_id != first_job
        assert retried.job_ids == [first_job, retried.job_id]
        assert cloud.wait_for_metadata(key, 60)["status"] == "ok"
        assert cloud.reconciler().reconcile(retried) == "ok"
    finally:
        cloud.stop_worker()
        cloud.emulator.last_seen.clear()
        assert process.poll() is not None


def test_job_expired_on_every_attempt_ends_as_job_expired_metadata(cloud: LocalCloud) -> None:
    key = "ledger/always-expired.txt"
    cloud.upload(key, MEETING)
    entry = dispatched(cloud, key)
    reconciler = cloud.reconciler(clock=later(), JOB_MAX_ATTEMPTS="2")
    until(lambda: expired(cloud.emulator, entry.job_id), 15, "the first job expiring")
    assert reconciler.reconcile(entry) == "retried"
    until(lambda: expired(cloud.emulator, entry.job_id), 15, "the second job expiring")
    # Its retry was dispatched on the reconciler's (moved) clock: move past that deadline too.
    assert cloud.reconciler(clock=later(7200), JOB_MAX_ATTEMPTS="2").reconcile(entry) == "error:job_expired"
    meta = metadata(cloud, key)
    assert meta["status"] == "error" and meta["error"]["code"] == "job_expired"
    assert "404" in meta["error"]["message"] and "gave up after 2 attempt(s)" in meta["error"]["message"]
    assert meta["source"]["key"] == key and meta["written_by"] == "reconciler"
    assert entry_of(cloud, key).state == "error"


# ---- the worker lost, the job stuck -----------------------------------------------------------------
def test_job_stuck_in_progress_past_its_deadline_ends_as_worker_lost(cloud: LocalCloud) -> None:
    key = "ledger/worker-lost.txt"
    cloud.upload(key, MEETING)
    entry = dispatched(cloud, key)
    (taken,) = cloud.emulator.take("ghost-worker", 1)  # taken, then silence: no job-done, ever
    assert taken.id == entry.job_id
    assert cloud.reconciler().reconcile(entry) == "open"  # before the deadline: left alone
    assert cloud.reconciler(clock=later(), JOB_MAX_ATTEMPTS="1").reconcile(entry) == "error:worker_lost"
    meta = metadata(cloud, key)
    assert meta["error"]["code"] == "worker_lost" and "IN_PROGRESS" in meta["error"]["message"]
    assert meta["runpod"]["status"] == "IN_PROGRESS"


# ---- RunPod says it failed, and no metadata was written ------------------------------------------------
def test_job_failed_without_metadata_ends_as_job_failed_with_what_runpod_said(cloud: LocalCloud) -> None:
    key = "ledger/failed.txt"
    cloud.upload(key, MEETING)
    entry = dispatched(cloud, key)
    (taken,) = cloud.emulator.take("ghost-worker", 1)
    cloud.emulator.finish(taken.id, {"error": "CUDA error: an illegal memory access was encountered"})
    assert cloud.reconciler(clock=later()).reconcile(entry) == "error:job_failed"
    meta = metadata(cloud, key)
    assert meta["error"]["code"] == "job_failed"
    assert "FAILED" in meta["error"]["message"] and "illegal memory access" in meta["error"]["message"]
    assert entry_of(cloud, key).state == "error"


# ---- no entry stays open -------------------------------------------------------------------------------
def test_every_open_entry_is_closed_once_attempts_run_out(cloud: LocalCloud) -> None:
    keys = [f"ledger/sweep-{n}.txt" for n in range(3)]
    for key in keys:
        cloud.upload(key, MEETING)
    entries = [dispatched(cloud, key) for key in keys]
    until(lambda: all(expired(cloud.emulator, e.job_id) for e in entries), 15, "every job expiring")
    reconciler = cloud.reconciler(clock=later(), JOB_MAX_ATTEMPTS="1")
    reconciler.run()
    assert cloud.dispatcher is not None and cloud.dispatcher.ledger is not None
    assert list(cloud.dispatcher.ledger.open_entries()) == []
    assert all(metadata(cloud, key)["error"]["code"] == "job_expired" for key in keys)


# ---- a slow /run answer: one job, not RUNPOD_ATTEMPTS -------------------------------------------------
def test_slow_run_answer_is_not_resubmitted_and_the_upload_still_closes(
    cloud: LocalCloud, worker: None
) -> None:
    key = "ledger/slow-run.txt"
    before = cloud.emulator.run_requests
    cloud.emulator.faults.run_delay_s = 1.5  # the job is created after the dispatcher gave up waiting
    try:
        cloud.upload(key, MEETING)
        until(lambda: cloud.emulator.run_requests == before + 1, 30, "the /run call")
    finally:
        cloud.emulator.faults.run_delay_s = 0
    entry = dispatched(cloud, key, confirmed=False)
    assert entry.job_id is None and entry.attempts == 1  # unconfirmed: held by the ledger, not retried
    assert cloud.emulator.run_requests == before + 1
    assert cloud.wait_for_metadata(key, 60)["status"] == "ok"  # the job RunPod did create ran
    assert cloud.reconciler().reconcile(entry) == "ok"
    assert [j.input["source"]["key"] for j in cloud.emulator.jobs.values()].count(key) == 1


# ---- users are told ---------------------------------------------------------------------------------
def test_each_finished_upload_is_announced_on_eventbridge(cloud: LocalCloud, worker: None) -> None:
    import boto3

    from dispatcher.notify import DETAIL_TYPE, SOURCE

    kwargs = {"region_name": "us-east-1", "endpoint_url": cloud.s3_endpoint}
    events, sqs = boto3.client("events", **kwargs), boto3.client("sqs", **kwargs)
    queue = sqs.create_queue(QueueName="finished-uploads")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    # The example rule of docs/RELIABILITY.md: every finished upload, to a queue.
    events.put_rule(
        Name="finished", EventPattern=json.dumps({"source": [SOURCE], "detail-type": [DETAIL_TYPE]})
    )
    events.put_targets(Rule="finished", Targets=[{"Id": "queue", "Arn": arn}])
    good, bad = "ledger/told-ok.txt", "ledger/told-error.txt"
    cloud.upload(good, MEETING)
    cloud.upload(bad, b"")  # empty: the worker writes error metadata (invalid_transcript)
    for key in (good, bad):
        dispatched(cloud, key)
        cloud.wait_for_metadata(key, 60)
    cloud.reconciler(EVENT_BUS_NAME="default").run()
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=2).get(
        "Messages", []
    )
    details = {d["key"]: d for d in (json.loads(m["Body"])["detail"] for m in messages)}
    assert details[good]["status"] == "ok" and details[good]["error_code"] is None
    assert details[good]["summary_key"] == cloud.output_keys(good)[0]
    assert details[bad]["status"] == "error" and details[bad]["error_code"] == "invalid_transcript"
    for detail in details.values():
        assert detail["duration_s"] >= 0 and detail["finished_at"] and detail["job_ids"]


# ---- the client's view over the ledger ---------------------------------------------------------------
def test_client_uploads_shows_pending_ok_and_error_from_the_ledger(cloud: LocalCloud) -> None:
    import io

    from client.cli import main

    env = {"AWS_REGION": "us-east-1", "S3_ENDPOINT_URL": cloud.s3_endpoint, "LEDGER_TABLE": "job-ledger"}
    env |= {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    # An upload that ends in error here, so the view has one whichever tests ran before (xdist).
    failed = "ledger/client-view-failed.txt"
    cloud.upload(failed, MEETING)
    dispatched(cloud, failed)
    # Past its deadline with one attempt allowed: job_expired or worker_lost, whatever its queue did.
    ended = cloud.reconciler(clock=later(), JOB_MAX_ATTEMPTS="1").reconcile(entry_of(cloud, failed))
    assert ended.startswith("error:")
    key = "ledger/client-view.txt"
    cloud.upload(key, MEETING)
    dispatched(cloud, key)
    out = io.StringIO()
    assert main(["uploads"], env, out, io.StringIO()) == 0
    lines = out.getvalue().splitlines()
    assert any(line.startswith("pending") and key in line for line in lines)
    assert lines[-1].startswith("pending=")
    out = io.StringIO()
    assert main(["uploads", "--state", "error", "--json"], env, out, io.StringIO()) == 0
    listed = json.loads(out.getvalue())
    assert listed and all(item["state"] == "error" and item["code"] for item in listed)
    err = io.StringIO()
    assert main(["uploads"], env | {"LEDGER_TABLE": ""}, io.StringIO(), err) == 2
    assert "LEDGER_TABLE" in err.getvalue()
