"""Engines: the only package that knows a model server or a ranking algorithm.

`build_engine` picks one from settings; the summariser sees only the `Engine` protocol.

- `extractive`: sentence ranking, no weights (the default when no model is configured);
- `vllm`: a local vLLM server supervised by this worker, from a preset (`worker.presets`), after
  the memory planner agreed that it fits the GPU;
- `openai`: any OpenAI-compatible URL (a user's own vLLM, TGI, llama.cpp server); no subprocess.

The HTTP client, the supervisor and the presets are imported only by the branch that needs them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from worker.engines.base import Completion, Engine, SummaryTask
from worker.engines.extractive import ExtractiveEngine
from worker.engines.settings import MAX_MODEL_LEN, MODEL, OPENAI_BASE_URL, EngineSettings
from worker.errors import ConfigError

if TYPE_CHECKING:
    from worker.engines.openai_compat import OpenAICompatEngine
    from worker.presets import Preset
    from worker.settings import WorkerSettings

__all__ = [
    "Completion",
    "Engine",
    "ExtractiveEngine",
    "SummaryTask",
    "build_engine",
    "resolve_preset",
    "shutdown_engine",
]

log = logging.getLogger(__name__)
_CHAT = {"auto": None, "completion": False, "chat": True}


def build_engine(settings: WorkerSettings, on_server_exit: Callable[[int], None] | None = None) -> Engine:
    """Build the configured engine, ready to serve: a `vllm` engine returns only once its server is
    healthy. `on_server_exit(returncode)` is called if that server dies later."""
    if settings.engine == "extractive":
        return ExtractiveEngine(max_model_len=settings.extractive_context_tokens)
    if settings.engine == "fixed":
        from worker.engines.fixed import FixedLatencyEngine  # test/bench engine, no model

        return FixedLatencyEngine(settings.fixed_latency_ms / 1000, settings.fixed_max_model_len)
    options = settings.engine_options
    if settings.engine == "openai":
        if options.openai_base_url is None:
            raise ConfigError(f"{OPENAI_BASE_URL} is required with WORKER_ENGINE=openai")
        engine = _client(
            options, options.openai_base_url, "openai", options.openai_model, options.max_model_len
        )
        engine.chat = _CHAT[options.prompt_format]
        engine.connect()
        return engine
    if settings.engine == "vllm":
        return _start_vllm(options, on_server_exit)
    raise ConfigError(f"engine {settings.engine!r} is not available in this build")


def shutdown_engine(engine: Engine) -> None:
    """Stop whatever the engine supervises (a local vLLM server); safe to call twice."""
    stop = getattr(engine, "shutdown", None)
    if callable(stop):
        stop()


def resolve_preset(options: EngineSettings) -> Preset:
    """The preset named by the settings, with every per-field override applied and validated."""
    from worker.presets import PRESETS, Preset, find_preset, local_preset

    if options.preset:
        preset = find_preset(options.preset)
        if options.model:
            preset = replace(preset, model=options.model)  # e.g. a local copy of the same weights
    elif options.model and any(p.model.lower() == options.model.lower() for p in PRESETS.values()):
        preset = find_preset(options.model)
    elif options.model:
        if options.max_model_len is None:
            raise ConfigError(f"{MODEL}={options.model} has no preset: set {MAX_MODEL_LEN} as well")
        if Path(options.model).is_dir():
            preset = local_preset(options.model, options.max_model_len)
        else:
            preset = Preset(
                name=options.model, model=options.model, max_model_len=options.max_model_len, shape=None
            )
    else:
        raise ConfigError("WORKER_ENGINE=vllm needs WORKER_MODEL_PRESET or WORKER_MODEL")
    chat = _CHAT[options.prompt_format]
    preset = replace(
        preset,
        max_model_len=options.max_model_len or preset.max_model_len,
        dtype=options.dtype or preset.dtype,
        kv_cache_dtype=options.kv_cache_dtype or preset.kv_cache_dtype,
        tensor_parallel_size=options.tensor_parallel_size or preset.tensor_parallel_size,
        revision=options.revision or preset.revision,
        chat=preset.chat if chat is None else chat,
        extra_args=(*preset.extra_args, *options.vllm_args),
    )
    preset.validate()
    return preset


def check_memory(preset: Preset, options: EngineSettings) -> None:
    """Refuse, with the planner's advice, a preset that cannot fit: better than a crash loop."""
    from worker.memory import MemoryPlan, detect_gpu_memory_gib

    if not options.memory_check or preset.shape is None:
        return
    gpu = options.gpu_memory_gib or detect_gpu_memory_gib()
    if gpu is None:
        log.warning("no GPU memory figure (no nvidia-smi, WORKER_GPU_MEMORY_GIB unset): plan not checked")
        return
    plan = MemoryPlan(
        shape=preset.shape,
        dtype=preset.dtype,
        kv_cache_dtype=preset.kv_cache_dtype,
        max_model_len=preset.max_model_len,
        tensor_parallel_size=preset.tensor_parallel_size,
        gpu_memory_gib=gpu,
        utilization=options.gpu_memory_utilization,
    )
    if not plan.fits:
        raise ConfigError(plan.message(f"preset {preset.name}"))
    log.info("memory plan: %s", plan.message(f"preset {preset.name}"))


def _client(
    options: EngineSettings, base_url: str, name: str, model: str | None, max_model_len: int | None
) -> OpenAICompatEngine:
    from worker.engines.openai_compat import OpenAICompatEngine

    return OpenAICompatEngine(
        base_url,
        name=name,
        model=model,
        max_model_len=max_model_len,
        api_key=options.openai_api_key,
        concurrency=options.concurrency,
        timeout_s=options.timeout_s,
    )


def _start_vllm(options: EngineSettings, on_server_exit: Callable[[int], None] | None) -> Engine:
    from worker.engines.vllm_server import ServerSpec, VllmServer

    preset = resolve_preset(options)
    check_memory(preset, options)
    args = [*preset.vllm_args(), "--gpu-memory-utilization", str(options.gpu_memory_utilization)]
    spec = ServerSpec(
        model=preset.model,
        args=args,
        python=options.vllm_python,
        port=options.vllm_port,
        startup_timeout_s=options.vllm_startup_timeout_s,
        log_lines=options.vllm_log_lines,
    )
    server = VllmServer(spec, on_exit=on_server_exit)
    server.start()
    try:
        server.wait_healthy()
        engine = _client(options, server.base_url, "vllm", preset.served_name, preset.max_model_len)
        engine.chat = preset.chat
        engine.connect()
    except BaseException:
        server.stop()
        raise
    engine.server = server
    return engine
