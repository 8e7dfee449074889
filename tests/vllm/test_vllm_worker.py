"""The worker process with engine `vllm` on the local cloud: it starts its own vLLM server (the tiny
model, every setting through the environment as in production), serves a long transcript end to
end through S3 → dispatcher → RunPod emulator → SDK loop, and exits non-zero when that server dies.
"""

# ruff: noqa: F811 (pytest fixtures imported by name, then taken as parameters)
from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.cloud import CloudConfig, LocalCloud
from devstack.tiny_model import TINY_CONTEXT, corpus, tiny_worker_env
from tests.support.procs import find_vllm_server
from tests.support.vllm_fixtures import (  # noqa: F401 (fixtures are used by name)
    tiny_model,
    vllm_env,
    vllm_python,
)

pytestmark = pytest.mark.vllm
EXIT_ENGINE = 3  # handler.py


def server_pid(cloud: LocalCloud, timeout_s: float = 60) -> int:
    assert cloud.worker is not None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        pid = find_vllm_server(cloud.worker.pid)
        if pid is not None:
            return pid
        assert cloud.worker.poll() is None, f"worker exited early; see {cloud.log_dir / 'worker.log'}"
        time.sleep(0.2)
    raise TimeoutError("the worker started no vLLM server")


@pytest.fixture(scope="module")
def vllm_cloud(
    vllm_python: Path, tiny_model: Path, vllm_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalCloud]:
    env = {**tiny_worker_env(vllm_python, tiny_model, vllm_env), "WORKER_DEFAULT_MAX_TOKENS": "256"}
    config = CloudConfig(worker_env=env, worker_concurrency=2, log_dir=tmp_path_factory.mktemp("vllm-cloud"))
    with LocalCloud(config) as cloud:
        pid = server_pid(cloud)
        try:
            yield cloud
        finally:
            cloud.stop_worker()  # SIGTERM: the worker stops its server on the way out
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)  # only if the worker could not


def test_a_long_transcript_is_summarised_end_to_end_by_the_workers_own_vllm(vllm_cloud: LocalCloud) -> None:
    key = "long meeting.txt"
    vllm_cloud.upload(key, "\n".join(corpus(500, seed=5)).encode())
    meta = vllm_cloud.wait_for_metadata(key, timeout_s=420)
    assert meta["status"] == "ok", meta
    assert (meta["engine"], meta["extractive"], meta["max_model_len"]) == ("vllm", False, TINY_CONTEXT)
    assert meta["input"]["tokens"] > TINY_CONTEXT
    assert meta["chunks"] > 1 and meta["levels"] >= 2
    assert meta["max_request_tokens"] <= TINY_CONTEXT
    assert meta["options"]["max_tokens_granted"] == 256
    summary_key, _ = vllm_cloud.output_keys(key)
    assert vllm_cloud.read(summary_key).strip()


def wait_ready(cloud: LocalCloud, timeout_s: float = 300) -> None:
    """Until the worker logs that it takes jobs (its server is healthy by then)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        text = (cloud.log_dir / "worker.log").read_text(errors="replace")
        if '"message": "worker ready' in text:
            return
        time.sleep(0.5)
    raise TimeoutError("the worker never became ready")


def test_killing_the_vllm_server_makes_the_worker_exit_non_zero(vllm_cloud: LocalCloud) -> None:
    worker = vllm_cloud.worker
    assert worker is not None and worker.poll() is None
    wait_ready(vllm_cloud)
    pid = server_pid(vllm_cloud)
    os.killpg(pid, signal.SIGKILL)  # the server and its engine core, as an OOM kill would
    assert worker.wait(timeout=60) == EXIT_ENGINE
    log = (vllm_cloud.log_dir / "worker.log").read_text(errors="replace")
    assert "the vLLM server exited with code -9" in log
