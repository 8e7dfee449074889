"""Worker settings: one frozen object, built once from an injected mapping (`os.environ` in prod).

This module is the worker's one settings parser: every variable name is a constant below, and every
value is parsed by `_Env` the same way: an empty value means "unset" (the default applies);
integers are ASCII decimal integers (`int()` alone would also take `1_0` and other scripts' digits);
numbers are finite ASCII decimals (`nan`, `inf`, `1e400` are refused); booleans are
`true`/`false`/`1`/`0`/`yes`/`no` in any case; each has bounds. A malformed value fails at start-up
with its name, never at the first job. Nothing else in the worker reads the environment; the engine
part is handed to `worker.engines` as an `EngineSettings`.
"""

from __future__ import annotations

import math
import re
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field

from worker.engines import (
    ENGINES,
    MAX_TOKENS_LIMIT,
    MIN_MAX_TOKENS,
    PRESETS,
    PROMPT_FORMATS,
    EngineSettings,
    find_cached_model,
)
from worker.errors import ConfigError

ENGINE = "WORKER_ENGINE"
LOG_LEVEL = "WORKER_LOG_LEVEL"
MAX_OUTPUT_TOKENS = "WORKER_MAX_OUTPUT_TOKENS"
DEFAULT_MAX_TOKENS = "WORKER_DEFAULT_MAX_TOKENS"
MAX_TRANSCRIPT_BYTES = "WORKER_MAX_TRANSCRIPT_BYTES"
CONCURRENCY = "WORKER_CONCURRENCY"
ALLOWED_HOSTS = "WORKER_ALLOWED_HOSTS"
ALLOW_HTTP = "WORKER_ALLOW_HTTP"
ALLOW_LOOPBACK_URLS = "WORKER_ALLOW_LOOPBACK_URLS"
HTTP_TIMEOUT_S = "WORKER_HTTP_TIMEOUT_S"
DOWNLOAD_DEADLINE_S = "WORKER_DOWNLOAD_DEADLINE_S"
TRANSFER_ATTEMPTS = "WORKER_TRANSFER_ATTEMPTS"
EXTRACTIVE_CONTEXT_TOKENS = "WORKER_EXTRACTIVE_CONTEXT_TOKENS"
FIXED_LATENCY_MS = "WORKER_FIXED_LATENCY_MS"
FIXED_MAX_MODEL_LEN = "WORKER_FIXED_MAX_MODEL_LEN"
# The model behind the vllm/openai engines.
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
GPU = "WORKER_GPU"  # the GPU's name for the metadata's cost (worker/cost.py); unset: nvidia-smi
PRICE_PER_S = "WORKER_PRICE_PER_S"  # USD/s for the worker; unset: RunPod's price per GPU times its GPUs
GPU_MEMORY_UTILIZATION = "WORKER_GPU_MEMORY_UTILIZATION"
MEMORY_CHECK = "WORKER_MEMORY_CHECK"
OPENAI_BASE_URL = "WORKER_OPENAI_BASE_URL"
OPENAI_API_KEY = "WORKER_OPENAI_API_KEY"
OPENAI_MODEL = "WORKER_OPENAI_MODEL"
ENGINE_CONCURRENCY = "WORKER_ENGINE_CONCURRENCY"
ENGINE_TIMEOUT_S = "WORKER_ENGINE_TIMEOUT_S"
# Hugging Face's own variables, read here only to refuse a gated model that could not download.
HF_TOKEN = "HF_TOKEN"  # noqa: S105 (the variable's name, not a token)
HF_HUB_OFFLINE = "HF_HUB_OFFLINE"
_HUB_TRUE = ("1", "ON", "YES", "TRUE")  # how huggingface_hub itself reads HF_HUB_OFFLINE

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})
_NO_LIMIT = 10**15
_INTEGER = re.compile(r"[+-]?[0-9]+")
_HOST_SUFFIX = re.compile(r"\.?[a-z0-9_-]+(?:\.[a-z0-9_-]+)*", re.ASCII)
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


class _Env:
    """Reads one mapping; every accessor returns the default for an unset or empty variable."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def text(self, name: str) -> str | None:
        return self._env.get(name, "").strip() or None

    def integer(self, name: str, default: int, low: int = 1, high: int = _NO_LIMIT) -> int:
        raw = self.text(name)
        if raw is None:
            return default
        if not _INTEGER.fullmatch(raw) or len(raw) > 20:
            raise ConfigError(f"{name} must be an integer, got {raw[:40]!r}")
        value = int(raw)
        if not low <= value <= high:
            raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
        return value

    def number(self, name: str, default: float, low: float, high: float) -> float:
        raw = self.text(name)
        if raw is None:
            return default
        if not _NUMBER.fullmatch(raw) or len(raw) > 40:
            raise ConfigError(f"{name} must be a number, got {raw[:40]!r}")
        value = float(raw)
        if not math.isfinite(value) or not low <= value <= high:
            raise ConfigError(f"{name} must be a number between {low:g} and {high:g}, got {raw!r}")
        return value

    def optional_number(self, name: str, low: float, high: float) -> float | None:
        return None if self.text(name) is None else self.number(name, 0.0, low, high)

    def optional_integer(self, name: str, low: int, high: int) -> int | None:
        return None if self.text(name) is None else self.integer(name, 0, low, high)

    def boolean(self, name: str, default: bool) -> bool:
        raw = self.text(name)
        if raw is None:
            return default
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise ConfigError(f"{name} must be true or false, got {raw!r}")

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = (self.text(name) or default).lower()
        if value not in choices:
            raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
        return value

    def words(self, name: str) -> tuple[str, ...]:
        try:
            return tuple(shlex.split(self._env.get(name, "")))
        except ValueError as exc:
            raise ConfigError(f"{name} is not a valid shell word list: {exc}") from exc

    def url(self, name: str) -> str | None:
        value = self.text(name)
        if value is not None and not value.startswith(("http://", "https://")):
            raise ConfigError(f"{name} must be an http(s) URL, got {value!r}")
        return value.rstrip("/") if value else None


def engine_settings(env: Mapping[str, str]) -> EngineSettings:
    read = _Env(env)
    d = EngineSettings
    base_url = read.url(OPENAI_BASE_URL)
    options = EngineSettings(
        extractive_context_tokens=read.integer(
            EXTRACTIVE_CONTEXT_TOKENS, d.extractive_context_tokens, 1, 10_000_000
        ),
        fixed_latency_ms=read.integer(FIXED_LATENCY_MS, d.fixed_latency_ms, 0, 3_600_000),
        fixed_max_model_len=read.integer(FIXED_MAX_MODEL_LEN, d.fixed_max_model_len, 256, 10_000_000),
        preset=read.text(MODEL_PRESET),
        model=read.text(MODEL),
        max_model_len=read.optional_integer(MAX_MODEL_LEN, 64, 10_000_000),
        dtype=read.text(DTYPE),
        kv_cache_dtype=read.text(KV_CACHE_DTYPE),
        tensor_parallel_size=read.optional_integer(TENSOR_PARALLEL_SIZE, 1, 64),
        revision=read.text(MODEL_REVISION),
        prompt_format=read.choice(PROMPT_FORMAT, d.prompt_format, PROMPT_FORMATS),
        vllm_python=read.text(VLLM_PYTHON) or sys.executable,
        vllm_args=read.words(VLLM_ARGS),
        vllm_port=read.integer(VLLM_PORT, d.vllm_port, 1, 65_535),
        vllm_startup_timeout_s=read.number(VLLM_STARTUP_TIMEOUT_S, d.vllm_startup_timeout_s, 1, 86_400),
        vllm_log_lines=read.integer(VLLM_LOG_LINES, d.vllm_log_lines, 1, 10_000),
        gpu_memory_gib=read.optional_number(GPU_MEMORY_GIB, 0.5, 100_000),
        gpu_memory_utilization=read.number(GPU_MEMORY_UTILIZATION, d.gpu_memory_utilization, 0.05, 1.0),
        memory_check=read.boolean(MEMORY_CHECK, d.memory_check),
        openai_base_url=base_url,
        openai_api_key=read.text(OPENAI_API_KEY),
        openai_model=read.text(OPENAI_MODEL),
        concurrency=read.integer(ENGINE_CONCURRENCY, d.concurrency, 1, 4096),
        timeout_s=read.number(ENGINE_TIMEOUT_S, d.timeout_s, 1, 86_400),
    )
    # No engine named: a configured model means vLLM, a configured URL means that server.
    implied = "vllm" if options.model_configured else "openai" if base_url else "extractive"
    kind = read.choice(ENGINE, implied, ENGINES)
    settings = EngineSettings(**{**vars(options), "kind": kind})
    _check_gated(settings, env)
    return settings


def _check_gated(settings: EngineSettings, env: Mapping[str, str]) -> None:
    """A gated hub model downloads only with a token: refuse now, naming the variable, instead of
    starting vLLM into a 401 and exiting, over and over, on every worker RunPod starts."""
    offline = env.get(HF_HUB_OFFLINE, "").strip().upper() in _HUB_TRUE
    if settings.kind != "vllm" or env.get(HF_TOKEN, "").strip() or offline:
        return
    wanted = (settings.preset or settings.model or "").strip().lower()
    preset = next((p for p in PRESETS.values() if wanted in (p.name, p.model.lower())), None)
    if preset is None or not preset.gated:
        return
    model = settings.model or preset.model
    if model.lower() != preset.model.lower() or find_cached_model(
        model, settings.revision or preset.revision
    ):
        return  # a local copy, or RunPod's cached copy of it on this host: nothing to download
    raise ConfigError(
        f"{model} is a gated model: set {HF_TOKEN} to a Hugging Face token of an account that accepted "
        f"its licence (or serve a local copy with {MODEL}, or bake it into the image)"
    )


@dataclass(frozen=True)
class WorkerSettings:
    # The seed's ceiling: 16,000 output tokens (~12,000 English words), never exceeded.
    max_output_tokens: int = 16_000
    default_max_tokens: int = 1_024
    max_transcript_bytes: int = 64 * 1024 * 1024
    concurrency: int = 4
    # Empty: S3 endpoint hostnames only, port 443. Else presigned URLs may point at any host under
    # these suffixes; anything else is refused before connecting.
    allowed_hosts: tuple[str, ...] = ()
    allow_http: bool = False
    allow_loopback_urls: bool = False
    http_timeout_s: float = 60.0
    # Each whole transfer (download, upload, freshness probe), every attempt included: an answer
    # dripped a byte at a time is abandoned.
    download_deadline_s: float = 600.0
    transfer_attempts: int = 3
    log_level: str = "INFO"
    engine_settings: EngineSettings = field(default_factory=EngineSettings)
    # What each job's metadata prices its seconds at (worker/cost.py): None asks nvidia-smi / the table.
    gpu: str | None = None
    price_per_s: float | None = None

    @property
    def engine(self) -> str:
        """The engine's name: extractive, vllm, openai or fixed."""
        return self.engine_settings.kind

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WorkerSettings:
        read = _Env(env)
        hosts = tuple(h.strip().lower() for h in env.get(ALLOWED_HOSTS, "").split(",") if h.strip())
        for host in hosts:
            if not _HOST_SUFFIX.fullmatch(host):
                # A URL or a wildcard here matched no host: every job failed at its first URL.
                raise ConfigError(
                    f"{ALLOWED_HOSTS} holds host names or suffixes like .example.com, got {host[:80]!r}"
                )
        settings = cls(
            max_output_tokens=read.integer(
                MAX_OUTPUT_TOKENS, cls.max_output_tokens, MIN_MAX_TOKENS, MAX_TOKENS_LIMIT
            ),
            default_max_tokens=read.integer(
                DEFAULT_MAX_TOKENS, cls.default_max_tokens, MIN_MAX_TOKENS, MAX_TOKENS_LIMIT
            ),
            max_transcript_bytes=read.integer(MAX_TRANSCRIPT_BYTES, cls.max_transcript_bytes, 1, 1 << 30),
            concurrency=read.integer(CONCURRENCY, cls.concurrency, 1, 1024),
            allowed_hosts=hosts or cls.allowed_hosts,
            allow_http=read.boolean(ALLOW_HTTP, cls.allow_http),
            allow_loopback_urls=read.boolean(ALLOW_LOOPBACK_URLS, cls.allow_loopback_urls),
            http_timeout_s=read.number(HTTP_TIMEOUT_S, cls.http_timeout_s, 0.1, 86_400),
            download_deadline_s=read.number(DOWNLOAD_DEADLINE_S, cls.download_deadline_s, 1, 86_400),
            transfer_attempts=read.integer(TRANSFER_ATTEMPTS, cls.transfer_attempts, 1, 100),
            log_level=read.choice(
                LOG_LEVEL, cls.log_level.lower(), tuple(n.lower() for n in LOG_LEVELS)
            ).upper(),
            engine_settings=engine_settings(env),
            gpu=read.text(GPU),
            price_per_s=read.number(PRICE_PER_S, -1.0, 0.0, 1.0) if read.text(PRICE_PER_S) else None,
        )
        if settings.default_max_tokens > settings.max_output_tokens:
            raise ConfigError(
                f"{DEFAULT_MAX_TOKENS} ({settings.default_max_tokens}) exceeds "
                f"{MAX_OUTPUT_TOKENS} ({settings.max_output_tokens})"
            )
        return settings
