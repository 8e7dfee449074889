"""The RunPod API key from AWS Secrets Manager or an SSM SecureString, read once per cold start.

Where it comes from, first match wins:
- `RUNPOD_API_KEY_SECRET_ARN`: a Secrets Manager secret whose string is the key itself, or a JSON
  object holding it under `RUNPOD_API_KEY` (the console's key/value form);
- `RUNPOD_API_KEY_PARAMETER`: an SSM parameter (SecureString, decrypted on read);
- neither: `api_key()` returns None and `Settings.from_env` reads the plain `RUNPOD_API_KEY`
  variable, as in the seed (local runs, tests).

The value is cached per source for the life of the execution environment, so a warm Lambda makes
no AWS call per event; a rotated key is picked up by the next cold start. The key is never logged.
AWS errors are translated once, here, into `SettingsError` naming the source (never the value).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from typing import Any

from dispatcher.errors import SettingsError

SECRET_ARN = "RUNPOD_API_KEY_SECRET_ARN"  # noqa: S105 (an env var name)
PARAMETER = "RUNPOD_API_KEY_PARAMETER"
JSON_FIELD = "RUNPOD_API_KEY"

# (service name, region) → a boto3 client; tests hand in one bound to a local moto server.
ClientFactory = Callable[[str, str], Any]

_cache: dict[tuple[str, str], str] = {}
_lock = threading.Lock()


def _boto3_client(service: str, region: str) -> Any:
    from dispatcher.presign import make_client

    return make_client(service, region)


def api_key(env: Mapping[str, str], client_factory: ClientFactory | None = None) -> str | None:
    """The key from the configured secret store, or None when none is configured."""
    secret_arn = env.get(SECRET_ARN, "").strip()
    parameter = env.get(PARAMETER, "").strip()
    if not secret_arn and not parameter:
        return None
    source = ("secretsmanager", secret_arn) if secret_arn else ("ssm", parameter)
    with _lock:
        cached = _cache.get(source)
        if cached is not None:
            return cached
        region = env.get("AWS_REGION", "").strip() or env.get("AWS_DEFAULT_REGION", "").strip()
        if not region:
            raise SettingsError("AWS_REGION is required to read the RunPod API key")
        client = (client_factory or _boto3_client)(source[0], region)
        value = _read_secret(client, secret_arn) if secret_arn else _read_parameter(client, parameter)
        _cache[source] = value
        return value


def forget() -> None:
    """Drop cached keys (tests; a fresh execution environment starts empty anyway)."""
    with _lock:
        _cache.clear()


def _aws_code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", type(exc).__name__))
    return type(exc).__name__


def _read_secret(client: Any, secret_id: str) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer = client.get_secret_value(SecretId=secret_id)
    except (BotoCoreError, ClientError) as exc:
        code = _aws_code(exc)
        raise SettingsError(f"cannot read the RunPod API key from {SECRET_ARN}={secret_id}: {code}") from exc
    raw = answer.get("SecretString")
    if not isinstance(raw, str):
        raise SettingsError(f"the secret {secret_id} has no string value (binary secrets are not supported)")
    return _key_from_secret_string(raw, secret_id)


def _key_from_secret_string(raw: str, secret_id: str) -> str:
    text = raw.strip()
    if text.startswith("{"):
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SettingsError(f"the secret {secret_id} looks like JSON but does not parse") from exc
        value = document.get(JSON_FIELD) if isinstance(document, dict) else None
        if not isinstance(value, str):
            raise SettingsError(f"the secret {secret_id} is a JSON object without a {JSON_FIELD!r} string")
        text = value.strip()
    if not text:
        raise SettingsError(f"the secret {secret_id} is empty")
    return text


def _read_parameter(client: Any, name: str) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer = client.get_parameter(Name=name, WithDecryption=True)
    except (BotoCoreError, ClientError) as exc:
        code = _aws_code(exc)
        raise SettingsError(f"cannot read the RunPod API key from {PARAMETER}={name}: {code}") from exc
    value = str(answer.get("Parameter", {}).get("Value", "")).strip()
    if not value:
        raise SettingsError(f"the parameter {name} is empty")
    return value
