"""`make bench-floor` on a CPU: the torch-only floor benchmark runs end to end at a toy shape (its
figures mean nothing here), and refuses real shapes without CUDA. The real run needs a GPU."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from bench import floor
from bench.shapes import CONFIGS
from devstack.tiny_model import vllm_python_path
from tests.conftest import ROOT


def test_make_bench_floor_runs_the_module_with_the_chosen_interpreter() -> None:
    done = subprocess.run(
        ["make", "-n", "bench-floor", "FLOOR_PYTHON=/opt/torch/bin/python", "ARGS=--presets x"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "/opt/torch/bin/python -m bench.floor --presets x"


def test_every_preset_shape_is_a_published_config() -> None:
    for name in CONFIGS:
        shape = floor.shape_of(name, toy=False)
        assert shape["heads"] % shape["kv_heads"] == 0, name
        assert shape["head_dim"] == 128, name  # every preset's published head size


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


def test_the_readmes_cost_table_is_the_one_bench_cost_computes() -> None:
    from bench import cost

    readme = (ROOT / "README.md").read_text()
    assert cost.render() in readme
    assert "make bench-floor" in readme and "DESIGN.md` §9" in readme


def test_a_summary_of_128k_on_the_h200_costs_what_the_reference_run_says() -> None:
    """DESIGN.md §9: 40 s (≈ $0.062) for the 14B-1M, 18 s (≈ $0.028) for the 7B-1M."""
    from bench import cost

    assert cost.seconds("qwen2.5-14b-instruct-1m", cost.MEASURED, cost.LONG, 1) == pytest.approx(
        40.0, abs=0.1
    )
    assert cost.seconds("qwen2.5-7b-instruct-1m", cost.MEASURED, cost.LONG, 1) == pytest.approx(17.9, abs=0.1)
    assert cost.cell("qwen2.5-14b-instruct-1m", cost.GPUS[1], cost.LONG, 4) == "does not fit"
