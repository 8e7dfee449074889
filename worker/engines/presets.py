"""Model presets: everything vLLM needs to serve one long-context model correctly, as data.

A preset carries `max_model_len` (always explicit), dtype, KV-cache dtype, tensor parallelism, the
model's shape for the memory planner, the GPU it is meant for, whether it has a chat template, and
the YaRN parameters it was trained with. It never imports vLLM: `vllm_args()` renders CLI flags.

Why the rope overrides: vLLM's YaRN defaults (beta_fast=32, beta_slow=1, attention scale
0.1·ln s + 1) match the Llama-2 YaRN training code but not the Mistral one (beta_fast=128,
beta_slow=2, 0.07·ln s + 1; jquesnelle/yarn `modeling_mistral_yarn.py`), and the published
configs carry only `factor`. vLLM 0.32 applies dict-valued `hf_overrides` after it has normalised
the checkpoint's rope config, replacing `rope_parameters` whole, so the override is complete:
`rope_type`, `rope_theta`, `factor`, `original_max_position_embeddings`, `beta_fast`, `beta_slow`
and `attention_factor` (the one key its YaRN class takes as the final scale; `mscale` alone is
multiplied by 0.1). `max_position_embeddings` is overridden to the trained context so vLLM accepts
`max_model_len` without `VLLM_ALLOW_LONG_MAX_MODEL_LEN`. GPTQ checkpoints load through vLLM's own
kernels (Marlin on CUDA): never `--quantization gptq`, which forces the slow kernel; vLLM 0.32
refuses act order with groups, so the GPTQ presets pin a commit without it. A config key vLLM must
not see at all is dropped from a config view (`config_drop`, served with `--hf-config-path`), not
overridden to null. Sampling defaults are vLLM's (`--generation-config vllm`), not the repository's
generation_config.json: each request sends what the worker chose.

Long prompts on one worker: vLLM 0.32 (V1, chunked prefill always on) fills each step with up to
`--max-num-batched-tokens` tokens, decodes first, then prefills in arrival order, so one 128K prompt
takes every step's prefill budget until it is done and the other jobs' chunks wait behind it. A
`--long-prefill-token-threshold` caps what one long prompt may take of a step while others are
waiting (vLLM's SchedulerConfig: "not applied when the request is the only one in the batch"),
and `--long-prefill-token-threshold-adaptive` raises that cap to a fair share of the budget when
few requests are queued. The presets use a budget of 16,384 tokens (8,192 for the tensor-parallel
70B) and a cap of a quarter of it: `WORKER_CONCURRENCY` jobs' prompts prefill side by side.
vLLM 0.32 has no `--max-num-partial-prefills` (the V0 flag is gone).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from worker.engines.memory import ModelShape
from worker.errors import ConfigError

_MISTRAL_7B = dict(layers=32, kv_heads=8, head_dim=128)
_LLAMA2_13B = dict(layers=40, kv_heads=40, head_dim=128)
_LLAMA2_7B = dict(layers=32, kv_heads=32, head_dim=128)
_LLAMA2_70B = dict(layers=80, kv_heads=8, head_dim=128)
# The instruct presets' shapes, from each model's published config.json on the Hugging Face hub
# (num_hidden_layers, num_key_value_heads, hidden_size / num_attention_heads or head_dim); weight
# bytes are the model card's parameter count × 2 (bf16). Checked 2026-11-30 against verbatim copies
# of those files in public repositories (the hub itself is out of reach here): Llama-3.1-8B,
# Qwen2.5-14B and Qwen3-8B in citsjtu2020/LLM-Prof `sglang/Model_Config.md`; Qwen2.5-7B-Instruct-1M
# (with its dual_chunk_attention_config) in a Rust test fixture found by the code search. The
# 14B-1M shares Qwen2.5-14B's shape (its model card: 48 layers, 40 Q / 8 KV heads).
# Qwen/Qwen2.5-7B-Instruct-1M: 28 layers, 28 heads, 4 KV heads, hidden 3584 → head_dim 128;
# rope_theta 1e7, max_position_embeddings 1,010,000, dual_chunk_attention_config chunk 262,144.
_QWEN25_7B = dict(layers=28, kv_heads=4, head_dim=128)
# Qwen/Qwen2.5-14B-Instruct-1M: 48 layers, 40 heads, 8 KV heads, hidden 5120 → head_dim 128.
_QWEN25_14B = dict(layers=48, kv_heads=8, head_dim=128)
# meta-llama/Llama-3.1-8B-Instruct: 32 layers, 32 heads, 8 KV heads, hidden 4096; rope_scaling
# llama3 (factor 8, original 8,192), rope_theta 5e5, max_position_embeddings 131,072.
_LLAMA31_8B = dict(layers=32, kv_heads=8, head_dim=128)
# Qwen/Qwen3-8B: 36 layers, 32 heads, 8 KV heads, head_dim 128 (explicit); rope_theta 1e6,
# max_position_embeddings 40,960 (32,768 trained + room to generate).
_QWEN3_8B = dict(layers=36, kv_heads=8, head_dim=128)


@dataclass(frozen=True)
class YarnRope:
    """Trained YaRN parameters. `mscale_coefficient` c gives the attention scale c·ln(factor) + 1."""

    factor: float
    original_max_position_embeddings: int
    beta_fast: float = 32
    beta_slow: float = 1
    mscale_coefficient: float = 0.1
    rope_theta: float = 10000.0

    @property
    def attention_factor(self) -> float:
        return self.mscale_coefficient * math.log(self.factor) + 1.0 if self.factor > 1 else 1.0

    @property
    def trained_context(self) -> int:
        return int(self.original_max_position_embeddings * self.factor)

    def rope_parameters(self) -> dict[str, Any]:
        return {
            "rope_type": "yarn",
            "rope_theta": self.rope_theta,
            "factor": self.factor,
            "original_max_position_embeddings": self.original_max_position_embeddings,
            "beta_fast": self.beta_fast,
            "beta_slow": self.beta_slow,
            "attention_factor": self.attention_factor,
        }


MISTRAL_YARN = dict(beta_fast=128, beta_slow=2, mscale_coefficient=0.07)
LLAMA2_YARN = dict(beta_fast=32, beta_slow=1, mscale_coefficient=0.1)


@dataclass(frozen=True)
class Preset:
    name: str
    model: str
    max_model_len: int
    shape: ModelShape | None
    rope: YarnRope | None = None
    dtype: str = "bfloat16"
    kv_cache_dtype: str = "auto"
    tensor_parallel_size: int = 1
    # The GPU this preset is sized for (one of `tensor_parallel_size`), for the planner and README.
    gpu_memory_gib: float = 80.0
    gpu: str = "1× 80 GB (H100 / A100 80GB)"
    chat: bool | None = False  # None: ask the server whether the tokenizer has a chat template
    quantization: str | None = None  # informational ("gptq"); vLLM reads it from the checkpoint
    revision: str | None = None
    extra_args: tuple[str, ...] = field(default=())
    # config.json keys vLLM must not see at all (not even as null): served from a config view
    # without them (worker/engines/config_view.py, `--hf-config-path`).
    config_drop: tuple[str, ...] = ()
    # Sent with every chat request and chat `/tokenize` (so counts match), e.g. Qwen3's
    # {"enable_thinking": False}: a summary is not a reasoning task, and thinking eats the budget.
    chat_template_kwargs: Mapping[str, Any] = field(default_factory=dict)
    # Instruction-tuned (chat template) or base model, for the README; `chat` decides the prompt.
    instruct: bool = False
    # The hub serves it only to accounts that accepted its licence, with their HF_TOKEN.
    gated: bool = False
    # Scheduling of long prompts (module docstring); None leaves vLLM's default.
    max_num_batched_tokens: int | None = 16_384
    long_prefill_token_threshold: int | None = 4_096

    @property
    def served_name(self) -> str:
        """The name the server answers to: the hub id, or a local folder's name."""
        return Path(self.model).name if self.model.startswith(("/", ".")) else self.model

    def hf_overrides(self) -> dict[str, Any]:
        overrides: dict[str, Any] = {}
        if self.rope is not None:
            overrides["max_position_embeddings"] = self.rope.trained_context
            overrides["rope_parameters"] = self.rope.rope_parameters()
        return overrides

    def validate(self) -> None:
        if self.rope is not None and self.max_model_len > self.rope.trained_context:
            raise ConfigError(
                f"preset {self.name}: max_model_len {self.max_model_len} exceeds the YaRN-trained "
                f"context {self.rope.trained_context}"
            )
        flags = list(self.extra_args)
        for i, flag in enumerate(flags):
            value = flag.split("=", 1)[1] if "=" in flag else (flags[i + 1] if i + 1 < len(flags) else "")
            if flag.split("=", 1)[0] in ("--quantization", "-q") and value == "gptq":
                raise ConfigError(
                    "--quantization gptq forces vLLM's slow GPTQ kernel; leave it out and vLLM "
                    "picks its own (Marlin) from the checkpoint"
                )

    def vllm_args(self) -> list[str]:
        """Flags for `vllm serve MODEL` / `api_server --model MODEL`, model excluded."""
        args = [
            "--served-model-name",
            self.served_name,
            "--max-model-len",
            str(self.max_model_len),
            "--dtype",
            self.dtype,
            "--kv-cache-dtype",
            self.kv_cache_dtype,
            "--tensor-parallel-size",
            str(self.tensor_parallel_size),
            # Sampling is the worker's: vLLM's neutral defaults, not the repository's
            # generation_config.json (its eos ids still apply). Each request sends its own.
            "--generation-config",
            "vllm",
        ]
        if overrides := self.hf_overrides():
            args += ["--hf-overrides", json.dumps(overrides, separators=(",", ":"))]
        if self.revision:
            args += ["--revision", self.revision]
        return args + self.scheduling_args() + list(self.extra_args)

    def scheduling_args(self) -> list[str]:
        args = []
        if self.max_num_batched_tokens:
            args += ["--max-num-batched-tokens", str(self.max_num_batched_tokens)]
        if self.long_prefill_token_threshold:
            # vLLM refuses a threshold above max_model_len (a lowered WORKER_MAX_MODEL_LEN).
            threshold = min(self.long_prefill_token_threshold, self.max_model_len)
            args += [
                "--long-prefill-token-threshold",
                str(threshold),
                "--long-prefill-token-threshold-adaptive",
            ]
        return args


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            name="yarn-mistral-7b-128k",
            model="NousResearch/Yarn-Mistral-7b-128k",
            max_model_len=131_072,
            shape=ModelShape(**_MISTRAL_7B, weight_bytes=14_483_464_192),
            rope=YarnRope(factor=16.0, original_max_position_embeddings=8192, **MISTRAL_YARN),
        ),
        Preset(
            name="yarn-mistral-7b-64k",
            model="NousResearch/Yarn-Mistral-7b-64k",
            max_model_len=65_536,
            shape=ModelShape(**_MISTRAL_7B, weight_bytes=14_483_464_192),
            rope=YarnRope(factor=8.0, original_max_position_embeddings=8192, **MISTRAL_YARN),
            gpu_memory_gib=44.0,
            gpu="1× 48 GB (L40S / A6000)",
        ),
        Preset(
            name="yarn-llama-2-13b-128k-gptq",
            model="TheBloke/Yarn-Llama-2-13B-128K-GPTQ",
            max_model_len=131_072,
            shape=ModelShape(**_LLAMA2_13B, weight_bytes=7_260_000_000),
            rope=YarnRope(factor=32.0, original_max_position_embeddings=4096, **LLAMA2_YARN),
            dtype="float16",  # GPTQ kernels compute in fp16
            # 40 KV heads, no GQA: 800 KiB/token, 100 GiB at 128K in fp16; fp8 halves it.
            kv_cache_dtype="fp8",
            quantization="gptq",
            # A commit whose quantize_config.json is 4-bit, group 128, desc_act false: vLLM 0.32
            # refuses act-order with groups (the repo's 4-bit *-actorder_True branches).
            revision="8e947c68653fb41235a067f9ffb60ad7ac48bfec",
            gpu="1× 80 GB (H100 / A100 80GB), fp8 KV cache; fp16 KV needs an H200",
        ),
        Preset(
            name="yarn-llama-2-7b-128k-gptq",
            model="TheBloke/Yarn-Llama-2-7B-128K-GPTQ",
            max_model_len=131_072,
            shape=ModelShape(**_LLAMA2_7B, weight_bytes=3_900_000_000),
            rope=YarnRope(factor=32.0, original_max_position_embeddings=4096, **LLAMA2_YARN),
            dtype="float16",
            quantization="gptq",
            revision="7429fa24510ea7a1c1fabb38bf974c022b9a9df0",  # main, 4-bit 128g, no act order
        ),
        Preset(
            name="yarn-llama-2-70b-32k-tp4",
            model="NousResearch/Yarn-Llama-2-70b-32k",
            max_model_len=32_768,
            shape=ModelShape(**_LLAMA2_70B, weight_bytes=137_953_296_384),
            rope=YarnRope(factor=8.0, original_max_position_embeddings=4096, **LLAMA2_YARN),
            tensor_parallel_size=4,
            gpu="4× 80 GB (H100 / A100 80GB), tensor parallel",
            max_num_batched_tokens=8_192,
            long_prefill_token_threshold=2_048,
        ),
        # ---- Instruction-tuned long-context models (chat template; HELMET/RULER in README) ----
        Preset(
            # Trained to 1M with Dual Chunk Attention (DCA); below its chunk size (262,144) DCA is
            # plain attention, and vLLM 0.32 has no DCA attention backend (v1/attention/backends),
            # so the DCA block is dropped: at 131,072 the model runs exactly as trained. Dropped,
            # not overridden to null: vLLM 0.32's verify_dual_chunk_attention_config runs whenever
            # the config *has* the attribute and writes the repository's
            # sparse_attention_config.json into it (TypeError on null, the server never listens).
            name="qwen2.5-7b-instruct-1m",
            model="Qwen/Qwen2.5-7B-Instruct-1M",
            max_model_len=131_072,
            shape=ModelShape(**_QWEN25_7B, weight_bytes=15_231_233_024),  # 7.61B params
            config_drop=("dual_chunk_attention_config",),
            gpu_memory_gib=44.0,
            gpu="1× 48 GB (L40S / A6000)",
            chat=True,
            instruct=True,
        ),
        Preset(
            name="qwen2.5-14b-instruct-1m",
            model="Qwen/Qwen2.5-14B-Instruct-1M",
            max_model_len=131_072,
            shape=ModelShape(**_QWEN25_14B, weight_bytes=29_540_067_328),  # 14.77B params
            config_drop=("dual_chunk_attention_config",),
            chat=True,
            instruct=True,
        ),
        Preset(
            # Its own config carries llama3 rope scaling to 131,072: vLLM reads it, no override.
            name="llama-3.1-8b-instruct",
            model="meta-llama/Llama-3.1-8B-Instruct",
            max_model_len=131_072,
            gated=True,  # Meta's Llama 3.1 Community License, accepted on the model's hub page
            shape=ModelShape(**_LLAMA31_8B, weight_bytes=16_060_522_496),  # 8.03B params
            chat=True,
            instruct=True,
        ),
        Preset(
            # Model card, "Processing Long Texts": YaRN factor 4 over 32,768 original positions
            # (rope_type yarn), i.e. vLLM's default beta_fast 32 / beta_slow 1 / 0.1·ln s + 1.
            # Thinking is on by default in its chat template; generation_config.json's eos ids
            # (151645 <|im_end|>, 151643) end the answer.
            name="qwen3-8b-yarn-128k",
            model="Qwen/Qwen3-8B",
            max_model_len=131_072,
            shape=ModelShape(**_QWEN3_8B, weight_bytes=16_381_470_720),  # 8.19B params
            rope=YarnRope(
                factor=4.0, original_max_position_embeddings=32_768, rope_theta=1_000_000.0, **LLAMA2_YARN
            ),
            chat=True,
            chat_template_kwargs={"enable_thinking": False},
            instruct=True,
        ),
    )
}

# The product's default (make deploy-worker, README): the best published long-context
# summarisation score that fits one 80 GB GPU (HELMET 128K summ.: 38.6, the next is 28.9).
RECOMMENDED_PRESET = "qwen2.5-14b-instruct-1m"


def find_preset(name_or_model: str) -> Preset:
    """A preset by its name or by its model id (case-insensitive)."""
    wanted = name_or_model.strip().lower()
    for preset in PRESETS.values():
        if wanted in (preset.name, preset.model.lower()):
            return preset
    raise ConfigError(f"unknown model preset {name_or_model!r}; known: {', '.join(PRESETS)}")


def local_preset(path: str | Path, max_model_len: int, **overrides: Any) -> Preset:
    """Describe a model folder (a tiny test model, a fine-tune) from its own config.json.

    The shape comes from the config and the weight files' sizes, so the planner works for it too;
    rope scaling is the checkpoint's own unless `rope=` is given; chat is detected at start-up.
    """
    folder = Path(path)
    try:
        config = json.loads((folder / "config.json").read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{folder} has no readable config.json: {exc}") from exc
    config = config.get("text_config", config)
    heads = int(config["num_attention_heads"])
    shape = ModelShape(
        layers=int(config["num_hidden_layers"]),
        kv_heads=int(config.get("num_key_value_heads") or heads),
        head_dim=int(config.get("head_dim") or config["hidden_size"] // heads),
        weight_bytes=sum(f.stat().st_size for f in folder.glob("*.safetensors"))
        + sum(f.stat().st_size for f in folder.glob("*.bin")),
    )
    fields: dict[str, Any] = {
        "name": f"local:{folder.name}",
        "model": str(folder.resolve()),
        "max_model_len": max_model_len,
        "shape": shape,
        "chat": None,
        "gpu": "any",
        # A local folder is a test or a fine-tune: vLLM's own scheduling unless asked.
        "max_num_batched_tokens": None,
        "long_prefill_token_threshold": None,
    }
    return replace(Preset(**fields), **overrides)
