"""The newest version wins and one job's work per upload (issue 12), through the local cloud.

A versioned bucket on moto, the bridge, the RunPod emulator and a real worker process. The
emulator's queue is reordered so that jobs finish in the opposite order to the uploads.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from devstack.cloud import CloudConfig, LocalCloud
from tests.support.ledger import dispatched, entry_of
from tests.support.procs import until

# Drives real worker processes or the whole local cloud: `make test-fast` leaves this tier out.
pytestmark = pytest.mark.e2e

OLD = b"""Alice: The old plan was to migrate the warehouse in March with the existing scanners.
Bob: We keep the legacy inventory software until the end of the year.
"""
NEW = b"""Carol: The new plan moves the migration to June because the scanners arrive late.
Dave: The vendor confirmed delivery of the inventory update on the first of June.
"""


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(CloudConfig(start_worker=False, worker_concurrency=1)) as running:
        yield running


def test_older_version_finishing_last_does_not_overwrite_the_newer(cloud: LocalCloud) -> None:
    key = "versions/plan.txt"
    cloud.upload(key, OLD)
    old_job = dispatched(cloud, key).job_id
    cloud.upload(key, NEW)
    new_entry = until(
        lambda: [
            e for e in cloud.dispatcher.ledger.entries() if e.key == key and e.job_id not in (None, old_job)
        ],  # type: ignore[union-attr]
        30,
        "the second version dispatched",
    )[0]
    assert old_job and new_entry.job_id
    cloud.emulator.queue_first(new_entry.job_id)  # the newer upload's job runs and finishes first
    cloud.start_worker()
    try:
        for job_id in (new_entry.job_id, old_job):
            job = cloud.emulator.wait(job_id, 60)
            assert job.status == "COMPLETED", job.view()
        assert cloud.emulator.jobs[old_job].output["status"] == "superseded"
        assert cloud.emulator.jobs[old_job].finished > cloud.emulator.jobs[new_entry.job_id].finished
    finally:
        cloud.stop_worker()
    summary_key, metadata_key = cloud.output_keys(key)
    meta = json.loads(cloud.read(metadata_key))
    new_etag = cloud.s3.head_object(Bucket=cloud.config.bucket, Key=key)["ETag"].strip('"')
    assert meta["status"] == "ok" and meta["job_id"] == new_entry.job_id
    assert meta["source"]["etag"] == new_etag
    assert "June" in cloud.read(summary_key).decode() and "March" not in cloud.read(summary_key).decode()
    # The reconciler closes both: the newer ok, the older superseded (its job wrote nothing).
    cloud.reconciler().run()
    states = sorted(e.state for e in cloud.dispatcher.ledger.entries() if e.key == key)  # type: ignore[union-attr]
    assert states == ["ok", "superseded"]


def test_duplicate_job_for_a_summarised_version_ends_before_any_model_work(cloud: LocalCloud) -> None:
    assert cloud.dispatcher is not None
    key = "versions/once.txt"
    cloud.upload(key, OLD)
    first = dispatched(cloud, key)
    cloud.start_worker()
    try:
        meta = cloud.wait_for_metadata(key, 60)
        written = cloud.s3.head_object(Bucket=cloud.config.bucket, Key=cloud.output_keys(key)[1])[
            "LastModified"
        ]
        time.sleep(1.1)  # S3 timestamps have a 1 s resolution
        # A second job for the same version (a redelivery without a ledger, a RunPod retry).
        again = cloud.dispatcher.submit_job(first.upload)
        job = cloud.emulator.wait(again, 60)
    finally:
        cloud.stop_worker()
    assert job.status == "COMPLETED" and job.output["status"] == "duplicate"
    assert first.job_id in job.output["reason"]
    after = cloud.s3.head_object(Bucket=cloud.config.bucket, Key=cloud.output_keys(key)[1])["LastModified"]
    assert after == written and json.loads(cloud.read(cloud.output_keys(key)[1]))["job_id"] == meta["job_id"]
    assert entry_of(cloud, key).attempts == 1
