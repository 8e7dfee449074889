"""Engine settings: which model, served how, on what GPU. One frozen object from an injected mapping.

The engine itself is chosen by `WORKER_ENGINE` (in `worker.settings`); these settings describe the
model behind it. `WORKER_MODEL_PRESET` names a preset (or `WORKER_MODEL` a hub id that has one);
`WORKER_MODEL` alone with `WORKER_MAX_MODEL_LEN` describes a local folder or any other model. Every
preset field can be overridden by its own variable, and `WORKER_VLLM_ARGS` appends any vLLM flag.
Parsing is strict (a malformed value fails at start-up, naming the variable); nothing else in the
engines reads the environment.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from worker.errors import ConfigError

MODEL_PRESET = "WORKER_MODEL_PRESET"
MODEL = "WORKER_MODEL"
MAX_MODEL_LEN = "WORKER_MAX_MODEL_LEN"
DTYPE = "WORKER_DTYPE"
KV_CACHE_DTYPE = "WORKER_KV_CACHE_DTYPE"
TENSOR_PARALLEL_SIZE = "WORKER_TENSOR_PARALLEL_SIZE"
MODEL_REVISION = "WORKER_MODEL_REVISION"
PROMPT_FORMAT = "WORKER_PROMPT_FORMAT"
VLLM_PYTHON = "WORKER_VLLM_PYTHON"
VLLM_ARGS = "WORKER_VLLM_ARGS"
VLLM_PORT = "WORKER_VLLM_PORT"
VLLM_STARTUP_TIMEOUT_S = "WORKER_VLLM_STARTUP_TIMEOUT_S"
VLLM_LOG_LINES = "WORKER_VLLM_LOG_LINES"
GPU_MEMORY_GIB = "WORKER_GPU_MEMORY_GIB"
GPU_MEMORY_UTILIZATION = "WORKER_GPU_MEMORY_UTILIZATION"
MEMORY_CHECK = "WORKER_MEMORY_CHECK"
OPENAI_BASE_URL = "WORKER_OPENAI_BASE_URL"
OPENAI_API_KEY = "WORKER_OPENAI_API_KEY"
OPENAI_MODEL = "WORKER_OPENAI_MODEL"
ENGINE_CONCURRENCY = "WORKER_ENGINE_CONCURRENCY"
ENGINE_TIMEOUT_S = "WORKER_ENGINE_TIMEOUT_S"

PROMPT_FORMATS = ("auto", "completion", "chat")


def _text(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _number(
    env: Mapping[str, str], name: str, kind: type[int] | type[float], low: float, high: float
) -> float | None:
    raw = _text(env, name)
    if raw is None:
        return None
    try:
        value = kind(raw)
    except ValueError as exc:
        raise ConfigError(
            f"{name} must be {'an integer' if kind is int else 'a number'}, got {raw!r}"
        ) from exc
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low:g} and {high:g}, got {value}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    lowered = raw.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


@dataclass(frozen=True)
class EngineSettings:
    preset: str | None = None
    model: str | None = None
    max_model_len: int | None = None
    dtype: str | None = None
    kv_cache_dtype: str | None = None
    tensor_parallel_size: int | None = None
    revision: str | None = None
    prompt_format: str = "auto"
    # The interpreter that has vLLM: the image's own python in production, a separate venv in tests.
    vllm_python: str = sys.executable
    vllm_args: tuple[str, ...] = ()
    vllm_port: int = 0  # 0: a free port on 127.0.0.1
    vllm_startup_timeout_s: float = 1800.0  # first start downloads the weights
    vllm_log_lines: int = 60
    gpu_memory_gib: float | None = None  # None: ask nvidia-smi
    gpu_memory_utilization: float = 0.90
    memory_check: bool = True
    openai_base_url: str | None = None
    openai_api_key: str | None = None
    openai_model: str | None = None
    concurrency: int = 32  # in-flight requests per worker; vLLM batches them
    timeout_s: float = 1800.0

    @property
    def model_configured(self) -> bool:
        return bool(self.preset or self.model)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> EngineSettings:
        prompt_format = (_text(env, PROMPT_FORMAT) or "auto").lower()
        if prompt_format not in PROMPT_FORMATS:
            raise ConfigError(
                f"{PROMPT_FORMAT} must be one of {', '.join(PROMPT_FORMATS)}, got {prompt_format!r}"
            )
        try:
            vllm_args = tuple(shlex.split(env.get(VLLM_ARGS, "")))
        except ValueError as exc:
            raise ConfigError(f"{VLLM_ARGS} is not a valid shell word list: {exc}") from exc
        base_url = _text(env, OPENAI_BASE_URL)
        if base_url is not None and not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"{OPENAI_BASE_URL} must be an http(s) URL, got {base_url!r}")

        def integer(name: str, low: int, high: int) -> int | None:
            value = _number(env, name, int, low, high)
            return None if value is None else int(value)

        def number(name: str, low: float, high: float, default: float) -> float:
            value = _number(env, name, float, low, high)
            return default if value is None else float(value)

        gpu_memory = _number(env, GPU_MEMORY_GIB, float, 0.5, 100_000)
        return cls(
            preset=_text(env, MODEL_PRESET),
            model=_text(env, MODEL),
            max_model_len=integer(MAX_MODEL_LEN, 64, 10_000_000),
            dtype=_text(env, DTYPE),
            kv_cache_dtype=_text(env, KV_CACHE_DTYPE),
            tensor_parallel_size=integer(TENSOR_PARALLEL_SIZE, 1, 64),
            revision=_text(env, MODEL_REVISION),
            prompt_format=prompt_format,
            vllm_python=_text(env, VLLM_PYTHON) or sys.executable,
            vllm_args=vllm_args,
            vllm_port=integer(VLLM_PORT, 1, 65_535) or 0,
            vllm_startup_timeout_s=number(VLLM_STARTUP_TIMEOUT_S, 1, 86_400, cls.vllm_startup_timeout_s),
            vllm_log_lines=integer(VLLM_LOG_LINES, 1, 10_000) or cls.vllm_log_lines,
            gpu_memory_gib=None if gpu_memory is None else float(gpu_memory),
            gpu_memory_utilization=number(GPU_MEMORY_UTILIZATION, 0.05, 1.0, cls.gpu_memory_utilization),
            memory_check=_bool(env, MEMORY_CHECK, cls.memory_check),
            openai_base_url=base_url.rstrip("/") if base_url else None,
            openai_api_key=_text(env, OPENAI_API_KEY),
            openai_model=_text(env, OPENAI_MODEL),
            concurrency=integer(ENGINE_CONCURRENCY, 1, 4096) or cls.concurrency,
            timeout_s=number(ENGINE_TIMEOUT_S, 1, 86_400, cls.timeout_s),
        )
