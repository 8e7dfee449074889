"""Dispatcher settings, built once per cold start from an injected mapping.

Names follow the seed (RUNPOD_API_KEY, RUNPOD_ENDPOINT_URL, OUTPUT_BUCKET, OUTPUT_PREFIX). Expiry
rule: the presigned URLs must outlive the job, so `URL_EXPIRES_S` must be at least the RunPod
`policy.ttl` + `policy.executionTimeout`; SigV4 caps it at 7 days. URLs signed with the Lambda
role's temporary credentials also die with the role session, whatever the expiry says (README).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from contract.options import (
    MAX_TOKENS_LIMIT,
    MIN_MAX_TOKENS,
    OptionValueError,
    check_language,
    check_profile_name,
    check_style,
)
from dispatcher.errors import SettingsError

RUNPOD_API_KEY = "RUNPOD_API_KEY"
RUNPOD_ENDPOINT_URL = "RUNPOD_ENDPOINT_URL"
OUTPUT_BUCKET = "OUTPUT_BUCKET"
OUTPUT_PREFIX = "OUTPUT_PREFIX"
INPUT_PREFIX = "INPUT_PREFIX"
INPUT_SUFFIXES = "INPUT_SUFFIXES"
SUMMARY_SUFFIX = "SUMMARY_SUFFIX"
JOB_TTL_S = "JOB_TTL_S"
JOB_EXECUTION_TIMEOUT_S = "JOB_EXECUTION_TIMEOUT_S"
URL_EXPIRES_S = "URL_EXPIRES_S"
MAX_TOKENS = "SUMMARY_MAX_TOKENS"
STYLE = "SUMMARY_STYLE"
LANGUAGE = "SUMMARY_LANGUAGE"
PROFILE = "SUMMARY_PROFILE"
PROFILES_URI = "SUMMARY_PROFILES_URI"
WEBHOOK_URL = "RUNPOD_WEBHOOK_URL"
RUNPOD_TIMEOUT_S = "RUNPOD_TIMEOUT_S"
RUNPOD_ATTEMPTS = "RUNPOD_ATTEMPTS"
REGION = "AWS_REGION"
S3_ENDPOINT_URL = "S3_ENDPOINT_URL"
DYNAMODB_ENDPOINT_URL = "DYNAMODB_ENDPOINT_URL"
DISPATCH_CONCURRENCY = "DISPATCH_CONCURRENCY"
LEDGER_TABLE = "LEDGER_TABLE"
JOB_MAX_ATTEMPTS = "JOB_MAX_ATTEMPTS"
RECONCILE_GRACE_S = "RECONCILE_GRACE_S"
RECONCILE_MAX_FAILURES = "RECONCILE_MAX_FAILURES"
EVENT_BUS_NAME = "EVENT_BUS_NAME"

SIGV4_MAX_EXPIRY_S = 7 * 24 * 3600
EXPIRY_MARGIN_S = 300


_NO_LIMIT = 10**15
# ASCII digits only: `int()` alone also takes `1_0` and other scripts' digits.
_INTEGER = re.compile(r"[+-]?[0-9]+")
# An API base URL that paths are appended to: http(s), a host, a path; printable ASCII only.
_BASE_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[\x21-\x22\x24-\x3e\x40-\x7e]*)?")


class EnvReader:
    """The dispatcher side's one settings parser (deploy/ and client/ use it too): an empty value
    means unset, integers are decimal and bounded, choices and URLs are checked; each error names
    the variable and is raised as `error` (the caller's own exception type)."""

    def __init__(self, env: Mapping[str, str], error: type[Exception] = SettingsError) -> None:
        self._env = env
        self._error = error

    def text(self, name: str, default: str | None = None) -> str | None:
        return self._env.get(name, "").strip() or default

    def required(self, name: str) -> str:
        value = self.text(name)
        if value is None:
            raise self._error(f"{name} is required but not set")
        return value

    def integer(self, name: str, default: int, low: int = 1, high: int = _NO_LIMIT) -> int:
        raw = self.text(name)
        if raw is None:
            return default
        if not _INTEGER.fullmatch(raw) or len(raw) > 20:
            raise self._error(f"{name} must be an integer, got {raw[:40]!r}")
        value = int(raw)
        if not low <= value <= high:
            raise self._error(f"{name} must be between {low} and {high}, got {value}")
        return value

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = (self.text(name) or default).upper()
        if value not in choices:
            raise self._error(f"{name} must be one of {', '.join(choices)}, got {value!r}")
        return value

    def url(self, name: str, default: str) -> str:
        value = self.text(name) or default
        if not _BASE_URL.fullmatch(value):
            # Paths are appended to it: a query, a fragment or credentials would swallow them.
            raise self._error(
                f"{name} must be an http(s) URL without credentials, query or fragment, got {value[:80]!r}"
            )
        return value.rstrip("/")

    def items(self, name: str) -> tuple[str, ...]:
        """A comma-separated list."""
        return tuple(item.strip() for item in self._env.get(name, "").split(",") if item.strip())


@dataclass(frozen=True)
class Settings:
    runpod_api_key: str
    runpod_endpoint_url: str
    region: str
    output_bucket: str | None = None  # None: write next to the transcript, as the seed did
    output_prefix: str = "summaries/"
    # Only keys under it are summarised ("" : any key). The S3 notification and the EventBridge rule
    # filter on it too; this is the code-side twin, for an event that reaches the function anyway.
    input_prefix: str = ""
    # Every suffix that is summarised (the template has one S3 filter rule per suffix).
    input_suffixes: tuple[str, ...] = (".txt", ".vtt", ".srt", ".json")
    summary_suffix: str = "_summary"
    job_ttl_s: int = 2 * 3600
    job_execution_timeout_s: int = 600
    url_expires_s: int = 2 * 3600 + 600 + 300
    # The deployment's summary options (an upload's `x-amz-meta-summary-*` overrides each; None:
    # the worker's built-in default) and the user's profiles document (dispatcher/options.py).
    max_tokens: int | None = None
    summary_style: str | None = None
    summary_language: str | None = None
    summary_profile: str | None = None
    summary_profiles_uri: str | None = None
    webhook_url: str | None = None
    runpod_timeout_s: int = 10
    runpod_attempts: int = 4
    s3_endpoint_url: str | None = None  # local cloud only
    dynamodb_endpoint_url: str | None = None  # local cloud only
    # Records of one event submitted at once (1: in order). A big event at RunPod's ~0.1 s per /run
    # needs more to finish well inside the Lambda timeout.
    dispatch_concurrency: int = 1
    # The job ledger (dispatcher/ledger.py: its claim is the one dedupe) and its reconciler; unset:
    # no ledger, no dedupe (every delivery sends a job; the worker's freshness checks keep one output).
    ledger_table: str | None = None
    # Runs of one upload at most (a lost worker, an expired job, a crashed engine), then an error.
    job_max_attempts: int = 3
    # How long past policy.ttl + executionTimeout the reconciler waits before asking RunPod.
    reconcile_grace_s: int = 300
    # Passes in a row that may fail on one upload (its /status answer broken while RunPod answers
    # others, its outputs unreadable) before it is closed as `reconcile_failed`: 30 min at rate(5 min).
    reconcile_max_failures: int = 6
    # Where finished uploads are announced (EventBridge); unset: no events.
    event_bus_name: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, api_key: str | None = None) -> Settings:
        """`api_key` comes from Secrets Manager when configured (see `app.py`); else the env."""
        prefix = env.get(OUTPUT_PREFIX, cls.output_prefix).strip()
        if not prefix or prefix.startswith("/"):
            raise SettingsError(f"{OUTPUT_PREFIX} must be a non-empty key prefix like 'summaries/'")
        if not prefix.endswith("/"):
            prefix += "/"
        read = EnvReader(env)
        ttl = read.integer(JOB_TTL_S, cls.job_ttl_s)
        execution = read.integer(JOB_EXECUTION_TIMEOUT_S, cls.job_execution_timeout_s)
        expires = read.integer(URL_EXPIRES_S, ttl + execution + EXPIRY_MARGIN_S)
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
        endpoint = read.required(RUNPOD_ENDPOINT_URL).rstrip("/")
        if not _BASE_URL.fullmatch(endpoint):
            raise SettingsError(
                f"{RUNPOD_ENDPOINT_URL} must be a URL like https://api.runpod.ai/v2/<endpoint-id> "
                "(no credentials, query, fragment or spaces)"
            )
        return cls(
            runpod_api_key=api_key or read.required(RUNPOD_API_KEY),
            runpod_endpoint_url=endpoint,
            region=read.required(REGION),
            output_bucket=env.get(OUTPUT_BUCKET, "").strip() or None,
            output_prefix=prefix,
            input_prefix=env.get(INPUT_PREFIX, "").strip(),
            input_suffixes=tuple(x.strip() for x in env.get(INPUT_SUFFIXES, "").split(",") if x.strip())
            or cls.input_suffixes,
            summary_suffix=env.get(SUMMARY_SUFFIX, cls.summary_suffix) or cls.summary_suffix,
            job_ttl_s=ttl,
            job_execution_timeout_s=execution,
            url_expires_s=expires,
            max_tokens=read.integer(MAX_TOKENS, 0, MIN_MAX_TOKENS, MAX_TOKENS_LIMIT) or None,
            summary_style=_option(read, STYLE, check_style),
            summary_language=_option(read, LANGUAGE, check_language),
            summary_profile=_option(read, PROFILE, check_profile_name),
            summary_profiles_uri=read.text(PROFILES_URI),
            webhook_url=env.get(WEBHOOK_URL, "").strip() or None,
            # Lambda runs at most 900 s; a larger socket timeout overflowed time_t.
            runpod_timeout_s=read.integer(RUNPOD_TIMEOUT_S, cls.runpod_timeout_s, high=900),
            runpod_attempts=read.integer(RUNPOD_ATTEMPTS, cls.runpod_attempts, high=20),
            s3_endpoint_url=env.get(S3_ENDPOINT_URL, "").strip() or None,
            dynamodb_endpoint_url=env.get(DYNAMODB_ENDPOINT_URL, "").strip() or None,
            dispatch_concurrency=read.integer(DISPATCH_CONCURRENCY, cls.dispatch_concurrency, high=256),
            ledger_table=read.text(LEDGER_TABLE),
            job_max_attempts=read.integer(JOB_MAX_ATTEMPTS, cls.job_max_attempts, high=20),
            reconcile_grace_s=read.integer(RECONCILE_GRACE_S, cls.reconcile_grace_s, 0, SIGV4_MAX_EXPIRY_S),
            reconcile_max_failures=read.integer(
                RECONCILE_MAX_FAILURES, cls.reconcile_max_failures, high=1000
            ),
            event_bus_name=read.text(EVENT_BUS_NAME),
        )


def _option(read: EnvReader, name: str, check: Callable[[str], str]) -> str | None:
    """A summary option's deployment default, checked with the worker's own rule."""
    value = read.text(name)
    if value is None:
        return None
    try:
        return check(value)
    except OptionValueError as exc:
        raise SettingsError(f"{name}: {exc}") from None
