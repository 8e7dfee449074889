"""One object version is dispatched once: the ledger's claim (a conditional put) on moto's DynamoDB
over HTTP is the dispatcher's one dedupe.

Each test gets its own ledger table on the session's moto server; concurrent deliveries are real
threads, each with its own Dispatcher (as separate Lambda invocations would have). The ledger's
other duties (closing, retrying) are tests/unit/dispatcher/test_reconciler.py and tests/e2e/test_ledger.py.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from devstack.cloud import free_port
from devstack.runpod_emulator import RunPodEmulator
from dispatcher.app import Dispatcher, is_sqs
from dispatcher.errors import DispatchError
from dispatcher.events import ObjectRef
from dispatcher.ledger import table_definition
from dispatcher.settings import Settings
from dispatcher.upload import Upload
from tests.support.dispatch import DispatcherEnv, deliver_at_once
from tests.support.paths import load_event


@pytest.fixture
def table(dynamodb: Any) -> Iterator[str]:
    client = dynamodb
    name = f"ledger-{uuid.uuid4().hex[:10]}"
    client.create_table(**table_definition(name))
    yield name
    client.delete_table(TableName=name)


def _env(
    dispatcher_env: DispatcherEnv, moto_endpoint: str, table: str | None, **extra: str
) -> dict[str, str]:
    settings = {"DYNAMODB_ENDPOINT_URL": moto_endpoint, "RUNPOD_ATTEMPTS": "2", **extra}
    if table:
        settings["LEDGER_TABLE"] = table
    return dispatcher_env(**settings)


@pytest.fixture
def make(dispatcher_env: DispatcherEnv, moto_endpoint: str, table: str) -> Any:
    return lambda **extra: Dispatcher.from_env(_env(dispatcher_env, moto_endpoint, table, **extra))


def _with_object(event: dict[str, Any], **fields: str) -> dict[str, Any]:
    changed = copy.deepcopy(event)
    changed["Records"][0]["s3"]["object"].update(fields)
    return changed


def test_redelivered_event_dispatches_once(make: Any, emulator: RunPodEmulator) -> None:
    event = load_event("s3_put.json")
    first = make().run(event)
    second = make().run(event)  # S3's at-least-once redelivery, or Lambda's async retry
    (job_id,) = emulator.jobs
    assert first["dispatched"][0]["job_id"] == job_id
    assert second["dispatched"] == []
    assert second["skipped"][0]["duplicate_of"] == job_id
    assert "already dispatched" in second["skipped"][0]["skipped"]


@pytest.mark.parametrize("event_file", ["s3_put.json", "s3_put_unversioned.json"])
@pytest.mark.parametrize("run_delay_s", [0.0, 0.5], ids=["instant-run", "slow-run"])
def test_two_deliveries_at_the_same_moment_dispatch_once(
    make: Any, emulator: RunPodEmulator, run_delay_s: float, event_file: str
) -> None:
    emulator.faults.run_delay_s = run_delay_s  # a slow /run holds the winner while the others arrive
    event = load_event(event_file)
    results = deliver_at_once([make() for _ in range(6)], event, timeout_s=30)
    assert emulator.run_requests == 1
    (job_id,) = emulator.jobs
    dispatched = [r for r in results if r["dispatched"]]
    assert len(dispatched) == 1
    # The others find the claim, even while the winner's /run is in flight: nothing to retry.
    assert len([r for r in results if r["skipped"]]) == 5 and not any(r["failed"] for r in results)
    # A later redelivery finds the finished dispatch.
    emulator.faults.run_delay_s = 0
    retried = make().handle(event)
    assert retried["skipped"][0]["duplicate_of"] == job_id
    assert emulator.run_requests == 1


def test_new_version_of_the_same_key_is_summarised_again(make: Any, emulator: RunPodEmulator) -> None:
    event = load_event("s3_put.json")
    make().run(event)
    make().run(_with_object(event, versionId="second-upload-version", sequencer="0055AED6DCD90281F0"))
    assert len(emulator.jobs) == 2


def test_identical_bytes_uploaded_twice_unversioned_are_summarised_twice(
    make: Any, emulator: RunPodEmulator
) -> None:
    # Same ETag (same bytes): only the sequencer tells the two uploads apart.
    event = load_event("s3_put_unversioned.json")
    make().run(event)
    make().run(_with_object(event, sequencer="0055AED6DCD90281FF"))
    make().run(event)  # and a redelivery of the first is still a duplicate
    assert len(emulator.jobs) == 2


def test_upload_identity_is_the_version_not_the_etag_alone() -> None:
    settings = Settings(runpod_api_key="k", runpod_endpoint_url="https://api.runpod.ai/v2/x", region="r")
    versioned = Upload.of(ObjectRef("b", "k.txt", version_id="v1", etag="e", sequencer="s"), settings)
    assert versioned.id == "s3://b/k.txt#v:v1"
    unversioned = Upload.of(ObjectRef("b", "k.txt", etag="e", sequencer="s"), settings)
    assert unversioned.id == "s3://b/k.txt#e:e:s"
    # moto's notifications carry neither version nor sequencer: the event time separates uploads.
    local = Upload.of(ObjectRef("b", "k.txt", etag="e", event_time="2026-11-24T10:15:30.123Z"), settings)
    assert local.id == "s3://b/k.txt#e:e:2026-11-24T10:15:30.123Z"
    # The same upload, its outputs placed once for the job, the ledger and the reconciler.
    assert (versioned.output_bucket, versioned.summary_key, versioned.metadata_key) == (
        "b",
        "summaries/k_summary.txt",
        "summaries/k_summary.json",
    )


def test_an_output_key_over_s3s_limit_fails_the_record_and_claims_nothing(
    make: Any, emulator: RunPodEmulator, table: str, dynamodb: Any
) -> None:
    # S3 would refuse both PUTs after the GPU work: refused before any claim or /run.
    event = _with_object(load_event("s3_put.json"), key="k" * 1015 + ".txt")
    result = make().handle(event)
    assert "over S3's 1024-byte limit" in result["failed"][0]["error"]
    assert emulator.run_requests == 0 and dynamodb.scan(TableName=table)["Items"] == []


def test_failed_dispatch_is_not_remembered(make: Any, emulator: RunPodEmulator) -> None:
    emulator.faults.run_statuses.extend([400])
    event = load_event("s3_put.json")
    with pytest.raises(DispatchError, match="HTTP 400"):
        make().run(event)
    assert make().run(event)["dispatched"]  # the retry dispatches for real
    assert len(emulator.jobs) == 1


def test_retry_of_a_partly_failed_event_resubmits_only_the_failed_record(
    make: Any, emulator: RunPodEmulator
) -> None:
    emulator.faults.run_statuses.extend([400])  # the first record (a.txt) fails
    event = load_event("s3_put_many_records.json")
    with pytest.raises(DispatchError, match="1 of 3 records failed"):
        make().run(event)
    retried = make().run(event)  # Lambda's async retry of the whole event
    assert [d["key"] for d in retried["dispatched"]] == ["a.txt"]
    assert sorted(s["key"] for s in retried["skipped"]) == ["c d.txt", "folder/b.txt"]
    assert sorted(j.input["source"]["key"] for j in emulator.jobs.values()) == [
        "a.txt",
        "c d.txt",
        "folder/b.txt",
    ]


def test_without_a_ledger_there_is_no_dedupe(
    emulator: RunPodEmulator, moto_endpoint: str, dispatcher_env: DispatcherEnv
) -> None:
    # README "Without a ledger": every delivery sends a job; the worker's duplicate check keeps the
    # output single (tests/e2e/test_versions.py).
    dispatcher = Dispatcher.from_env(_env(dispatcher_env, moto_endpoint, None))
    event = load_event("s3_put.json")
    dispatcher.run(event)
    dispatcher.run(event)
    assert len(emulator.jobs) == 2


def test_ledger_table_unreachable_fails_the_record_without_dispatching(
    emulator: RunPodEmulator, moto_endpoint: str, dispatcher_env: DispatcherEnv
) -> None:
    env = _env(
        dispatcher_env, moto_endpoint, "ledger-table", DYNAMODB_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}"
    )
    result = Dispatcher.from_env(env).handle(load_event("s3_put.json"))
    assert "ledger table 'ledger-table': put_item failed" in result["failed"][0]["error"]
    assert emulator.run_requests == 0  # never dispatched without the claim: retried instead


def test_missing_ledger_table_is_named(
    emulator: RunPodEmulator, moto_endpoint: str, dispatcher_env: DispatcherEnv
) -> None:
    dispatcher = Dispatcher.from_env(_env(dispatcher_env, moto_endpoint, "no-such-table"))
    result = dispatcher.handle(load_event("s3_put.json"))
    assert "'no-such-table'" in result["failed"][0]["error"]
    assert "ResourceNotFoundException" in result["failed"][0]["error"]
    assert emulator.run_requests == 0


class _Context:
    """A Lambda context with a fixed amount of time left."""

    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_records_not_started_before_the_deadline_fail_for_retry(make: Any, emulator: RunPodEmulator) -> None:
    result = make().handle(load_event("s3_put_many_records.json"), _Context(remaining_ms=3_000))
    assert len(result["failed"]) == 3
    assert all("about to time out" in f["error"] for f in result["failed"])
    assert emulator.run_requests == 0


def _sqs_event(*bodies: str) -> dict[str, Any]:
    return {
        "Records": [
            {"messageId": f"m{i}", "receiptHandle": f"h{i}", "body": body, "eventSource": "aws:sqs"}
            for i, body in enumerate(bodies)
        ]
    }


def test_sqs_wiring_reports_only_the_failed_messages(make: Any, emulator: RunPodEmulator) -> None:
    emulator.faults.run_statuses.extend([400])  # the first message's record fails
    put = load_event("s3_put.json")
    other = _with_object(put, key="other.txt", versionId="v-other")
    event = _sqs_event(
        json.dumps(put), json.dumps(other), "not json", json.dumps(load_event("s3_test_event.json"))
    )
    assert is_sqs(event)
    assert make().run_sqs(event) == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
    assert [j.input["source"]["key"] for j in emulator.jobs.values()] == ["other.txt"]
    # SQS redelivers m0 only; the retry dispatches it and the batch is clean.
    assert make().run_sqs(_sqs_event(json.dumps(put))) == {"batchItemFailures": []}
    assert len(emulator.jobs) == 2


def test_an_sqs_body_nested_too_deep_is_skipped_and_the_others_are_dispatched(
    make: Any, emulator: RunPodEmulator
) -> None:
    """json.loads raised RecursionError out of run_sqs: the whole batch was redelivered, for ever."""
    event = _sqs_event("[" * 100_000 + "]" * 100_000, json.dumps(load_event("s3_put.json")))
    assert make().run_sqs(event) == {"batchItemFailures": []}
    assert len(emulator.jobs) == 1


def test_s3_event_is_not_mistaken_for_sqs() -> None:
    assert not is_sqs(load_event("s3_put.json"))
    assert not is_sqs({"Records": []})
    assert not is_sqs([])
