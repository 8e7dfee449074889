"""Dispatch each S3 object version at most once: Powertools idempotency on DynamoDB.

S3 delivers events at least once and async Lambda retries a failed event up to twice, so the same
upload can reach the dispatcher several times, sometimes at the same moment. Each record's
`/run` is wrapped in Powertools' `idempotent_function`, whose first step is a DynamoDB *conditional*
put of an `INPROGRESS` item: of two concurrent deliveries exactly one wins; the other sees the
item (`DispatchInProgressError`, reported as a failed record so it is retried, and by then it finds
`COMPLETED`), and a later redelivery gets the stored job id back without calling RunPod. A failed
`/run` deletes the item, so a retry dispatches for real.

The key is the object *version*, never the ETag alone (two uploads of identical bytes share an
ETag, and each must be summarised): bucket + key + versionId on versioned buckets, else bucket +
key + ETag + sequencer (S3 puts a sequencer in every ObjectCreated record). Events without either
(moto's, hand-written ones) fall back to ETag + eventTime, then to the ETag alone.

Optional by setting: without `IDEMPOTENCY_TABLE` nothing here is imported and the dispatcher needs
boto3 only. Powertools is *not* in the Lambda runtime: the function needs the Powertools layer (or
the package bundled) when the table is set. This module never talks to RunPod or S3 itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from dispatcher.errors import DispatchInProgressError, IdempotencyError
from dispatcher.events import ObjectRef

# Stable across function renames and versions, unlike Powertools' default (function name + qualname).
KEY_PREFIX = "transcript-dispatch"
# Without a Lambda context (local bridge, tests), an in-progress record expires after this long.
LOCAL_INVOCATION_BUDGET_MS = 60_000


def version_key(ref: ObjectRef) -> dict[str, str]:
    """What identifies one upload: the payload Powertools hashes into the idempotency key."""
    key = {"bucket": ref.bucket, "key": ref.key}
    if ref.version_id:
        return key | {"version_id": ref.version_id}
    if ref.sequencer:
        return key | {"etag": ref.etag or "", "sequencer": ref.sequencer}
    if ref.event_time:
        return key | {"etag": ref.etag or "", "event_time": ref.event_time}
    return key | {"etag": ref.etag or ""}


class LocalContext:
    """Stands in for the Lambda context where there is none: a fixed invocation budget."""

    def __init__(self, budget_ms: int = LOCAL_INVOCATION_BUDGET_MS) -> None:
        self._deadline = time.monotonic() + budget_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.monotonic()) * 1000), 0)


class IdempotentDispatch:
    """Runs `submit` once per object version, remembering the job id for `ttl_s` seconds."""

    def __init__(
        self,
        table: str,
        ttl_s: int,
        *,
        dynamodb_client: Any = None,
    ) -> None:
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

        self.table = table
        self._ttl_s = ttl_s
        # None: Powertools builds a client from the default session (the Lambda role).
        self._store = DynamoDBPersistenceLayer(table_name=table, boto3_client=dynamodb_client)

    def once(self, ref: ObjectRef, submit: Callable[[], str], context: Any = None) -> tuple[str, bool]:
        """(job id, True when an earlier delivery already dispatched this version)."""
        from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
            IdempotencyInconsistentStateError,
            IdempotencyPersistenceLayerError,
        )

        replayed: list[bool] = []

        def remember_replay(response: Any, idempotent_data: Any) -> Any:
            replayed.append(True)
            return response

        lambda_context: Any = context if context is not None else LocalContext()
        config = IdempotencyConfig(
            expires_after_seconds=self._ttl_s,
            raise_on_no_idempotency_key=True,
            # Bounds how long a crashed invocation's INPROGRESS item blocks a retry.
            lambda_context=lambda_context,
            response_hook=remember_replay,
        )

        def dispatch_version(version: dict[str, str]) -> dict[str, str]:
            return {"job_id": submit()}

        wrapped = idempotent_function(
            dispatch_version,
            data_keyword_argument="version",
            persistence_store=self._store,
            config=config,
            key_prefix=KEY_PREFIX,
        )
        where = f"s3://{ref.bucket}/{ref.key}"
        try:
            answer = wrapped(version=version_key(ref))
        except IdempotencyAlreadyInProgressError as exc:
            raise DispatchInProgressError(
                f"{where} is being dispatched by another invocation right now; retry later"
            ) from exc
        except (IdempotencyPersistenceLayerError, IdempotencyInconsistentStateError) as exc:
            cause = exc.args[1] if len(exc.args) > 1 else exc
            raise IdempotencyError(
                f"idempotency table {self.table!r} failed for {where}: {type(cause).__name__}: {cause}"
            ) from exc
        job_id = answer.get("job_id") if isinstance(answer, dict) else None
        if not isinstance(job_id, str):
            raise IdempotencyError(f"idempotency table {self.table!r} holds no job id for {where}")
        return job_id, bool(replayed)


def table_definition(table: str) -> dict[str, Any]:
    """`create_table` arguments matching template.yaml (key `id`, TTL on `expiration`)."""
    return {
        "TableName": table,
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
