"""Engines: the only package that knows a model server or a ranking algorithm.

`build_engine` picks one from settings; the summariser sees only the `Engine` protocol.
"""

from __future__ import annotations

from worker.engines.base import Completion, Engine, SummaryTask
from worker.engines.extractive import ExtractiveEngine
from worker.errors import ConfigError
from worker.settings import WorkerSettings

__all__ = ["Completion", "Engine", "ExtractiveEngine", "SummaryTask", "build_engine"]


def build_engine(settings: WorkerSettings) -> Engine:
    if settings.engine == "extractive":
        return ExtractiveEngine(max_model_len=settings.extractive_context_tokens)
    if settings.engine == "fixed":
        from worker.engines.fixed import FixedLatencyEngine  # test/bench engine, no model

        return FixedLatencyEngine(settings.fixed_latency_ms / 1000, settings.fixed_max_model_len)
    raise ConfigError(f"engine {settings.engine!r} is not available in this build")
