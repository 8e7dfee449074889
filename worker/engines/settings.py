"""Engine settings: which engine, which model, served how, on what GPU. A plain frozen object.

`worker.settings` builds it from the environment (the worker's one settings parser); the engines
only read it. `preset` names a preset (or `model` a hub id that has one); `model` alone with
`max_model_len` describes a local folder or any other model. Every preset field has its own
override, and `vllm_args` appends any vLLM flag.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

ENGINES = ("extractive", "vllm", "openai", "fixed")
PROMPT_FORMATS = ("auto", "completion", "chat")


@dataclass(frozen=True)
class EngineSettings:
    kind: str = "extractive"  # one of ENGINES
    # The extractive engine has no model context; this only bounds how much one ranking pass sees.
    extractive_context_tokens: int = 200_000
    # The `fixed` engine is for tests and benchmarks only (worker/engines/fixed.py).
    fixed_latency_ms: int = 0
    fixed_max_model_len: int = 131_072
    preset: str | None = None
    model: str | None = None
    max_model_len: int | None = None
    dtype: str | None = None
    kv_cache_dtype: str | None = None
    tensor_parallel_size: int | None = None
    revision: str | None = None
    prompt_format: str = "auto"  # one of PROMPT_FORMATS
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
