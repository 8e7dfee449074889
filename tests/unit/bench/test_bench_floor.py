"""`make bench-floor` on a CPU: it runs the module with the chosen interpreter, every preset's shape is
a published config, and the README's cost table is the one `bench.cost` computes. The real run needs
a GPU; the toy run is in tests/vllm/test_bench_floor_toy.py.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

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
    assert "make bench-floor" in readme and "DESIGN.md` §9" in readme and "docs/GPU-floor.json" in readme


def test_a_summary_of_128k_on_the_h200_costs_what_our_own_floor_run_measured() -> None:
    """docs/GPU-floor.json (one H200, 2026-12-04): 14B-1M prefill 18.6 s + 1,024 steps of 15.0 ms = 34.0 s;
    7B-1M 8.18 s + 1,024 x 6.6 ms = 14.9 s."""
    from bench import cost

    assert cost.seconds("qwen2.5-14b-instruct-1m", cost.MEASURED, cost.LONG, 1) == pytest.approx(
        34.0, abs=0.1
    )
    assert cost.seconds("qwen2.5-7b-instruct-1m", cost.MEASURED, cost.LONG, 1) == pytest.approx(14.9, abs=0.1)
    assert cost.cell("qwen2.5-14b-instruct-1m", cost.GPUS[1], cost.LONG, 4) == "does not fit"


def test_a_figure_the_floor_run_did_not_measure_is_the_quoted_reference(tmp_path: Path) -> None:
    from bench import cost

    run = {
        "device": "NVIDIA H200",
        "floors": [{"preset": "yarn-mistral-7b-128k", "prefill_s": {"131072": 5.0}}],
    }
    (tmp_path / "floor.json").write_text(json.dumps(run))
    floors = cost.measured_floors(tmp_path / "floor.json")
    assert floors["yarn-mistral-7b-128k"].prefill_s[cost.LONG] == 5.0
    assert floors["yarn-mistral-7b-128k"].decode_ms == cost.QUOTED["yarn-mistral-7b-128k"].decode_ms
    assert floors["qwen2.5-14b-instruct-1m"] == cost.QUOTED["qwen2.5-14b-instruct-1m"]
    assert cost.measured_floors(tmp_path / "absent.json") == cost.QUOTED
