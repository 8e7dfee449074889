"""`make bench-floor`'s torch-only floor benchmark runs end to end at a toy shape on a CPU, with the
vLLM venv's torch (its figures mean nothing here), and refuses real shapes without CUDA.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from devstack.tiny_model import vllm_python_path
from tests.support.paths import ROOT


# Uses the vLLM venv's torch (the dev venv has none); starts no server.
@pytest.mark.vllm
def test_the_floor_benchmark_runs_at_a_toy_shape_on_a_cpu(tmp_path: Path) -> None:
    out = tmp_path / "floor.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    python = str(vllm_python_path())
    done = subprocess.run(
        [python, "-m", "bench.floor", "--toy", "--presets", "qwen2.5-14b-instruct-1m", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "toy shape: not results" in done.stdout
    (result,) = json.loads(out.read_text())["floors"]
    assert list(result["prefill_s"]) == ["64", "128", "256"]
    assert list(result["decode_ms"]) == ["128", "256"]
    assert list(result["batched_ms"]) == ["1", "4", "8", "16"]
    assert all(v > 0 for v in [*result["prefill_s"].values(), *result["decode_ms"].values()])
    real = subprocess.run(
        [python, "-m", "bench.floor", "--presets", "qwen2.5-14b-instruct-1m"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert real.returncode == 2 and "no CUDA device" in real.stderr
