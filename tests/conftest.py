"""Shared fixtures: hermetic env, a real moto S3 server over HTTP, presigned URLs, the emulator.

Every server binds 127.0.0.1 on a free port and is stopped by the fixture that started it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from devstack import cloud
from devstack.cloud import FAKE_CREDENTIALS, REGION, free_port, wait_http
from devstack.runpod_emulator import RunPodEmulator
from dispatcher.presign import Presigner, make_s3_client

if TYPE_CHECKING:
    from tests.reconcile_stack import Stack

ROOT = Path(__file__).resolve().parent.parent
EVENTS = Path(__file__).resolve().parent / "events"
# What the `dispatcher_env` fixture gives a test: call it with settings to add or override.
DispatcherEnv = Callable[..., dict[str, str]]
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
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
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
    """The reconciler's test bed (tests/reconcile_stack.py) on this test's bucket and emulator."""
    from tests.reconcile_stack import Stack  # it imports tests.procs, which imports this module

    return Stack.create(dispatcher_env, dynamodb, moto_endpoint, s3, bucket, emulator)


def load_event(name: str) -> dict[str, Any]:
    import json

    return json.loads((EVENTS / name).read_text())  # type: ignore[no-any-return]


def deliver_at_once(dispatchers: list[Any], event: dict[str, Any], timeout_s: float) -> list[dict[str, Any]]:
    """One event handed to every dispatcher at the same moment (threads behind a barrier): S3's and
    Lambda's duplicate deliveries racing each other. The results, in finishing order."""
    barrier = threading.Barrier(len(dispatchers))
    results: list[dict[str, Any]] = []

    def deliver(dispatcher: Any) -> None:
        barrier.wait()
        results.append(dispatcher.handle(event))

    threads = [threading.Thread(target=deliver, args=(d,)) for d in dispatchers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout_s)
    return results
