"""`make bench-gpu` on a CPU: its arguments, the real-shape configs it writes, and its refusal
without CUDA. The measurements themselves need a GPU (docs/GPU.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import gpu
from tests.support.paths import ROOT
from worker.engines import PRESETS, local_preset


def test_default_presets_cover_each_instruct_family() -> None:
    args = gpu.parse_args([])
    assert args.names == list(gpu.DEFAULT_PRESETS)
    families = {gpu.CONFIGS[n]["architectures"][0] for n in args.names}
    assert families == {"Qwen2ForCausalLM", "LlamaForCausalLM", "Qwen3ForCausalLM"}


def test_an_unknown_preset_is_refused_with_the_known_ones(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        gpu.parse_args(["--presets", "gpt-7"])
    assert exit_info.value.code == 2
    assert "qwen3-8b-yarn-128k" in capsys.readouterr().err


@pytest.mark.parametrize("name", sorted(gpu.CONFIGS))
def test_the_written_config_has_the_presets_shape(name: str, tmp_path: Path) -> None:
    preset = gpu.write_config(name, tmp_path / name)
    written = local_preset(tmp_path / name, preset.max_model_len)
    assert written.shape is not None and PRESETS[name].shape is not None
    expected = PRESETS[name].shape
    assert (written.shape.layers, written.shape.kv_heads, written.shape.head_dim) == (
        expected.layers,
        expected.kv_heads,
        expected.head_dim,
    )
    args = gpu.server_args(preset, 0.9)
    assert args[args.index("--max-model-len") + 1] == str(PRESETS[name].max_model_len)
    assert {"--load-format", "dummy", "--skip-tokenizer-init"} <= set(args)
    assert preset.model == str((tmp_path / name).resolve())
    assert json.loads((tmp_path / name / "config.json").read_text())["torch_dtype"] == "bfloat16"


def test_write_configs_only_writes(tmp_path: Path) -> None:
    assert gpu.main(["--presets", "llama-3.1-8b-instruct", "--write-configs", str(tmp_path)]) == 0
    assert (tmp_path / "llama-3.1-8b-instruct" / "config.json").is_file()


def test_without_cuda_it_says_so_and_exits_non_zero(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.gpu", "--out", str(tmp_path / "GPU.md")],
        cwd=ROOT,
        env={"PATH": str(tmp_path)},  # no nvidia-smi
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "needs a CUDA GPU" in done.stderr
    assert not (tmp_path / "GPU.md").exists()


def test_the_roofline_floor_grows_with_context() -> None:
    prefill, decode = gpu.floors(PRESETS["qwen3-8b-yarn-128k"], "NVIDIA H100 80GB HBM3")
    assert prefill[131_072] > 4 * prefill[32_768]  # attention is quadratic
    assert decode[131_072] > decode[4096] > 0
    assert gpu.floors(PRESETS["qwen3-8b-yarn-128k"], "Tesla T4") == ({}, {})
