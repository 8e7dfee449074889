"""Shared fixtures: hermetic env, a real moto S3 server over HTTP, presigned URLs, the emulator.

Every server binds 127.0.0.1 on a free port and is stopped by the fixture that started it. Helpers
that are not fixtures live in tests/support/. The tier of a test shows in its folder
(tests/README.md): `pytest_collection_modifyitems` refuses a test whose markers disagree with it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from devstack import cloud
from devstack.cloud import FAKE_CREDENTIALS, REGION, free_port, wait_http
from devstack.runpod_emulator import RunPodEmulator
from dispatcher.presign import Presigner, make_s3_client
from tests.support.dispatch import DispatcherEnv
from tests.support.nanio import signing_s3, signing_s3_endpoint  # noqa: F401 (session fixtures for every folder)
from tests.support.paths import TESTS
from tests.support.reconcile_stack import Stack

# A test's folder under tests/ and the marker it must carry; tests under tests/unit/ carry none of them.
TIER_MARKERS = {"e2e": "e2e", "vllm": "vllm", "real_model": "real_model", "load": "load"}
_PROJECT_PREFIXES = (
    "RUNPOD_",
    "WORKER_",
    "OUTPUT_",
    "JOB_",
    "URL_",
    "SUMMARY_",
    "S3_",
    "LEDGER_",
    "AWS_",
)


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects: every collected test is checked
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The folder is the tier: tests/unit/ holds the fast tier (`make test-fast`), tests/<marker>/ the
    tests carrying that marker. A test in the wrong folder fails the collection, naming it."""
    misplaced = []
    for item in items:
        if TESTS not in item.path.parents:
            continue
        parts = item.path.relative_to(TESTS).parts
        markers = {m.name for m in item.iter_markers()} & set(TIER_MARKERS.values())
        if parts[0] == "unit":
            if markers:
                misplaced.append(f"{item.nodeid}: in tests/unit/ but marked {sorted(markers)}")
        elif parts[0] in TIER_MARKERS:
            if TIER_MARKERS[parts[0]] not in markers:
                misplaced.append(f"{item.nodeid}: in tests/{parts[0]}/ but not marked {parts[0]}")
        else:
            misplaced.append(f"{item.nodeid}: not under tests/unit/ or a tier's folder")
    if misplaced:
        raise pytest.UsageError("tests in the wrong folder for their tier:\n" + "\n".join(misplaced))


@pytest.fixture(autouse=True)
def _hermetic_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No project setting leaks in from the developer's shell; no AWS call can reach AWS."""
    for name in list(os.environ):
        if name.startswith(_PROJECT_PREFIXES):
            monkeypatch.delenv(name)
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto's server as a real HTTP endpoint (S3, SQS, DynamoDB) for the whole session."""
    port = free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack.moto_server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **FAKE_CREDENTIALS},
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{endpoint}/moto-api/", 30, process)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture
def s3(moto_endpoint: str) -> Any:
    return boto3.client(
        "s3",
        region_name=REGION,
        endpoint_url=moto_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def dynamodb(moto_endpoint: str) -> Any:
    return boto3.client(
        "dynamodb",
        region_name=REGION,
        endpoint_url=moto_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def bucket(s3: Any, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh bucket per test (name derived from the test), emptied and deleted afterwards."""
    name = "t-" + "".join(ch for ch in request.node.name.lower() if ch.isalnum())[:50]
    s3.create_bucket(Bucket=name)
    yield name
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
        for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
            s3.delete_object(Bucket=name, Key=item["Key"], VersionId=item["VersionId"])
    s3.delete_bucket(Bucket=name)


@pytest.fixture
def presigner(moto_endpoint: str) -> Presigner:
    """Presigns with the dispatcher's own code against the moto endpoint."""
    return Presigner(make_s3_client(REGION, moto_endpoint, FAKE_CREDENTIALS), expires_s=3600)


@pytest.fixture
def emulator() -> Iterator[RunPodEmulator]:
    emu = RunPodEmulator(poll_s=0.5).start()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def dispatcher_env(emulator: RunPodEmulator, moto_endpoint: str) -> DispatcherEnv:
    """`dispatcher_env(**extra)`: the dispatcher's environment against this test's emulator and the
    session's moto server; keyword arguments add or override settings."""

    def make(**extra: str) -> dict[str, str]:
        return cloud.dispatcher_env(emulator.endpoint_url, emulator.api_key, moto_endpoint, **extra)

    return make


@pytest.fixture
def stack(
    dispatcher_env: DispatcherEnv,
    dynamodb: Any,
    moto_endpoint: str,
    s3: Any,
    bucket: str,
    emulator: RunPodEmulator,
) -> Stack:
    """The reconciler's test bed (tests/support/reconcile_stack.py) on this test's bucket and emulator."""
    return Stack.create(dispatcher_env, dynamodb, moto_endpoint, s3, bucket, emulator)
