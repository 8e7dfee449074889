"""Engines: the whole model adapter, and the only package that knows a model server or a ranking method.

Everything model-side lives here: the `Engine` protocol and the options that reach it (`base`), the
factory that builds a ready engine from `EngineSettings` (`factory`), the engines themselves
(`extractive`, `openai_compat`, `vllm_server` + the vLLM supervisor, `fixed`), the prompts, the
model presets and the GPU memory planner. The rest of the worker imports only the names below; the
modules inside import nothing from the worker but the meeting's text (`worker.meeting`), the
errors and the retry loop (`worker.errors`, `worker.retry`).
"""

from __future__ import annotations

from worker.engines.answers import strip_thinking, trim_completion
from worker.engines.base import (
    MAX_TOKENS_LIMIT,
    MIN_MAX_TOKENS,
    Completion,
    Engine,
    SummaryOptions,
    SummaryTask,
)
from worker.engines.extractive import (
    ExtractiveEngine,
    extractive_frame_tokens,
)
from worker.engines.factory import build_engine, check_memory, resolve_preset, server_spec
from worker.engines.fixed import FIXED_LABEL, FixedLatencyEngine
from worker.engines.memory import (
    GIB,
    KIB,
    MemoryPlan,
    ModelShape,
    detect_gpu_memory_gib,
    kv_bytes_per_token,
    nvidia_smi,
)
from worker.engines.openai_compat import BYTE_BOUND_SLACK, OpenAICompatEngine
from worker.engines.presets import (
    LLAMA2_YARN,
    MISTRAL_YARN,
    PRESETS,
    RECOMMENDED_PRESET,
    Preset,
    YarnRope,
    find_preset,
    local_preset,
)
from worker.engines.prompts import COMPLETION_STOP, STYLES, chat_messages, completion_prompt, instructions
from worker.engines.settings import ENGINES, PROMPT_FORMATS, EngineSettings
from worker.engines.vllm_server import ServerSpec, VllmServer
from worker.engines.weights import RUNPOD_HF_CACHE, CachedModel, cached_model_env, find_cached_model

__all__ = [
    "BYTE_BOUND_SLACK",
    "COMPLETION_STOP",
    "ENGINES",
    "FIXED_LABEL",
    "GIB",
    "KIB",
    "LLAMA2_YARN",
    "MAX_TOKENS_LIMIT",
    "MIN_MAX_TOKENS",
    "MISTRAL_YARN",
    "PRESETS",
    "PROMPT_FORMATS",
    "RECOMMENDED_PRESET",
    "RUNPOD_HF_CACHE",
    "STYLES",
    "CachedModel",
    "Completion",
    "Engine",
    "EngineSettings",
    "ExtractiveEngine",
    "FixedLatencyEngine",
    "MemoryPlan",
    "ModelShape",
    "OpenAICompatEngine",
    "Preset",
    "ServerSpec",
    "SummaryOptions",
    "SummaryTask",
    "VllmServer",
    "YarnRope",
    "build_engine",
    "cached_model_env",
    "chat_messages",
    "check_memory",
    "completion_prompt",
    "detect_gpu_memory_gib",
    "extractive_frame_tokens",
    "find_cached_model",
    "find_preset",
    "instructions",
    "kv_bytes_per_token",
    "local_preset",
    "nvidia_smi",
    "resolve_preset",
    "server_spec",
    "strip_thinking",
    "trim_completion",
]
