"""`make bench-floor` on a CPU: it runs the module with the chosen interpreter, every preset's shape is
a published config, and the README's cost table is the one `bench.cost` computes. The real run needs
a GPU; the toy run is in tests/vllm/test_bench_floor_toy.py.
"""

from __future__ import annotations

import subprocess

import pytest

from bench import floor
from bench.shapes import CONFIGS
from tests.support.paths import ROOT


def test_make_bench_floor_runs_the_module_with_the_chosen_interpreter() -> None:
    done = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-n",
            "bench-floor",
            "FLOOR_PYTHON=/opt/torch/bin/python",
            "ARGS=--presets x",
        ],
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
