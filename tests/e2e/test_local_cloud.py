"""End to end over HTTP: S3 upload → SQS → dispatcher → RunPod emulator → real SDK worker loop
(`python handler.py` in production mode) → presigned PUTs → summary and metadata in S3."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from devstack.cloud import CloudConfig, LocalCloud
from worker.meeting import ENGLISH

# Drives real worker processes or the whole local cloud: `make test-fast` leaves this tier out.
pytestmark = pytest.mark.e2e

MEETING = """Alice: Good morning, let's review the warehouse migration plan for the second quarter.
Bob: The new scanners arrive on the third of May, but the inventory software still needs an update.
Carol: The vendor promised the update by the end of April, and I will chase them this week.
Alice: What happens if the update is late?
Bob: Then we keep the old system running in parallel for two weeks, which costs extra staff time.
Carol: We decided last month that parallel running is acceptable for at most two weeks.
Alice: Agreed. Bob, please prepare a staffing plan for the parallel period by Friday.
Bob: Sure, I'll send it to everyone by Friday afternoon.
"""

KEYS = ["weekly sync.txt", "team notes/2026 (Q2)+plan final.txt", "ops/eu/west/warehouse.txt"]


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(CloudConfig(worker_concurrency=2)) as running:
        yield running


def test_three_uploads_become_summaries_at_the_exact_keys(cloud: LocalCloud) -> None:
    for key in KEYS:
        cloud.upload(key, MEETING.encode())
    for key in KEYS:
        meta = cloud.wait_for_metadata(key, timeout_s=90)
        summary_key, metadata_key = cloud.output_keys(key)
        assert metadata_key == "summaries/" + key[: -len(".txt")] + "_summary.json"
        assert meta["status"] == "ok", meta
        assert meta["source"]["key"] == key
        assert meta["source"]["bucket"] == cloud.config.bucket
        # moto's event omits versionId (AWS sends it); size and ETag identify the upload here.
        assert meta["source"]["size"] == len(MEETING.encode())
        assert meta["source"]["etag"]
        assert meta["engine"] == "extractive"
        summary = cloud.read(summary_key).decode()
        assert summary.startswith(ENGLISH.label)
        bullets = [line[2:] for line in summary.splitlines() if line.startswith("- ")]
        assert bullets and all(b.split(": ", 1)[1] in MEETING for b in bullets)


def test_summary_writes_do_not_retrigger_the_dispatcher(cloud: LocalCloud) -> None:
    key = "retrigger check.txt"
    cloud.upload(key, MEETING.encode())
    cloud.wait_for_metadata(key, timeout_s=90)
    time.sleep(2.5)  # the summary's own ObjectCreated event has had time to reach the bridge
    sources = [job.input["source"]["key"] for job in cloud.emulator.jobs.values()]
    assert sources.count(key) == 1
    assert not any(s.startswith("summaries/") for s in sources)
    assert cloud.bridge_errors == []


def test_emulator_reports_completed_jobs_with_small_outputs(cloud: LocalCloud) -> None:
    key = "status check.txt"
    cloud.upload(key, MEETING.encode())
    cloud.wait_for_metadata(key, timeout_s=90)
    (job,) = [j for j in cloud.emulator.jobs.values() if j.input["source"]["key"] == key]
    job = cloud.emulator.wait(job.id, timeout_s=30)
    assert job.status == "COMPLETED", job.view()
    assert job.output["status"] == "ok" and "summary" not in job.output
    assert job.output["source_key"] == key
