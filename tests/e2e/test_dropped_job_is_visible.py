"""The local cloud reconciles on a schedule as the deployed stack does, so a job the platform drops ends
as error metadata and `client uploads` (with the environment `make up` prints) shows it closed.
"""

from __future__ import annotations

import io

import pytest

from client.cli import main
from devstack import background
from devstack.cloud import CloudConfig, LocalCloud
from tests.support.metadata_schema import assert_valid

# How the code and the docs point a user at a stack output.


@pytest.mark.e2e
def test_a_job_the_platform_drops_ends_as_error_metadata_and_uploads_shows_it_closed() -> None:
    # No worker takes the job: it expires in the emulator's queue after JOB_TTL_S and RunPod forgets
    # it. Nobody calls the reconciler here: the local cloud's schedule must close the upload.
    config = CloudConfig(
        start_worker=False,
        reconcile_every_s=0.5,
        dispatcher_env={
            "JOB_TTL_S": "2",
            "JOB_EXECUTION_TIMEOUT_S": "2",
            "RECONCILE_GRACE_S": "0",
            "JOB_MAX_ATTEMPTS": "1",
        },
    )
    with LocalCloud(config) as cloud:
        cloud.upload("dropped.txt", b"Alice: We ship on Friday.\nBob: I will write the notes.\n")
        meta = cloud.wait_for_metadata("dropped.txt", 120)
        _, metadata_key = cloud.output_keys("dropped.txt")
        assert_valid(cloud.read(metadata_key))
        assert meta["status"] == "error" and meta["error"]["code"] == "job_expired"
        assert meta["written_by"] == "reconciler" and meta["cost"] is None
        assert not cloud.reconcile_errors

        # What `make up` prints is all `client uploads` needs.
        env = background.environment(
            {
                "s3_endpoint": cloud.s3_endpoint,
                "bucket": cloud.config.bucket,
                "runpod_endpoint_url": cloud.emulator.endpoint_url,
                "runpod_api_key": cloud.emulator.api_key,
            }
        )
        out, err = io.StringIO(), io.StringIO()
        assert main(["uploads"], env, out, err) == 0, err.getvalue()
        lines = out.getvalue().splitlines()
        assert any(
            line.startswith("error") and "s3://transcripts/dropped.txt" in line and "job_expired" in line
            for line in lines
        ), lines
        assert lines[-1] == "pending=0 ok=0 error=1 superseded=0"
