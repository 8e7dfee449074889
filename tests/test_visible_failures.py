"""Failures you can see: the local cloud reconciles on a schedule as the deployed stack does, so a
job the platform drops ends as error metadata and `client uploads` (with the environment `make up`
prints) shows it closed; every stack output the code and docs name exists in template.yaml."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from cfnlint.decode import decode_str

from client.cli import main
from devstack import background
from devstack.cloud import CloudConfig, LocalCloud
from tests.conftest import ROOT
from tests.metadata_schema import assert_valid

# How the code and the docs point a user at a stack output.
_OUTPUT_NAMES = (
    re.compile(r"the stack's `?([A-Z][A-Za-z0-9]+)`? output"),
    re.compile(r"<([A-Z][A-Za-z0-9]+) output>"),
    re.compile(r"`([A-Z][A-Za-z0-9]+)` output"),
    re.compile(r"([A-Z][A-Za-z0-9]+) stack output"),
)


def _sources() -> list[Path]:
    code = [
        p for d in ("client", "dispatcher", "deploy", "devstack", "worker") for p in (ROOT / d).rglob("*.py")
    ]
    return [*code, ROOT / "README.md", ROOT / "Makefile", *(ROOT / "docs").glob("*.md")]


def _outputs() -> set[str]:
    document, errors = decode_str((ROOT / "template.yaml").read_text())
    assert not errors
    return set(document["Outputs"])


def test_every_stack_output_the_code_and_docs_name_exists_in_the_template() -> None:
    named: dict[str, set[str]] = {}
    for path in _sources():
        text = " ".join(path.read_text(encoding="utf-8").split())  # phrases broken across lines
        for pattern in _OUTPUT_NAMES:
            for name in pattern.findall(text):
                named.setdefault(name, set()).add(str(path.relative_to(ROOT)))
        if path.name == "DEPLOY.md":  # "Stack outputs: `UploadTo`, `SummariesAt`, …"
            listed = re.search(r"Stack outputs: (.+?)\.", text)
            assert listed is not None
            for name in re.findall(r"`([A-Z][A-Za-z0-9]+)`", listed.group(1)):
                named.setdefault(name, set()).add("docs/DEPLOY.md")
    assert "LedgerTable" in named  # client/uploads.py's error message points at it
    missing = {name: sorted(where) for name, where in named.items() if name not in _outputs()}
    assert not missing, f"stack outputs named but not in template.yaml: {missing}"


def test_make_up_reconciles_on_a_schedule_and_prints_the_ledgers_name(tmp_path: Path) -> None:
    assert background.cloud_config(tmp_path, env={}).reconcile_every_s == 30.0
    assert background.cloud_config(tmp_path, env={"RECONCILE_EVERY_S": "5"}).reconcile_every_s == 5.0
    state = {
        "s3_endpoint": "http://127.0.0.1:1",
        "bucket": "b",
        "runpod_endpoint_url": "u",
        "runpod_api_key": "k",
    }
    assert background.environment(state)["LEDGER_TABLE"] == "job-ledger"


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
