"""Dispatcher settings, built once per cold start from an injected mapping.

Names follow the seed (RUNPOD_API_KEY, RUNPOD_ENDPOINT_URL, OUTPUT_BUCKET, OUTPUT_PREFIX). Expiry
rule: the presigned URLs must outlive the job, so `URL_EXPIRES_S` must be at least the RunPod
`policy.ttl` + `policy.executionTimeout`; SigV4 caps it at 7 days. URLs signed with the Lambda
role's temporary credentials also die with the role session, whatever the expiry says (README).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dispatcher.errors import SettingsError

RUNPOD_API_KEY = "RUNPOD_API_KEY"
RUNPOD_ENDPOINT_URL = "RUNPOD_ENDPOINT_URL"
OUTPUT_BUCKET = "OUTPUT_BUCKET"
OUTPUT_PREFIX = "OUTPUT_PREFIX"
INPUT_SUFFIX = "INPUT_SUFFIX"
INPUT_SUFFIXES = "INPUT_SUFFIXES"
SUMMARY_SUFFIX = "SUMMARY_SUFFIX"
JOB_TTL_S = "JOB_TTL_S"
JOB_EXECUTION_TIMEOUT_S = "JOB_EXECUTION_TIMEOUT_S"
URL_EXPIRES_S = "URL_EXPIRES_S"
MAX_TOKENS = "SUMMARY_MAX_TOKENS"
WEBHOOK_URL = "RUNPOD_WEBHOOK_URL"
RUNPOD_TIMEOUT_S = "RUNPOD_TIMEOUT_S"
RUNPOD_ATTEMPTS = "RUNPOD_ATTEMPTS"
REGION = "AWS_REGION"
S3_ENDPOINT_URL = "S3_ENDPOINT_URL"
IDEMPOTENCY_TABLE = "IDEMPOTENCY_TABLE"
IDEMPOTENCY_TTL_S = "IDEMPOTENCY_TTL_S"
DYNAMODB_ENDPOINT_URL = "DYNAMODB_ENDPOINT_URL"
DISPATCH_CONCURRENCY = "DISPATCH_CONCURRENCY"

SIGV4_MAX_EXPIRY_S = 7 * 24 * 3600
EXPIRY_MARGIN_S = 300


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from exc
    if value <= 0:
        raise SettingsError(f"{name} must be positive, got {value}")
    return value


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError(f"{name} is required but not set")
    return value


@dataclass(frozen=True)
class Settings:
    runpod_api_key: str
    runpod_endpoint_url: str
    region: str
    output_bucket: str | None = None  # None: write next to the transcript, as the seed did
    output_prefix: str = "summaries/"
    input_suffix: str = ".txt"
    # Every suffix that is summarised (the template has one S3 filter rule per suffix).
    input_suffixes: tuple[str, ...] = (".txt", ".vtt", ".srt", ".json")
    summary_suffix: str = "_summary"
    job_ttl_s: int = 2 * 3600
    job_execution_timeout_s: int = 600
    url_expires_s: int = 2 * 3600 + 600 + 300
    max_tokens: int | None = None
    webhook_url: str | None = None
    runpod_timeout_s: int = 10
    runpod_attempts: int = 4
    s3_endpoint_url: str | None = None  # local cloud only
    # Unset: no dedupe (boto3 only). Set: Powertools idempotency on this DynamoDB table.
    idempotency_table: str | None = None
    # Outlives S3 redeliveries, Lambda's async retries (6 h max event age) and SQS retention (4 days).
    idempotency_ttl_s: int = 7 * 24 * 3600
    dynamodb_endpoint_url: str | None = None  # local cloud only
    # Records of one event submitted at once (1: in order). A big event at RunPod's ~0.1 s per /run
    # needs more to finish well inside the Lambda timeout.
    dispatch_concurrency: int = 1

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, api_key: str | None = None) -> Settings:
        """`api_key` comes from Secrets Manager when configured (see `app.py`); else the env."""
        prefix = env.get(OUTPUT_PREFIX, cls.output_prefix).strip()
        if not prefix or prefix.startswith("/"):
            raise SettingsError(f"{OUTPUT_PREFIX} must be a non-empty key prefix like 'summaries/'")
        if not prefix.endswith("/"):
            prefix += "/"
        ttl = _int(env, JOB_TTL_S, cls.job_ttl_s)
        execution = _int(env, JOB_EXECUTION_TIMEOUT_S, cls.job_execution_timeout_s)
        expires = _int(env, URL_EXPIRES_S, ttl + execution + EXPIRY_MARGIN_S)
        if expires < ttl + execution:
            raise SettingsError(
                f"{URL_EXPIRES_S} ({expires}s) must be at least {JOB_TTL_S} + "
                f"{JOB_EXECUTION_TIMEOUT_S} ({ttl + execution}s): "
                "the presigned URLs would expire while the job may still run"
            )
        if expires > SIGV4_MAX_EXPIRY_S:
            raise SettingsError(f"{URL_EXPIRES_S} ({expires}s) exceeds SigV4's 7-day maximum")
        if execution > ttl:
            raise SettingsError(f"{JOB_EXECUTION_TIMEOUT_S} ({execution}s) exceeds {JOB_TTL_S} ({ttl}s)")
        endpoint = _required(env, RUNPOD_ENDPOINT_URL).rstrip("/")
        if not endpoint.startswith(("https://", "http://")):
            raise SettingsError(
                f"{RUNPOD_ENDPOINT_URL} must be a URL like https://api.runpod.ai/v2/<endpoint-id>"
            )
        max_tokens_raw = env.get(MAX_TOKENS, "")
        return cls(
            runpod_api_key=api_key or _required(env, RUNPOD_API_KEY),
            runpod_endpoint_url=endpoint,
            region=_required(env, REGION),
            output_bucket=env.get(OUTPUT_BUCKET, "").strip() or None,
            output_prefix=prefix,
            input_suffix=env.get(INPUT_SUFFIX, cls.input_suffix) or cls.input_suffix,
            input_suffixes=tuple(x.strip() for x in env.get(INPUT_SUFFIXES, "").split(",") if x.strip())
            or cls.input_suffixes,
            summary_suffix=env.get(SUMMARY_SUFFIX, cls.summary_suffix) or cls.summary_suffix,
            job_ttl_s=ttl,
            job_execution_timeout_s=execution,
            url_expires_s=expires,
            max_tokens=_int(env, MAX_TOKENS, 1) if max_tokens_raw else None,
            webhook_url=env.get(WEBHOOK_URL, "").strip() or None,
            runpod_timeout_s=_int(env, RUNPOD_TIMEOUT_S, cls.runpod_timeout_s),
            runpod_attempts=_int(env, RUNPOD_ATTEMPTS, cls.runpod_attempts),
            s3_endpoint_url=env.get(S3_ENDPOINT_URL, "").strip() or None,
            idempotency_table=env.get(IDEMPOTENCY_TABLE, "").strip() or None,
            idempotency_ttl_s=_int(env, IDEMPOTENCY_TTL_S, cls.idempotency_ttl_s),
            dynamodb_endpoint_url=env.get(DYNAMODB_ENDPOINT_URL, "").strip() or None,
            dispatch_concurrency=_int(env, DISPATCH_CONCURRENCY, cls.dispatch_concurrency),
        )
