"""The memory planner against the models' published shapes: KV bytes per token, totals, fits and advice."""

from __future__ import annotations

import pytest

from worker.engines import (
    GIB,
    KIB,
    PRESETS,
    MemoryPlan,
    ModelShape,
    detect_gpu_memory_gib,
    kv_bytes_per_token,
)

MISTRAL = PRESETS["yarn-mistral-7b-128k"]
LLAMA13 = PRESETS["yarn-llama-2-13b-128k-gptq"]
LLAMA7 = PRESETS["yarn-llama-2-7b-128k-gptq"]
LLAMA70 = PRESETS["yarn-llama-2-70b-32k-tp4"]


def plan(preset, *, kv="auto", gpu=80.0, tp=None, max_model_len=None) -> MemoryPlan:
    assert preset.shape is not None
    return MemoryPlan(
        shape=preset.shape,
        dtype=preset.dtype,
        kv_cache_dtype=kv,
        max_model_len=max_model_len or preset.max_model_len,
        tensor_parallel_size=tp or preset.tensor_parallel_size,
        gpu_memory_gib=gpu,
    )


def test_mistral_kv_cache_is_128_kib_per_token_and_16_gib_at_128k() -> None:
    assert kv_bytes_per_token(MISTRAL.shape, "bfloat16", "auto") == 128 * KIB
    p = plan(MISTRAL)
    assert p.kv_cache_gib == pytest.approx(16.0)
    assert p.weights_gib == pytest.approx(14.5e9 / GIB, rel=0.01)
    assert p.fits


def test_mistral_64k_fits_one_48_gb_gpu() -> None:
    p = plan(PRESETS["yarn-mistral-7b-64k"], gpu=44.0)
    assert p.kv_cache_gib == pytest.approx(8.0)
    assert p.fits


def test_llama_13b_needs_100_gib_of_fp16_kv_and_is_refused_on_80_gb() -> None:
    assert kv_bytes_per_token(LLAMA13.shape, "float16", "auto") == 800 * KIB
    p = plan(LLAMA13, kv="auto")
    assert p.kv_cache_gib == pytest.approx(100.0)
    assert not p.fits
    message = p.message("preset yarn-llama-2-13b-128k-gptq")
    assert "does not fit" in message
    assert "kv_cache_dtype=fp8" in message


def test_llama_13b_fits_80_gb_with_fp8_kv_at_50_gib() -> None:
    p = plan(LLAMA13, kv="fp8")
    assert p.kv_cache_gib == pytest.approx(50.0)
    assert p.fits


def test_llama_13b_with_fp16_kv_fits_an_h200() -> None:
    assert plan(LLAMA13, kv="auto", gpu=139.0).fits


def test_llama_7b_gptq_needs_64_gib_at_128k_and_fits_80_gb() -> None:
    assert kv_bytes_per_token(LLAMA7.shape, "float16", "auto") == 512 * KIB
    p = plan(LLAMA7)
    assert p.kv_cache_gib == pytest.approx(64.0)
    assert p.fits


def test_70b_does_not_fit_one_gpu_and_the_advice_is_more_gpus() -> None:
    single = plan(LLAMA70, tp=1)
    assert not single.fits
    assert any(s.startswith("tensor_parallel_size=") for s in single.suggestions())
    assert plan(LLAMA70).fits  # the preset's own tensor_parallel_size=4


def test_suggested_context_is_the_longest_that_fits() -> None:
    p = plan(LLAMA13, kv="auto")
    longest = p.longest_context()
    assert longest % 1024 == 0
    assert plan(LLAMA13, kv="auto", max_model_len=longest).fits
    assert not plan(LLAMA13, kv="auto", max_model_len=longest + 1024).fits
    assert f"max_model_len={longest}" in p.message("x")


def test_every_preset_fits_the_gpu_it_names() -> None:
    for preset in PRESETS.values():
        p = plan(preset, kv=preset.kv_cache_dtype, gpu=preset.gpu_memory_gib)
        assert p.fits, p.message(preset.name)


def test_kv_heads_split_across_tensor_parallel_gpus() -> None:
    shape = ModelShape(layers=2, kv_heads=8, head_dim=64, weight_bytes=0)
    assert kv_bytes_per_token(shape, "bfloat16", "auto", 2) * 2 == kv_bytes_per_token(
        shape, "bfloat16", "auto"
    )
    # Fewer KV heads than GPUs: each GPU keeps a replica of one head.
    assert kv_bytes_per_token(shape, "bfloat16", "auto", 16) == 2 * 2 * 1 * 64 * 2


def test_unknown_kv_cache_dtype_is_refused() -> None:
    with pytest.raises(ValueError, match="kv_cache_dtype"):
        kv_bytes_per_token(MISTRAL.shape, "bfloat16", "int3")


def test_gpu_memory_is_the_smallest_gpu_that_nvidia_smi_reports(tmp_path, monkeypatch) -> None:
    smi = tmp_path / "nvidia-smi"
    smi.write_text("#!/bin/sh\necho 81559\necho 46068\n")
    smi.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert detect_gpu_memory_gib() == pytest.approx(46068 / 1024)


def test_no_nvidia_smi_means_no_figure(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert detect_gpu_memory_gib() is None


# README's preset table and each model's config.json: 2 (K, V) × layers × KV heads × head_dim × 2 bytes.
@pytest.mark.parametrize(
    ("name", "kib", "gib_at_128k"),
    [
        ("qwen2.5-7b-instruct-1m", 56, 7.0),
        ("qwen2.5-14b-instruct-1m", 192, 24.0),
        ("llama-3.1-8b-instruct", 128, 16.0),
        ("qwen3-8b-yarn-128k", 144, 18.0),
    ],
)
def test_instruct_presets_kv_cache_per_token_and_at_128k(name: str, kib: int, gib_at_128k: float) -> None:
    preset = PRESETS[name]
    assert preset.shape is not None
    assert kv_bytes_per_token(preset.shape, preset.dtype, preset.kv_cache_dtype) == kib * KIB
    p = plan(preset, kv=preset.kv_cache_dtype, gpu=preset.gpu_memory_gib)
    assert p.kv_cache_gib == pytest.approx(gib_at_128k)
    assert p.fits, p.message(name)


def test_qwen_7b_1m_fits_a_48_gb_gpu_and_the_14b_needs_80_gb() -> None:
    assert plan(PRESETS["qwen2.5-7b-instruct-1m"], gpu=44.0).fits
    assert not plan(PRESETS["qwen2.5-14b-instruct-1m"], gpu=44.0).fits
    assert plan(PRESETS["qwen2.5-14b-instruct-1m"], gpu=80.0).fits
