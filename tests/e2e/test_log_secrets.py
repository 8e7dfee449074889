"""No secret in any log line of a whole end-to-end run, and the lines are JSON with job id and key.

One run of the local cloud at production log levels: good uploads, bad ones (binary, empty, deleted
before the job), a job whose URL carries a signature to a host outside the allow-list, and a
RunPod 429. Captured: every record of every logger in this process (dispatcher, S3 bridge, RunPod
emulator, botocore, urllib3) and every line the worker process wrote (our JSON formatter, the
runpod SDK's own logger, anything on stderr). Not captured: moto's access log, which stands in for
S3's server side, not for anything we run.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack.cloud import CloudConfig, LocalCloud
from dispatcher.runpod_api import RunPodClient
from tests.support.procs import until

# Drives real worker processes or the whole local cloud: `make test-fast` leaves this tier out.
pytestmark = pytest.mark.e2e

SECRET_MARKERS = ("X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token", "Signature=", "token=")
TRANSCRIPT = b"Alice: The launch moves to May.\nBob: I will tell the customers on Monday.\n" * 5


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One end-to-end run; yields every log line and the secrets that must not appear in them."""
    tmp_path = tmp_path_factory.mktemp("e2e-logs")
    root = logging.getLogger()
    collect, level = _Collect(), root.level
    root.addHandler(collect)
    root.setLevel(logging.INFO)  # every logger in this process, at the production level
    try:
        yield _run(tmp_path, collect)
    finally:
        root.removeHandler(collect)
        root.setLevel(level)


def _run(tmp_path: Path, collect: _Collect) -> dict[str, Any]:
    with LocalCloud(CloudConfig(log_dir=tmp_path, worker_concurrency=2)) as cloud:
        cloud.emulator.faults.run_statuses.extend([429])  # a retried /run logs a warning
        for key, body in [("good one.txt", TRANSCRIPT), ("binary.txt", b"\x00\x01\x02"), ("empty.txt", b"")]:
            cloud.upload(key, body)
        cloud.upload("deleted.txt", TRANSCRIPT)
        cloud.s3.delete_object(Bucket=cloud.config.bucket, Key="deleted.txt")
        for key in ("good one.txt", "binary.txt", "empty.txt"):
            cloud.wait_for_metadata(key, timeout_s=60)
        # A job built by hand whose URL leads off the allow-list, signature and all.
        rogue = RunPodClient(cloud.emulator.endpoint_url, cloud.emulator.api_key).submit(
            {
                "transcript_url": "https://evil.example.com/t.txt?X-Amz-Signature=deadbeef&X-Amz-Credential=AKIA"
            },
            {"executionTimeout": 60_000, "ttl": 600_000},
        )
        until(lambda: cloud.emulator.jobs[rogue].status == "FAILED", 30, "the rogue job failing")
        until(lambda: len(cloud.emulator.counts()) and _all_done(cloud), 60, "every job finishing")
        secrets = {
            "runpod api key": cloud.emulator.api_key,
            "worker token": cloud.emulator.worker_token,
            **{f"url of {j.id}": u for j in cloud.emulator.jobs.values() for u in _urls(j.input)},
        }
        jobs = {j.id: j for j in cloud.emulator.jobs.values()}
    worker_lines = (tmp_path / "worker.log").read_text(errors="replace").splitlines()
    in_process = [_render(r) for r in collect.records]
    return {"worker": worker_lines, "in_process": in_process, "secrets": secrets, "jobs": jobs}


def _all_done(cloud: LocalCloud) -> bool:
    counts = cloud.emulator.counts()
    return counts.get("IN_QUEUE", 0) == 0 and counts.get("IN_PROGRESS", 0) == 0


def _urls(job_input: dict[str, Any]) -> list[str]:
    return [v for k, v in job_input.items() if k.endswith("_url") and isinstance(v, str)]


def _render(record: logging.LogRecord) -> str:
    text = record.getMessage()
    if record.exc_info:
        text += "\n" + logging.Formatter().formatException(record.exc_info)
    return f"{record.name}: {text}"


def test_no_presigned_query_string_api_key_or_token_in_any_log_line(run: dict[str, Any]) -> None:
    lines = run["worker"] + run["in_process"]
    assert len(run["worker"]) > 20 and len(run["in_process"]) > 5  # the run did log
    for line in lines:
        for marker in SECRET_MARKERS:
            assert marker not in line, line
        for name, secret in run["secrets"].items():
            assert secret not in line, f"{name} leaked: {line}"
            query = secret.partition("?")[2]
            assert not query or query not in line, f"query string of {name} leaked: {line}"


def test_worker_lines_are_json_and_job_lines_carry_job_id_and_object_key(run: dict[str, Any]) -> None:
    ours = []
    for line in run["worker"]:
        if line.startswith("--- Starting Serverless Worker"):
            continue  # the SDK's start-up banner, printed once
        entry = json.loads(line)  # every other line, ours or the SDK's, is one JSON object
        if entry.get("component") == "worker":
            ours.append(entry)
    job_lines = [e for e in ours if e["logger"] == "worker.runner"]
    assert job_lines
    for entry in job_lines:
        assert entry["job_id"] in run["jobs"]
    keyed = {e["object_key"] for e in job_lines if "object_key" in e}
    assert {"good one.txt", "binary.txt", "empty.txt", "deleted.txt"} <= keyed


def test_dispatcher_lines_are_json_with_object_key_and_job_id(run: dict[str, Any]) -> None:
    entries = [
        json.loads(line.split(": ", 1)[1]) for line in run["in_process"] if line.startswith("dispatcher: {")
    ]
    dispatched = [e for e in entries if e["event"] == "dispatched"]
    assert {e["object_key"] for e in dispatched} == {"good one.txt", "binary.txt", "empty.txt", "deleted.txt"}
    assert all(e["job_id"] in run["jobs"] for e in dispatched)
