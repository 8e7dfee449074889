"""Events the dispatcher cannot use (test events, deletes, malformed records, objects gone before the
job), case by case: each is skipped or reported with a clear reason, and nothing crashes.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from devstack.runpod_emulator import RunPodEmulator
from dispatcher import app
from dispatcher.app import Dispatcher
from tests.support.dispatch import DispatcherEnv, s3_event
from tests.support.jobs import SENTENCE, assert_reported, metadata, run_job
from tests.support.paths import load_event


@pytest.fixture
def dispatcher(dispatcher_env: DispatcherEnv) -> Dispatcher:
    return Dispatcher.from_env(dispatcher_env(RUNPOD_ATTEMPTS="2"))


def test_s3_test_event_dispatches_nothing_and_does_not_fail(
    dispatcher: Dispatcher, emulator: RunPodEmulator
) -> None:
    result = dispatcher.run(load_event("s3_test_event.json"))
    assert "s3:TestEvent" in result["skipped"][0]["reason"] and emulator.jobs == {}


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        pytest.param(
            lambda r: r["s3"]["object"].pop("key"),
            "missing s3.bucket.name or s3.object.key",
            id="no_object_key",
        ),
        pytest.param(
            lambda r: r["s3"].pop("bucket"), "missing s3.bucket.name or s3.object.key", id="no_bucket"
        ),
        pytest.param(lambda r: r.pop("s3"), "missing s3.bucket.name or s3.object.key", id="no_s3_section"),
        pytest.param(lambda r: r.pop("eventName"), "not an upload", id="no_event_name"),
        pytest.param(
            lambda r: r.update(eventName="ObjectRemoved:Delete"), "not an upload", id="object_removed"
        ),
    ],
)
def test_record_with_missing_fields_is_skipped_with_its_reason(
    mutate: Any, reason: str, dispatcher: Dispatcher, emulator: RunPodEmulator
) -> None:
    event = copy.deepcopy(load_event("s3_put.json"))
    mutate(event["Records"][0])
    result = dispatcher.run(event)
    assert reason in result["skipped"][0]["reason"] and emulator.jobs == {}


NOT_S3_EVENTS = {
    # EventBridge events other than S3's "Object Created" (which the dispatcher does read).
    "eventbridge": {
        "version": "0",
        "detail-type": "EC2 Instance State-change Notification",
        "source": "aws.ec2",
        "detail": {},
    },
    "sns_record": {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "{}"}}]},
    "none": None,
    "list": [1, 2],
    "string": "s3://bucket/key.txt",
    "records_not_a_list": {"Records": "nope"},
    "record_not_an_object": {"Records": [None, 7]},
}


@pytest.mark.parametrize("name", NOT_S3_EVENTS)
def test_non_s3_event_reaches_the_lambda_handler_without_crashing(
    name: str, dispatcher: Dispatcher, emulator: RunPodEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app, "_dispatcher", dispatcher)  # what a warm Lambda holds
    result = app.lambda_handler(NOT_S3_EVENTS[name], None)
    assert result["dispatched"] == [] and result["failed"] == []
    assert result["skipped"] and all("not" in s["reason"] for s in result["skipped"])
    assert emulator.jobs == {}


def test_1000_record_event_with_junk_mixed_in_dispatches_exactly_the_good_records(
    bucket: str, dispatcher: Dispatcher, emulator: RunPodEmulator
) -> None:
    good = [s3_event(bucket, f"batch/{i:04d}.txt")["Records"][0] for i in range(900)]
    junk: list[Any] = [s3_event(bucket, f"summaries/{i}_summary.txt")["Records"][0] for i in range(50)]
    junk += [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {}}] * 25 + [None] * 25
    records = [r for pair in zip(good[:100], junk, strict=True) for r in pair] + good[100:]
    result = dispatcher.run({"Records": records})
    assert len(records) == 1000
    assert len(result["dispatched"]) == 900 and len(emulator.jobs) == 900
    assert len(result["skipped"]) == 100 and result["failed"] == []


def test_record_for_a_deleted_object_ends_in_error_metadata(
    s3: Any, bucket: str, dispatcher: Dispatcher, emulator: RunPodEmulator
) -> None:
    s3.put_object(Bucket=bucket, Key="gone.txt", Body=SENTENCE.encode())
    event = s3_event(bucket, "gone.txt")
    s3.delete_object(Bucket=bucket, Key="gone.txt")  # deleted between the upload and the job
    dispatcher.run(event)
    (job,) = emulator.jobs.values()
    result = run_job(job.input)
    meta = metadata(s3, bucket, "summaries/gone_summary.json")
    assert_reported(result, meta, "does not exist (deleted after upload?)", "download_failed")
    assert meta["source"]["key"] == "gone.txt"
