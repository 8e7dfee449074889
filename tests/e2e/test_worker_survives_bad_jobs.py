"""A real worker process (`python handler.py`, the SDK's production loop against the RunPod emulator)
fails a run of bad jobs one by one, each with a clear error, and still serves the next good job.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devstack.runpod_emulator import RunPodEmulator
from dispatcher.presign import Presigner
from dispatcher.runpod_api import RunPodClient
from tests.support.jobs import SENTENCE, pull_job
from tests.support.procs import until, worker_process


@pytest.mark.e2e
def test_a_real_worker_survives_a_run_of_bad_jobs_and_still_serves(
    s3: Any, bucket: str, presigner: Presigner, tmp_path: Path
) -> None:
    emulator = RunPodEmulator(poll_s=0.5).start()
    client = RunPodClient(emulator.endpoint_url, emulator.api_key)
    policy = {"executionTimeout": 60_000, "ttl": 600_000}
    bad = [
        {"text": SENTENCE, "transcript": "typo"},
        {"transcript_url": "file:///etc/passwd"},
        {"transcript_url": "https://169.254.169.254/latest/meta-data/"},
        {"text": "\x00\x01\x02 binary"},
        {"text": " \n "},
        {"options": {"max_tokens": -1}},
        pull_job(s3, bucket, presigner, None, key="missing.txt"),
    ]
    try:
        ids = [client.submit(raw, policy) for raw in bad]
        with worker_process(emulator, tmp_path / "worker.log") as worker:
            until(lambda: all(emulator.jobs[i].status == "FAILED" for i in ids), 60, "every bad job failing")
            good = client.submit({"text": SENTENCE * 3}, policy)
            until(lambda: emulator.jobs[good].status == "COMPLETED", 30, "the next good job completing")
            assert worker.poll() is None
        errors = [str(emulator.jobs[i].error) for i in ids]
        assert all(errors) and not any("internal error" in e for e in errors)
    finally:
        emulator.stop()
