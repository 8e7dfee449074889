"""Worker settings: one frozen object, built once from an injected mapping (`os.environ` in prod).

Env names are the constants below; booleans parse strictly ("true"/"false"/"1"/"0"), a malformed
value fails at start-up with its name, never at the first job. Nothing else in the worker reads the
environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from worker.engines.settings import EngineSettings
from worker.errors import ConfigError

ENGINE = "WORKER_ENGINE"
MAX_OUTPUT_TOKENS = "WORKER_MAX_OUTPUT_TOKENS"
DEFAULT_MAX_TOKENS = "WORKER_DEFAULT_MAX_TOKENS"
MAX_TRANSCRIPT_BYTES = "WORKER_MAX_TRANSCRIPT_BYTES"
CONCURRENCY = "WORKER_CONCURRENCY"
ALLOWED_HOSTS = "WORKER_ALLOWED_HOSTS"
ALLOW_HTTP = "WORKER_ALLOW_HTTP"
ALLOW_LOOPBACK_URLS = "WORKER_ALLOW_LOOPBACK_URLS"
HTTP_TIMEOUT_S = "WORKER_HTTP_TIMEOUT_S"
TRANSFER_ATTEMPTS = "WORKER_TRANSFER_ATTEMPTS"
EXTRACTIVE_CONTEXT_TOKENS = "WORKER_EXTRACTIVE_CONTEXT_TOKENS"
# The `fixed` engine is for tests and benchmarks only (worker/engines/fixed.py).
FIXED_LATENCY_MS = "WORKER_FIXED_LATENCY_MS"
FIXED_MAX_MODEL_LEN = "WORKER_FIXED_MAX_MODEL_LEN"

ENGINES = ("extractive", "vllm", "openai", "fixed")
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no", ""}


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 1) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc
    if value < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc
    if value <= 0:
        raise ConfigError(f"{name} must be > 0, got {value}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


@dataclass(frozen=True)
class WorkerSettings:
    engine: str = "extractive"
    # The seed's ceiling: 16,000 output tokens (~12,000 English words), never exceeded.
    max_output_tokens: int = 16_000
    default_max_tokens: int = 1_024
    max_transcript_bytes: int = 64 * 1024 * 1024
    concurrency: int = 4
    # Presigned S3 URLs live on these host suffixes; anything else is refused before connecting.
    allowed_hosts: tuple[str, ...] = (".amazonaws.com",)
    allow_http: bool = False
    allow_loopback_urls: bool = False
    http_timeout_s: float = 60.0
    transfer_attempts: int = 3
    # The extractive engine has no model context; this only bounds how much one ranking pass sees.
    extractive_context_tokens: int = 200_000
    fixed_latency_ms: int = 0
    fixed_max_model_len: int = 131_072
    # The model behind the vllm/openai engines (worker/engines/settings.py).
    engine_options: EngineSettings = field(default_factory=EngineSettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WorkerSettings:
        engine_options = EngineSettings.from_env(env)
        # No engine named: a configured model means vLLM, a configured URL means that server.
        engine = env.get(ENGINE, "").strip().lower() or (
            "vllm"
            if engine_options.model_configured
            else "openai"
            if engine_options.openai_base_url
            else "extractive"
        )
        if engine not in ENGINES:
            raise ConfigError(f"{ENGINE} must be one of {', '.join(ENGINES)}, got {engine!r}")
        hosts = tuple(h.strip().lower() for h in env.get(ALLOWED_HOSTS, "").split(",") if h.strip())
        settings = cls(
            engine=engine,
            max_output_tokens=_int(env, MAX_OUTPUT_TOKENS, cls.max_output_tokens),
            default_max_tokens=_int(env, DEFAULT_MAX_TOKENS, cls.default_max_tokens),
            max_transcript_bytes=_int(env, MAX_TRANSCRIPT_BYTES, cls.max_transcript_bytes),
            concurrency=_int(env, CONCURRENCY, cls.concurrency),
            allowed_hosts=hosts or cls.allowed_hosts,
            allow_http=_bool(env, ALLOW_HTTP, cls.allow_http),
            allow_loopback_urls=_bool(env, ALLOW_LOOPBACK_URLS, cls.allow_loopback_urls),
            http_timeout_s=_float(env, HTTP_TIMEOUT_S, cls.http_timeout_s),
            transfer_attempts=_int(env, TRANSFER_ATTEMPTS, cls.transfer_attempts),
            extractive_context_tokens=_int(env, EXTRACTIVE_CONTEXT_TOKENS, cls.extractive_context_tokens),
            fixed_latency_ms=_int(env, FIXED_LATENCY_MS, cls.fixed_latency_ms, minimum=0),
            fixed_max_model_len=_int(env, FIXED_MAX_MODEL_LEN, cls.fixed_max_model_len, minimum=256),
            engine_options=engine_options,
        )
        if settings.default_max_tokens > settings.max_output_tokens:
            raise ConfigError(
                f"{DEFAULT_MAX_TOKENS} ({settings.default_max_tokens}) exceeds "
                f"{MAX_OUTPUT_TOKENS} ({settings.max_output_tokens})"
            )
        return settings
