"""The dispatcher against real local servers: moto S3 over HTTP and the RunPod emulator."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from devstack import cloud
from devstack.runpod_emulator import RunPodEmulator
from dispatcher.app import Dispatcher
from dispatcher.errors import DispatchError, SettingsError
from dispatcher.settings import Settings
from tests.support.dispatch import DispatcherEnv
from tests.support.paths import ROOT, load_event
from worker.job import JobInput


@pytest.fixture
def dispatcher(dispatcher_env: DispatcherEnv) -> Dispatcher:
    return Dispatcher.from_env(dispatcher_env(RUNPOD_ATTEMPTS="3"))


def _jobs(emulator: RunPodEmulator) -> list[dict[str, Any]]:
    return [job.input for job in emulator.jobs.values()]


def test_each_record_becomes_one_job_with_presigned_urls(
    dispatcher: Dispatcher, emulator: RunPodEmulator
) -> None:
    result = dispatcher.run(load_event("s3_put_many_records.json"))
    assert [d["key"] for d in result["dispatched"]] == ["a.txt", "folder/b.txt", "c d.txt"]
    inputs = _jobs(emulator)
    assert [i["source"]["key"] for i in inputs] == ["a.txt", "folder/b.txt", "c d.txt"]
    nested = inputs[1]
    assert "/meetings-bucket/folder/b.txt?" in nested["transcript_url"]
    assert "/meetings-bucket/summaries/folder/b_summary.txt?" in nested["summary_put_url"]
    assert "/meetings-bucket/summaries/folder/b_summary.json?" in nested["metadata_put_url"]


def test_dispatched_input_validates_against_the_worker_contract(
    dispatcher: Dispatcher, emulator: RunPodEmulator
) -> None:
    dispatcher.run(load_event("s3_put_encoded_key.json"))
    (raw,) = _jobs(emulator)
    job = JobInput.parse(json.loads(json.dumps(raw)))  # exactly what crossed the wire
    assert job.source is not None and job.source.key == "team notes/Q4 (final)+v2 café.txt"
    assert job.pull_mode


def test_policy_and_bearer_auth_reach_runpod(dispatcher: Dispatcher, emulator: RunPodEmulator) -> None:
    dispatcher.run(load_event("s3_put.json"))
    (job,) = emulator.jobs.values()
    assert job.policy == {"executionTimeout": 600_000, "ttl": 7_200_000}


def test_summary_prefix_does_not_retrigger(dispatcher: Dispatcher, emulator: RunPodEmulator) -> None:
    result = dispatcher.run(load_event("s3_put_summary_output.json"))
    assert result["dispatched"] == []
    assert len(result["skipped"]) == 2
    assert emulator.jobs == {}


def test_test_event_dispatches_nothing(dispatcher: Dispatcher, emulator: RunPodEmulator) -> None:
    result = dispatcher.run(load_event("s3_test_event.json"))
    assert result["dispatched"] == [] and emulator.jobs == {}


def test_runpod_429_and_503_are_retried(dispatcher: Dispatcher, emulator: RunPodEmulator) -> None:
    emulator.faults.run_statuses.extend([429, 503])
    result = dispatcher.run(load_event("s3_put.json"))
    assert len(result["dispatched"]) == 1
    assert emulator.run_requests == 3


def test_failed_record_does_not_stop_the_others_and_the_event_fails(
    dispatcher: Dispatcher, emulator: RunPodEmulator
) -> None:
    emulator.faults.run_statuses.extend([400])  # a permanent error for the first record only
    with pytest.raises(DispatchError, match=r"1 of 3 records failed; first: a\.txt"):
        dispatcher.run(load_event("s3_put_many_records.json"))
    assert [i["source"]["key"] for i in _jobs(emulator)] == ["folder/b.txt", "c d.txt"]


def test_wrong_api_key_is_not_retried(emulator: RunPodEmulator, dispatcher_env: DispatcherEnv) -> None:
    dispatcher = Dispatcher.from_env(dispatcher_env(RUNPOD_ATTEMPTS="3", RUNPOD_API_KEY="wrong"))
    result = dispatcher.handle(load_event("s3_put.json"))
    assert "rejected the API key (401)" in result["failed"][0]["error"]
    assert emulator.api_requests == 1


def test_runpod_down_fails_after_bounded_retries(moto_endpoint: str) -> None:
    emulator = RunPodEmulator().start()
    env = cloud.dispatcher_env(emulator.endpoint_url, emulator.api_key, moto_endpoint, RUNPOD_ATTEMPTS="2")
    emulator.stop()  # nothing listens on the port any more
    result = Dispatcher.from_env(env).handle(load_event("s3_put.json"))
    assert "failed after 2 attempts" in result["failed"][0]["error"]


@pytest.mark.parametrize("missing", ["RUNPOD_API_KEY", "RUNPOD_ENDPOINT_URL", "AWS_REGION"])
def test_missing_required_setting_is_named(missing: str) -> None:
    env = {
        "RUNPOD_API_KEY": "k",
        "RUNPOD_ENDPOINT_URL": "https://api.runpod.ai/v2/abc",
        "AWS_REGION": "us-east-1",
    }
    del env[missing]
    with pytest.raises(SettingsError, match=missing):
        Settings.from_env(env)


def test_urls_must_outlive_the_job() -> None:
    env = {
        "RUNPOD_API_KEY": "k",
        "RUNPOD_ENDPOINT_URL": "https://api.runpod.ai/v2/abc",
        "AWS_REGION": "us-east-1",
        "JOB_TTL_S": "3600",
        "JOB_EXECUTION_TIMEOUT_S": "600",
    }
    assert Settings.from_env(env).url_expires_s == 3600 + 600 + 300
    with pytest.raises(SettingsError, match="URL_EXPIRES_S"):
        Settings.from_env({**env, "URL_EXPIRES_S": "3600"})
    with pytest.raises(SettingsError, match="7-day"):
        Settings.from_env({**env, "JOB_TTL_S": str(8 * 24 * 3600)})


def test_output_bucket_and_prefix_are_configurable(
    emulator: RunPodEmulator, dispatcher_env: DispatcherEnv
) -> None:
    dispatcher = Dispatcher.from_env(
        dispatcher_env(RUNPOD_ATTEMPTS="3", OUTPUT_BUCKET="out-bucket", OUTPUT_PREFIX="done")
    )
    dispatcher.run(load_event("s3_put.json"))
    (raw,) = _jobs(emulator)
    assert "/out-bucket/done/session1_summary.txt?" in raw["summary_put_url"]


def test_dispatcher_never_imports_runpod_or_worker_code() -> None:
    # `import runpod` alone costs ~1.7 s of Lambda cold start; pydantic is not in the runtime.
    heavy = "('runpod', 'worker', 'pydantic', 'aiohttp', 'requests')"
    code = f"import sys, dispatcher.app; print(sorted(m for m in sys.modules if m.split('.')[0] in {heavy}))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
