"""nanio, the S3 server that checks SigV4 signatures and presigned-URL expiry, on 127.0.0.1 for the
session (tests/conftest.py makes its fixtures visible everywhere); stopped whatever the tests did."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack.cloud import REGION, free_port, terminate
from dispatcher.presign import make_s3_client

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "sigv4-test-key", "AWS_SECRET_ACCESS_KEY": "sigv4-test-secret-0123456789"}
BUCKET = "transcripts"


@pytest.fixture(scope="session")
def signing_s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """nanio on 127.0.0.1, stopped at the end of the session whatever the tests did."""
    port = free_port()
    data = tmp_path_factory.mktemp("nanio-data")
    log = (data.parent / "nanio.log").open("wb")
    env = {
        **os.environ,
        "NANIO_ACCESS_KEY": CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "NANIO_SECRET_KEY": CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    }
    nanio = Path(sys.executable).with_name("nanio")
    process = subprocess.Popen(
        [
            str(nanio),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--data-dir",
            str(data),
            "--region",
            REGION,
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        _wait_listening(endpoint, process)
        yield endpoint
    finally:
        terminate(process)
        log.close()


def _wait_listening(endpoint: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, f"nanio exited with {process.returncode}"
        try:
            urllib.request.urlopen(endpoint, timeout=1)
            return
        except urllib.error.HTTPError:
            return  # it answers (403 without a signature): it is up
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nanio did not listen on {endpoint}")


@pytest.fixture(scope="session")
def signing_s3(signing_s3_endpoint: str) -> Any:
    client = make_s3_client(REGION, signing_s3_endpoint, CREDENTIALS)
    client.create_bucket(Bucket=BUCKET)
    return client
