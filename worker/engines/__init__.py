"""Engines: the whole model adapter, and the only package that knows a model server or a ranking method.

Everything model-side lives here: the `Engine` protocol and the options that reach it (`base`), the
factory that builds a ready engine from `EngineSettings` (`factory`), the engines themselves
(`extractive`, `openai_compat`, `vllm_server` + the vLLM supervisor, `fixed`), the prompts, the
model presets, the GPU memory planner, the text units engines work on, and the retry loop of the
engine's HTTP client. The rest of the worker imports only the names below; the modules inside
import nothing from the worker but `worker.errors`.
"""

from __future__ import annotations

from worker.engines.answers import strip_thinking, trim_completion
from worker.engines.base import (
    FORMATS,
    MAX_TOKENS_LIMIT,
    MIN_MAX_TOKENS,
    Completion,
    Engine,
    SummaryOptions,
    SummaryTask,
    is_part_heading,
    part_heading,
)
from worker.engines.extractive import HEADINGS as EXTRACTIVE_HEADINGS
from worker.engines.extractive import LABEL as EXTRACTIVE_LABEL
from worker.engines.extractive import ExtractiveEngine
from worker.engines.extractive import count_tokens as count_word_tokens
from worker.engines.extractive import frame_tokens as extractive_frame_tokens
from worker.engines.factory import build_engine, check_memory, resolve_preset, server_spec
from worker.engines.fixed import LABEL as FIXED_LABEL
from worker.engines.fixed import FixedLatencyEngine
from worker.engines.languages import LANGUAGES, Language, addressed_owner, language_for, language_name
from worker.engines.languages import Signals as DecisionSignals
from worker.engines.languages import detect as detect_language
from worker.engines.languages import due as due_date
from worker.engines.languages import resolve as resolve_language
from worker.engines.languages import spoken as spoken_languages
from worker.engines.memory import GIB, KIB, MemoryPlan, ModelShape, detect_gpu_memory_gib, kv_bytes_per_token
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
from worker.engines.retry import Retry, retrying
from worker.engines.settings import ENGINES, PROMPT_FORMATS, EngineSettings
from worker.engines.text import (
    Transcript,
    Utterance,
    clock,
    iter_sentences,
    iter_utterances,
    lines,
    render_turns,
    seconds,
    sentences,
    split_speaker,
    utterances,
)
from worker.engines.vllm_server import ServerSpec, VllmServer
from worker.engines.weights import RUNPOD_HF_CACHE, CachedModel, cached_model_env, find_cached_model

__all__ = [
    "BYTE_BOUND_SLACK",
    "COMPLETION_STOP",
    "ENGINES",
    "EXTRACTIVE_HEADINGS",
    "EXTRACTIVE_LABEL",
    "FIXED_LABEL",
    "FORMATS",
    "GIB",
    "KIB",
    "LANGUAGES",
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
    "DecisionSignals",
    "Engine",
    "EngineSettings",
    "ExtractiveEngine",
    "FixedLatencyEngine",
    "Language",
    "MemoryPlan",
    "ModelShape",
    "OpenAICompatEngine",
    "Preset",
    "Retry",
    "ServerSpec",
    "SummaryOptions",
    "SummaryTask",
    "Transcript",
    "Utterance",
    "VllmServer",
    "YarnRope",
    "addressed_owner",
    "build_engine",
    "cached_model_env",
    "chat_messages",
    "check_memory",
    "clock",
    "completion_prompt",
    "count_word_tokens",
    "detect_gpu_memory_gib",
    "detect_language",
    "due_date",
    "extractive_frame_tokens",
    "find_cached_model",
    "find_preset",
    "instructions",
    "is_part_heading",
    "iter_sentences",
    "iter_utterances",
    "kv_bytes_per_token",
    "language_for",
    "language_name",
    "lines",
    "local_preset",
    "part_heading",
    "render_turns",
    "resolve_language",
    "resolve_preset",
    "retrying",
    "seconds",
    "sentences",
    "server_spec",
    "split_speaker",
    "spoken_languages",
    "strip_thinking",
    "trim_completion",
    "utterances",
]
