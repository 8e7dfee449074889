"""The rope scaling that the pinned vLLM actually builds for the Mistral preset, against the YaRN
formula with the trained parameters (jquesnelle/yarn `modeling_mistral_yarn.py`: beta_fast=128,
beta_slow=2, attention scale 0.07·ln s + 1).

A probe script runs in the vLLM venv: vLLM's own `ModelConfig` reads a checkpoint folder shaped like
the published Yarn-Mistral-7b-128k config (rope_scaling with `factor` only, max_position_embeddings
32,768) with the preset's `hf_overrides`, then vLLM's `get_rope` builds the rotary embedding the
model would use. The same folder without overrides is the control: vLLM's defaults differ.
"""

# ruff: noqa: F811 (pytest fixtures imported by name, then taken as parameters)
from __future__ import annotations

import json
import math
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.vllm_fixtures import vllm_env, vllm_python  # noqa: F401 (fixtures are used by name)
from worker.engines import PRESETS

pytestmark = pytest.mark.vllm

PUBLISHED_CONFIG = {  # NousResearch/Yarn-Mistral-7b-128k's config.json, shape and rope fields
    "architectures": ["MistralForCausalLM"],
    "model_type": "mistral",
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "num_hidden_layers": 32,
    "vocab_size": 32000,
    "max_position_embeddings": 32768,
    "rope_theta": 10000.0,
    "sliding_window": 131072,
    "rms_norm_eps": 1e-05,
    "rope_scaling": {
        "type": "yarn",
        "factor": 16.0,
        "original_max_position_embeddings": 8192,
        "finetuned": True,
    },
}
POSITIONS = (0, 1, 100, 4095, 8191)

PROBE = """
import json, sys
import torch
from vllm.config import ModelConfig, VllmConfig, set_current_vllm_config
from vllm.model_executor.layers.rotary_embedding import get_rope

folder, max_len = sys.argv[1], int(sys.argv[3])
overrides, positions = json.loads(sys.argv[2]), json.loads(sys.argv[4])
out = {}
for label, hf_overrides in (("preset", overrides), ("published", {})):
    kwargs = {"model": folder, "hf_overrides": hf_overrides, "dtype": "bfloat16"}
    if hf_overrides:
        kwargs["max_model_len"] = max_len
    config = ModelConfig(**kwargs)
    text = config.hf_text_config
    head_dim = getattr(text, "head_dim", None) or text.hidden_size // text.num_attention_heads
    with set_current_vllm_config(VllmConfig(model_config=config)):
        rope = get_rope(head_dim, max_position=text.max_position_embeddings, is_neox_style=True,
                        rope_parameters=text.rope_parameters, dtype=torch.float32)
    cache = rope.cos_sin_cache
    half = cache.shape[1] // 2
    out[label] = {
        "class": type(rope).__name__,
        "max_model_len": config.max_model_len,
        "mscale": float(rope.mscale),
        "inv_freq": rope._compute_inv_freq(rope.scaling_factor).tolist(),
        "cache_rows": cache.shape[0],
        "cos": [cache[p, :half].tolist() for p in positions],
        "sin": [cache[p, half:].tolist() for p in positions],
        "last_norm": float((cache[-1, :half] ** 2 + cache[-1, half:] ** 2).sqrt().mean()),
    }
print(json.dumps(out))
"""


def yarn_inv_freq(
    dim: int, base: float, scale: float, original: int, beta_fast: float, beta_slow: float
) -> list[float]:
    """jquesnelle/yarn's Mistral formula, written out independently of vLLM."""

    def correction_dim(rotations: float) -> float:
        return dim * math.log(original / (rotations * 2 * math.pi)) / (2 * math.log(base))

    low = max(math.floor(correction_dim(beta_fast)), 0)
    high = min(math.ceil(correction_dim(beta_slow)), dim - 1)
    out = []
    for i in range(dim // 2):
        extrapolation = 1.0 / base ** (2 * i / dim)
        ramp = min(max((i - low) / (high - low), 0.0), 1.0)
        mask = 1.0 - ramp  # 1: keep the original frequency, 0: interpolate
        out.append(extrapolation / scale * (1 - mask) + extrapolation * mask)
    return out


@pytest.fixture(scope="module")
def built(
    vllm_python: Path, vllm_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("yarn-mistral-config")
    (folder / "config.json").write_text(json.dumps(PUBLISHED_CONFIG))
    preset = PRESETS["yarn-mistral-7b-128k"]
    done = subprocess.run(
        [
            str(vllm_python),
            "-c",
            PROBE,
            str(folder),
            json.dumps(preset.hf_overrides()),
            str(preset.max_model_len),
            json.dumps(POSITIONS),
        ],
        env={**os.environ, **vllm_env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_vllm_builds_the_mistral_yarn_scale_and_frequencies_from_the_preset(built: dict[str, Any]) -> None:
    rope = built["preset"]
    assert rope["class"] == "YaRNScalingRotaryEmbedding"
    assert rope["max_model_len"] == 131_072
    assert rope["cache_rows"] == 131_072  # 8,192 original positions × 16
    assert rope["mscale"] == pytest.approx(0.07 * math.log(16) + 1, rel=1e-9)
    expected = yarn_inv_freq(128, 10000.0, 16.0, 8192, beta_fast=128, beta_slow=2)
    assert rope["inv_freq"] == pytest.approx(expected, rel=1e-5)


def test_the_cos_sin_cache_is_the_yarn_formula_at_every_probed_position(built: dict[str, Any]) -> None:
    rope = built["preset"]
    inv_freq = yarn_inv_freq(128, 10000.0, 16.0, 8192, beta_fast=128, beta_slow=2)
    mscale = 0.07 * math.log(16) + 1
    for row, position in enumerate(POSITIONS):
        # float32 products of positions up to 8,191: a few 1e-4 of absolute error in the angle.
        assert rope["cos"][row] == pytest.approx(
            [math.cos(position * f) * mscale for f in inv_freq], abs=3e-3
        )
        assert rope["sin"][row] == pytest.approx(
            [math.sin(position * f) * mscale for f in inv_freq], abs=3e-3
        )
    assert rope["last_norm"] == pytest.approx(mscale, rel=1e-5)


def test_without_the_overrides_vllm_would_use_other_parameters_and_a_shorter_context(
    built: dict[str, Any],
) -> None:
    """The control: the published config alone gets vLLM's Llama-2 defaults, so the overrides matter."""
    published = built["published"]
    assert published["mscale"] == pytest.approx(0.1 * math.log(16) + 1)
    defaults = yarn_inv_freq(128, 10000.0, 16.0, 8192, beta_fast=32, beta_slow=1)
    assert published["inv_freq"] == pytest.approx(defaults, rel=1e-5)
    assert published["inv_freq"] != pytest.approx(built["preset"]["inv_freq"], rel=1e-3)
    assert published["max_model_len"] == 32_768
