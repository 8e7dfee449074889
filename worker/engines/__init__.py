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
    raise ConfigError(f"engine {settings.engine!r} is not available in this build")
