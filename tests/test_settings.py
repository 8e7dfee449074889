"""The worker's one settings parser: every variable parsed the same way, refused with its name."""

from __future__ import annotations

import pytest

from dispatcher.errors import SettingsError
from dispatcher.settings import Settings
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
# `int()`/`float()` took `1_0` and Arabic-Indic digits; huge values had no ceiling.
MALFORMED = ["nan", "inf", "-inf", "-1", "1e400", "abc", "1_0", "\u0665", "0x10", "5 5", "9" * 30]


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


DISPATCHER_BASE = {
    "RUNPOD_API_KEY": "k",
    "RUNPOD_ENDPOINT_URL": "https://api.runpod.ai/v2/ep",
    "AWS_REGION": "us-east-1",
}
DISPATCHER_INTEGERS = [
    "JOB_TTL_S",
    "JOB_EXECUTION_TIMEOUT_S",
    "URL_EXPIRES_S",
    "SUMMARY_MAX_TOKENS",
    "RUNPOD_TIMEOUT_S",
    "RUNPOD_ATTEMPTS",
    "DISPATCH_CONCURRENCY",
    "JOB_MAX_ATTEMPTS",
    "RECONCILE_GRACE_S",
]


@pytest.mark.parametrize("value", [*MALFORMED, "5.0"])
@pytest.mark.parametrize("name", DISPATCHER_INTEGERS)
def test_every_numeric_dispatcher_setting_refuses_malformed_values_with_its_name(
    name: str, value: str
) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env(DISPATCHER_BASE | {name: value})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RUNPOD_TIMEOUT_S", str(10**12)),  # the socket timeout overflowed time_t at the first /run
        ("SUMMARY_MAX_TOKENS", "2000000"),  # every job would be refused by the worker
        ("RUNPOD_ATTEMPTS", "1000"),
        ("DISPATCH_CONCURRENCY", "100000"),
    ],
)
def test_dispatcher_settings_have_ceilings(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env(DISPATCHER_BASE | {name: value})


def test_dispatcher_settings_take_padding_and_empty_means_unset() -> None:
    padded = Settings.from_env(DISPATCHER_BASE | {"RUNPOD_TIMEOUT_S": " 5 ", "DISPATCH_CONCURRENCY": " 4 "})
    assert (padded.runpod_timeout_s, padded.dispatch_concurrency) == (5, 4)
    empty = Settings.from_env(DISPATCHER_BASE | dict.fromkeys(DISPATCHER_INTEGERS, ""))
    assert empty == Settings.from_env(DISPATCHER_BASE)


@pytest.mark.parametrize(
    "url",
    [
        "https://user:secret@api.runpod.ai/v2/ep",
        "https://api.runpod.ai/v2/ep?x=1",
        "https://api.runpod.ai/v2/ep#frag",
        "https://api.runpod.ai/v2/e p",
        "https://evil.com\\@api.runpod.ai/v2/ep",
        "ftp://api.runpod.ai/v2/ep",
        "https://api.runpod.ai/v2/\u00e9p",
    ],
)
def test_runpod_endpoint_url_that_would_swallow_or_mangle_the_paths_is_refused(url: str) -> None:
    """`/run` is appended: after `?x=1` or `#frag` it went into the query or was dropped."""
    with pytest.raises(SettingsError, match="RUNPOD_ENDPOINT_URL"):
        Settings.from_env(DISPATCHER_BASE | {"RUNPOD_ENDPOINT_URL": url})


@pytest.mark.parametrize(
    "hosts", ["https://b.s3.amazonaws.com", "*", "*.example.com", "a b", "x.com:443", "\u00e9.com"]
)
def test_allowed_hosts_that_no_host_could_match_are_refused_with_the_name(hosts: str) -> None:
    with pytest.raises(ConfigError, match="WORKER_ALLOWED_HOSTS"):
        WorkerSettings.from_env({"WORKER_ALLOWED_HOSTS": f"s3.amazonaws.com, {hosts}"})


def test_allowed_hosts_take_names_and_dotted_suffixes() -> None:
    settings = WorkerSettings.from_env({"WORKER_ALLOWED_HOSTS": " .Storage.Example.com , localhost "})
    assert settings.allowed_hosts == (".storage.example.com", "localhost")
