"""The worker's one settings parser: every variable parsed the same way, refused with its name; every
numeric setting refuses malformed values, takes padding, and has a ceiling; allowed hosts are names
or dotted suffixes.
"""

from __future__ import annotations

import pytest

from tests.support.settings import MALFORMED
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


# ---- round three (issue 13): every numeric setting of both deployables, every malformed shape ----
WORKER_INTEGERS = [
    "WORKER_MAX_OUTPUT_TOKENS",
    "WORKER_DEFAULT_MAX_TOKENS",
    "WORKER_MAX_TRANSCRIPT_BYTES",
    "WORKER_CONCURRENCY",
    "WORKER_TRANSFER_ATTEMPTS",
    "WORKER_EXTRACTIVE_CONTEXT_TOKENS",
    "WORKER_FIXED_LATENCY_MS",
    "WORKER_FIXED_MAX_MODEL_LEN",
    "WORKER_MAX_MODEL_LEN",
    "WORKER_TENSOR_PARALLEL_SIZE",
    "WORKER_VLLM_PORT",
    "WORKER_VLLM_LOG_LINES",
    "WORKER_ENGINE_CONCURRENCY",
]
WORKER_NUMBERS = [
    "WORKER_HTTP_TIMEOUT_S",
    "WORKER_DOWNLOAD_DEADLINE_S",
    "WORKER_ENGINE_TIMEOUT_S",
    "WORKER_VLLM_STARTUP_TIMEOUT_S",
    "WORKER_GPU_MEMORY_GIB",
    "WORKER_GPU_MEMORY_UTILIZATION",
]


@pytest.mark.parametrize("value", MALFORMED)
@pytest.mark.parametrize("name", WORKER_INTEGERS + WORKER_NUMBERS)
def test_every_numeric_worker_setting_refuses_malformed_values_with_its_name(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        WorkerSettings.from_env({name: value})


@pytest.mark.parametrize("name", WORKER_INTEGERS + WORKER_NUMBERS)
def test_every_numeric_worker_setting_takes_padding_and_empty_means_unset(name: str) -> None:
    value = " 0.5 " if name == "WORKER_GPU_MEMORY_UTILIZATION" else " 5 "
    if name in ("WORKER_MAX_MODEL_LEN", "WORKER_FIXED_MAX_MODEL_LEN", "WORKER_VLLM_PORT"):
        value = " 4096 "
    if name in ("WORKER_MAX_OUTPUT_TOKENS", "WORKER_DEFAULT_MAX_TOKENS"):
        value = " 96 "  # the smallest grant that holds a summary (worker.engines.MIN_MAX_TOKENS)
    WorkerSettings.from_env({name: value, "WORKER_DEFAULT_MAX_TOKENS": "96"})
    assert WorkerSettings.from_env({name: ""}) == WorkerSettings.from_env({})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WORKER_MAX_OUTPUT_TOKENS", "2000000"),  # the job input refuses more than 1,000,000
        ("WORKER_CONCURRENCY", "100000"),
        ("WORKER_MAX_TRANSCRIPT_BYTES", str(1 << 40)),
        ("WORKER_FIXED_LATENCY_MS", str(10**12)),
    ],
)
def test_worker_settings_have_ceilings(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        WorkerSettings.from_env({name: value})


@pytest.mark.parametrize(
    "hosts", ["https://b.s3.amazonaws.com", "*", "*.example.com", "a b", "x.com:443", "\u00e9.com"]
)
def test_allowed_hosts_that_no_host_could_match_are_refused_with_the_name(hosts: str) -> None:
    with pytest.raises(ConfigError, match="WORKER_ALLOWED_HOSTS"):
        WorkerSettings.from_env({"WORKER_ALLOWED_HOSTS": f"s3.amazonaws.com, {hosts}"})


def test_allowed_hosts_take_names_and_dotted_suffixes() -> None:
    settings = WorkerSettings.from_env({"WORKER_ALLOWED_HOSTS": " .Storage.Example.com , localhost "})
    assert settings.allowed_hosts == (".storage.example.com", "localhost")
