"""Object keys as S3 sends them (spaces, `+`, `%`, unicode, overlong), through the dispatcher against the
RunPod emulator, then the dispatched job through the worker's JobRunner.

A key that can be dispatched gets its summary beside it; one that cannot is reported with a clear
error naming the problem.
"""

from __future__ import annotations

from typing import Any

import pytest

from devstack.runpod_emulator import RunPodEmulator
from dispatcher.app import Dispatcher
from tests.support.dispatch import DispatcherEnv, s3_event, uploaded
from tests.support.jobs import SENTENCE, has_object, run_job


@pytest.fixture
def dispatcher(dispatcher_env: DispatcherEnv) -> Dispatcher:
    return Dispatcher.from_env(dispatcher_env(RUNPOD_ATTEMPTS="2"))


DISPATCHABLE_KEYS = {
    "spaces": ("team notes/weekly sync.txt", "summaries/team notes/weekly sync_summary.txt"),
    "plus_sign": ("c++ review+notes.txt", "summaries/c++ review+notes_summary.txt"),
    "percent_sign": ("100% done %20 literally.txt", "summaries/100% done %20 literally_summary.txt"),
    "unicode": ("réunions/会议 ☕ Zoë.txt", "summaries/réunions/会议 ☕ Zoë_summary.txt"),
    "long_but_within_limits": (
        "d/" * 200 + "x" * 590 + ".txt",
        "summaries/" + "d/" * 200 + "x" * 590 + "_summary.txt",
    ),
}


@pytest.mark.parametrize("name", DISPATCHABLE_KEYS)
def test_awkward_key_is_decoded_dispatched_and_summarised_at_the_right_key(
    name: str, s3: Any, bucket: str, dispatcher: Dispatcher, emulator: RunPodEmulator
) -> None:
    key, summary_key = DISPATCHABLE_KEYS[name]
    result = dispatcher.run(uploaded(s3, bucket, key, SENTENCE.encode()))
    assert [d["key"] for d in result["dispatched"]] == [key]
    (job,) = emulator.jobs.values()
    assert run_job(job.input)["status"] == "ok"
    assert has_object(s3, bucket, summary_key)


SKIPPED_KEYS = {
    "under_the_output_prefix": ("summaries/old_summary.txt", "under the output prefix"),
    "our_own_summary_name": ("notes_summary.txt", "looks like a summary"),
    "not_txt": ("slides.pdf", "does not end in '.txt'"),
    "upper_case_TXT": ("SHOUT.TXT", "does not end in '.txt'"),  # S3 suffix filters are case-sensitive too
}


@pytest.mark.parametrize("name", SKIPPED_KEYS)
def test_key_that_must_not_be_summarised_is_skipped_with_its_reason(
    name: str, bucket: str, dispatcher: Dispatcher, emulator: RunPodEmulator
) -> None:
    key, reason = SKIPPED_KEYS[name]
    result = dispatcher.run(s3_event(bucket, key))
    assert result["dispatched"] == [] and emulator.jobs == {}
    assert reason in result["skipped"][0]["skipped"]


def test_key_whose_summary_key_would_exceed_s3s_limit_fails_at_dispatch(
    bucket: str, dispatcher: Dispatcher, emulator: RunPodEmulator
) -> None:
    # Regression: a 1,014-byte key was dispatched, and S3 would refuse both output PUTs
    # (KeyTooLongError; moto does not enforce it) after the GPU work: no summary, no metadata.
    result = dispatcher.handle(s3_event(bucket, "k" * 1010 + ".txt"))
    assert "over S3's 1024-byte limit" in result["failed"][0]["error"]
    assert emulator.jobs == {}  # the failure goes to Lambda's retries, then the on-failure queue
