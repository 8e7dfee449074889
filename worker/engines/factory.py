"""Build the configured engine, ready to serve: the only place that wires an engine together.

- `extractive`: sentence ranking, no weights (the default when no model is configured);
- `vllm`: a local vLLM server supervised by this worker, from a preset, after the memory planner
  agreed that it fits the GPU; the engine owns the server and stops it in `shutdown()`;
- `openai`: any OpenAI-compatible URL (a user's own vLLM, TGI, llama.cpp server); no subprocess;
- `fixed`: a test/benchmark engine with a fixed latency and no model.

The HTTP client, the supervisor and the planner are imported only by the branch that needs them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from worker.engines.base import Engine
from worker.engines.extractive import ExtractiveEngine
from worker.engines.presets import PRESETS, Preset, find_preset, local_preset
from worker.engines.settings import EngineSettings
from worker.engines.weights import RUNPOD_HF_CACHE, cached_model_env
from worker.errors import ConfigError

if TYPE_CHECKING:
    from worker.engines.vllm_server import ServerSpec, VllmServer

log = logging.getLogger(__name__)
_CHAT = {"auto": None, "completion": False, "chat": True}


def build_engine(settings: EngineSettings, on_server_exit: Callable[[int], None] | None = None) -> Engine:
    """The configured engine, complete and ready: a `vllm` engine returns only once its server is
    healthy. `on_server_exit(returncode)` is called if that server dies later."""
    if settings.kind == "extractive":
        return ExtractiveEngine(max_model_len=settings.extractive_context_tokens)
    if settings.kind == "fixed":
        from worker.engines.fixed import FixedLatencyEngine  # test/bench engine, no model

        return FixedLatencyEngine(settings.fixed_latency_ms / 1000, settings.fixed_max_model_len)
    if settings.kind == "openai":
        if settings.openai_base_url is None:
            raise ConfigError("WORKER_OPENAI_BASE_URL is required with WORKER_ENGINE=openai")
        return _connected(
            settings,
            settings.openai_base_url,
            name="openai",
            model=settings.openai_model,
            max_model_len=settings.max_model_len,
            chat=_CHAT[settings.prompt_format],
        )
    if settings.kind == "vllm":
        return _start_vllm(settings, on_server_exit)
    raise ConfigError(f"engine {settings.kind!r} is not available in this build")


def resolve_preset(settings: EngineSettings) -> Preset:
    """The preset named by the settings, with every per-field override applied and validated."""
    if settings.preset:
        preset = find_preset(settings.preset)
        if settings.model:
            preset = replace(preset, model=settings.model)  # e.g. a local copy of the same weights
    elif settings.model and any(p.model.lower() == settings.model.lower() for p in PRESETS.values()):
        preset = find_preset(settings.model)
    elif settings.model:
        if settings.max_model_len is None:
            raise ConfigError(
                f"WORKER_MODEL={settings.model} has no preset: set WORKER_MAX_MODEL_LEN as well"
            )
        if Path(settings.model).is_dir():
            preset = local_preset(settings.model, settings.max_model_len)
        else:
            preset = Preset(
                name=settings.model, model=settings.model, max_model_len=settings.max_model_len, shape=None
            )
    else:
        raise ConfigError("WORKER_ENGINE=vllm needs WORKER_MODEL_PRESET or WORKER_MODEL")
    chat = _CHAT[settings.prompt_format]
    preset = replace(
        preset,
        max_model_len=settings.max_model_len or preset.max_model_len,
        dtype=settings.dtype or preset.dtype,
        kv_cache_dtype=settings.kv_cache_dtype or preset.kv_cache_dtype,
        tensor_parallel_size=settings.tensor_parallel_size or preset.tensor_parallel_size,
        revision=settings.revision or preset.revision,
        chat=preset.chat if chat is None else chat,
        extra_args=(*preset.extra_args, *settings.vllm_args),
    )
    preset.validate()
    return preset


def check_memory(preset: Preset, settings: EngineSettings) -> None:
    """Refuse, with the planner's advice, a preset that cannot fit: better than a crash loop."""
    from worker.engines.memory import MemoryPlan, detect_gpu_memory_gib

    if not settings.memory_check or preset.shape is None:
        return
    gpu = settings.gpu_memory_gib or detect_gpu_memory_gib()
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
        utilization=settings.gpu_memory_utilization,
    )
    if not plan.fits:
        raise ConfigError(plan.message(f"preset {preset.name}"))
    log.info("memory plan: %s", plan.message(f"preset {preset.name}"))


def _connected(
    settings: EngineSettings,
    base_url: str,
    *,
    name: str,
    model: str | None,
    max_model_len: int | None,
    chat: bool | None,
    server: VllmServer | None = None,
    chat_template_kwargs: Mapping[str, Any] | None = None,
) -> Engine:
    from worker.engines.openai_compat import OpenAICompatEngine

    engine = OpenAICompatEngine(
        base_url,
        name=name,
        model=model,
        max_model_len=max_model_len,
        chat=chat,
        api_key=settings.openai_api_key,
        concurrency=settings.concurrency,
        timeout_s=settings.timeout_s,
        server=server,
        chat_template_kwargs=chat_template_kwargs,
    )
    engine.connect()
    return engine


def server_spec(preset: Preset, settings: EngineSettings, hf_cache: Path = RUNPOD_HF_CACHE) -> ServerSpec:
    """How to run vLLM for this preset; offline against RunPod's cached copy when the host has one,
    and with a config view (`--hf-config-path`) when the preset drops config keys."""
    from worker.engines.config_view import write_config_view
    from worker.engines.vllm_server import ServerSpec

    env = cached_model_env(preset.model, preset.revision, hf_cache)
    if env:
        log.info("serving %s from the host's cached model (%s), offline", preset.model, env["HF_HUB_CACHE"])
    args = [*preset.vllm_args(), "--gpu-memory-utilization", str(settings.gpu_memory_utilization)]
    if preset.config_drop:
        view = write_config_view(
            preset.model, preset.revision, preset.config_drop, python=settings.vllm_python, env=env
        )
        log.info(
            "serving %s with its config.json less %s (%s)", preset.model, ", ".join(preset.config_drop), view
        )
        args += ["--hf-config-path", str(view)]
    return ServerSpec(
        model=preset.model,
        args=args,
        python=settings.vllm_python,
        port=settings.vllm_port,
        env=env,
        startup_timeout_s=settings.vllm_startup_timeout_s,
        log_lines=settings.vllm_log_lines,
    )


def _start_vllm(settings: EngineSettings, on_server_exit: Callable[[int], None] | None) -> Engine:
    from worker.engines.vllm_server import VllmServer

    preset = resolve_preset(settings)
    check_memory(preset, settings)
    server = VllmServer(server_spec(preset, settings), on_exit=on_server_exit)
    server.start()
    try:
        server.wait_healthy()
        return _connected(
            settings,
            server.base_url,
            name="vllm",
            model=preset.served_name,
            max_model_len=preset.max_model_len,
            chat=preset.chat,
            server=server,
            chat_template_kwargs=preset.chat_template_kwargs,
        )
    except BaseException:
        server.stop()
        raise
