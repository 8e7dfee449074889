"""The worker's one settings parser: every variable parsed the same way, refused with its name."""

from __future__ import annotations

import pytest

from worker.errors import ConfigError
from worker.settings import WorkerSettings, engine_settings


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "Infinity", "1e999", "-5", "0", "abc"])
@pytest.mark.parametrize(
    "name", ["WORKER_HTTP_TIMEOUT_S", "WORKER_ENGINE_TIMEOUT_S", "WORKER_VLLM_STARTUP_TIMEOUT_S"]
)
def test_non_finite_negative_or_zero_durations_are_refused_with_the_name(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        WorkerSettings.from_env({name: value})


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0", "1.5"])
def test_gpu_memory_utilization_must_be_a_finite_fraction(value: str) -> None:
    with pytest.raises(ConfigError, match="WORKER_GPU_MEMORY_UTILIZATION"):
        engine_settings({"WORKER_GPU_MEMORY_UTILIZATION": value})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WORKER_CONCURRENCY", "2.5"),
        ("WORKER_CONCURRENCY", "0"),
        ("WORKER_MAX_OUTPUT_TOKENS", "1e3"),
        ("WORKER_TRANSFER_ATTEMPTS", "-1"),
        ("WORKER_VLLM_PORT", "70000"),
        ("WORKER_ALLOW_LOOPBACK_URLS", "maybe"),
        ("WORKER_MEMORY_CHECK", "2"),
        ("WORKER_LOG_LEVEL", "chatty"),
        ("WORKER_ENGINE", "gpt"),
    ],
)
def test_malformed_values_are_refused_with_the_name(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        WorkerSettings.from_env({name: value})


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [("true", True), ("YES", True), ("1", True), ("False", False), ("no", False), ("0", False)],
)
def test_booleans_parse_alike_in_worker_and_engine_settings(raw: str, parsed: bool) -> None:
    settings = WorkerSettings.from_env({"WORKER_ALLOW_LOOPBACK_URLS": raw, "WORKER_MEMORY_CHECK": raw})
    assert settings.allow_loopback_urls is parsed
    assert settings.engine_settings.memory_check is parsed


def test_empty_values_mean_unset_everywhere() -> None:
    names = [
        "WORKER_CONCURRENCY",
        "WORKER_HTTP_TIMEOUT_S",
        "WORKER_MEMORY_CHECK",
        "WORKER_ALLOW_HTTP",
        "WORKER_LOG_LEVEL",
    ]
    assert WorkerSettings.from_env(dict.fromkeys(names, "")) == WorkerSettings.from_env({})


def test_log_level_belongs_to_the_settings_object() -> None:
    assert WorkerSettings.from_env({}).log_level == "INFO"
    assert WorkerSettings.from_env({"WORKER_LOG_LEVEL": "debug"}).log_level == "DEBUG"
