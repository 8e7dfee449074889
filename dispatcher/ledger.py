"""The job ledger: one DynamoDB item per dispatched object version, until it is closed.

An item is written when `/run` is called for a version (or when its answer never came: then the
job id is unknown) and holds the version (bucket, key, versionId or ETag), every job id sent for it,
when it was dispatched, its deadline (`policy.ttl` + `executionTimeout` + a grace), its `state` and
its `attempts`. `dispatched` is the only open state; the reconciler (dispatcher/reconciler.py) closes
every item as `ok`, `error` or `superseded` (a newer version of the key owns the outputs).

Open items carry `open = "1"`, the hash key of a sparse index (`open-by-deadline`), so the reconciler
reads the open items only, oldest deadline first, however large the table grows; closing removes
the attribute. Closing is conditional on the item still being open, so two reconcilers racing
close (and announce) an item once. The worker never writes here: it has presigned URLs only.

boto3's low-level client only (no Powertools, no resource API): it is in the Lambda runtime.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from dispatcher.errors import LedgerError
from dispatcher.events import ObjectRef

OPEN_INDEX = "open-by-deadline"
DISPATCHED, OK, ERROR, SUPERSEDED = "dispatched", "ok", "error", "superseded"
CLOSED_STATES = frozenset({OK, ERROR, SUPERSEDED})


def entry_id(ref: ObjectRef) -> str:
    """What identifies one upload (as dispatcher/idempotency.py's key does): the version, never the
    ETag alone."""
    if ref.version_id:
        token = f"v:{ref.version_id}"
    else:
        token = f"e:{ref.etag or ''}:{ref.sequencer or ref.event_time or ''}"
    return f"s3://{ref.bucket}/{ref.key}#{token}"


@dataclass
class Entry:
    id: str
    bucket: str
    key: str
    metadata_key: str
    summary_key: str
    output_bucket: str
    dispatched_at: float
    deadline: float
    state: str = DISPATCHED
    attempts: int = 0  # runs counted against JOB_MAX_ATTEMPTS
    # Runs not counted: the engine died while another job was on it (dispatcher/reconciler.py).
    uncharged: int = 0
    job_id: str | None = None  # the latest job; None when /run's answer never came
    job_ids: list[str] = field(default_factory=list)
    version_id: str | None = None
    etag: str | None = None
    size: int | None = None
    sequencer: str | None = None
    event_time: str | None = None
    code: str | None = None
    message: str | None = None
    closed_at: float | None = None

    @property
    def ref(self) -> ObjectRef:
        return ObjectRef(
            bucket=self.bucket,
            key=self.key,
            version_id=self.version_id,
            etag=self.etag,
            size=self.size,
            sequencer=self.sequencer,
            event_time=self.event_time,
        )

    def view(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None and v != []}


_NUMBERS = ("dispatched_at", "deadline", "attempts", "uncharged", "size", "closed_at")


def _to_item(values: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            continue
        if name in _NUMBERS:
            item[name] = {"N": repr(value) if isinstance(value, float) else str(value)}
        elif isinstance(value, list):
            item[name] = {"L": [{"S": str(v)} for v in value]}
        else:
            item[name] = {"S": str(value)}
    return item


def _from_item(item: dict[str, Any]) -> Entry:
    values: dict[str, Any] = {}
    for name, typed in item.items():
        if name not in Entry.__dataclass_fields__:
            continue
        if "N" in typed:
            number = float(typed["N"])
            values[name] = int(number) if name in ("attempts", "uncharged", "size") else number
        elif "L" in typed:
            values[name] = [v["S"] for v in typed["L"]]
        else:
            values[name] = typed["S"]
    return Entry(**values)


class Ledger:
    def __init__(self, table: str, dynamodb_client: Any) -> None:
        self.table = table
        self._db = dynamodb_client

    def dispatched(
        self,
        ref: ObjectRef,
        job_id: str | None,
        *,
        deadline: float,
        outputs: tuple[str, str, str],
        now: float | None = None,
    ) -> Entry:
        """Record a first dispatch (`outputs`: output bucket, summary key, metadata key)."""
        now = time.time() if now is None else now
        output_bucket, summary_key, metadata_key = outputs
        entry = Entry(
            id=entry_id(ref),
            bucket=ref.bucket,
            key=ref.key,
            version_id=ref.version_id,
            etag=ref.etag,
            size=ref.size,
            sequencer=ref.sequencer,
            event_time=ref.event_time,
            output_bucket=output_bucket,
            summary_key=summary_key,
            metadata_key=metadata_key,
            dispatched_at=now,
            deadline=deadline,
            attempts=1,
            job_id=job_id,
            job_ids=[job_id] if job_id else [],
        )
        item = _to_item(entry.view() | {"open": "1", "object": f"{ref.bucket}/{ref.key}"})
        self._call("put_item", TableName=self.table, Item=item)
        return entry

    def retried(self, entry: Entry, job_id: str | None, *, deadline: float, charged: bool = True) -> Entry:
        """One more run of an open entry: a new job (or an unconfirmed one), a new deadline.
        `charged=False`: the run does not count against JOB_MAX_ATTEMPTS (`uncharged` instead)."""
        counter = "attempts" if charged else "uncharged"
        names = {"#s": "state"}
        values: dict[str, Any] = {
            ":one": {"N": "1"},
            ":deadline": {"N": repr(deadline)},
            ":open": {"S": DISPATCHED},
        }
        if job_id:
            update = (
                "SET deadline = :deadline, job_id = :job, job_ids = list_append(job_ids, :jobs) "
                f"ADD {counter} :one"
            )
            values |= {":job": {"S": job_id}, ":jobs": {"L": [{"S": job_id}]}}
        else:
            update = f"SET deadline = :deadline REMOVE job_id ADD {counter} :one"
        self._call(
            "update_item",
            TableName=self.table,
            Key={"id": {"S": entry.id}},
            UpdateExpression=update,
            ConditionExpression="#s = :open",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
        if charged:
            entry.attempts += 1
        else:
            entry.uncharged += 1
        entry.deadline = deadline
        entry.job_id = job_id
        if job_id:
            entry.job_ids.append(job_id)
        return entry

    def close(self, entry: Entry, state: str, code: str | None, message: str | None) -> bool:
        """Close an open entry; False when another reconciler closed it first."""
        assert state in CLOSED_STATES, state
        now = time.time()
        values: dict[str, Any] = {
            ":state": {"S": state},
            ":closed": {"N": repr(now)},
            ":open": {"S": DISPATCHED},
        }
        sets = ["#s = :state", "closed_at = :closed"]
        for name, value in (("code", code), ("message", message)):
            if value:
                sets.append(f"{name} = :{name}")
                values[f":{name}"] = {"S": value[:2000]}
        try:
            self._db.update_item(
                TableName=self.table,
                Key={"id": {"S": entry.id}},
                UpdateExpression="SET " + ", ".join(sets) + " REMOVE #o",
                ConditionExpression="#s = :open",
                ExpressionAttributeNames={"#s": "state", "#o": "open"},
                ExpressionAttributeValues=values,
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        except Exception as exc:  # botocore's errors: translated once, here
            raise LedgerError(f"ledger table {self.table!r}: update_item failed: {exc}") from exc
        entry.state, entry.code, entry.message, entry.closed_at = state, code, message, now
        return True

    def get(self, ref: ObjectRef) -> Entry | None:
        answer = self._call(
            "get_item", TableName=self.table, Key={"id": {"S": entry_id(ref)}}, ConsistentRead=True
        )
        item = answer.get("Item")
        return _from_item(item) if item else None

    def open_entries(self) -> Iterator[Entry]:
        """Every open entry, earliest deadline first (the sparse index holds only open ones)."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": OPEN_INDEX,
            "KeyConditionExpression": "#o = :one",
            "ExpressionAttributeNames": {"#o": "open"},
            "ExpressionAttributeValues": {":one": {"S": "1"}},
        }
        yield from self._pages("query", kwargs)

    def entries(self, limit: int = 1000) -> list[Entry]:
        """Up to `limit` entries, newest dispatch first (the client's status view)."""
        found = []
        for entry in self._pages("scan", {"TableName": self.table}):
            found.append(entry)
            if len(found) >= limit:
                break
        return sorted(found, key=lambda e: e.dispatched_at, reverse=True)

    def _pages(self, operation: str, kwargs: dict[str, Any]) -> Iterator[Entry]:
        while True:
            answer = self._call(operation, **kwargs)
            for item in answer.get("Items", []):
                yield _from_item(item)
            start = answer.get("LastEvaluatedKey")
            if not start:
                return
            kwargs = kwargs | {"ExclusiveStartKey": start}

    def _call(self, operation: str, **kwargs: Any) -> Any:
        try:
            return getattr(self._db, operation)(**kwargs)
        except Exception as exc:  # botocore's ClientError / BotoCoreError, translated once
            raise LedgerError(f"ledger table {self.table!r}: {operation} failed: {exc}") from exc


def table_definition(table: str) -> dict[str, Any]:
    """`create_table` arguments matching template.yaml's LedgerTable."""
    return {
        "TableName": table,
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [
            {"AttributeName": "id", "AttributeType": "S"},
            {"AttributeName": "open", "AttributeType": "S"},
            {"AttributeName": "deadline", "AttributeType": "N"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": OPEN_INDEX,
                "KeySchema": [
                    {"AttributeName": "open", "KeyType": "HASH"},
                    {"AttributeName": "deadline", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }


UNCONFIRMED = "unconfirmed"  # what the dispatcher reports for a /run whose answer never came


def deadline_after(now: float, settings: Any) -> float:
    """When an entry dispatched at `now` must have its outputs: the job's whole RunPod lifetime
    (`policy.ttl` + `executionTimeout`) and the grace."""
    return now + settings.job_ttl_s + settings.job_execution_timeout_s + settings.reconcile_grace_s


def record_dispatch(ledger: Ledger, ref: ObjectRef, submit: Any, settings: Any) -> str:
    """Submit one version and write its ledger entry; returns the job id (or `UNCONFIRMED`)."""
    from dispatcher.errors import RunPodUnconfirmedError
    from dispatcher.events import output_keys

    s = settings
    summary_key, metadata_key = output_keys(ref.key, s.output_prefix, s.input_suffixes, s.summary_suffix)
    outputs = (s.output_bucket or ref.bucket, summary_key, metadata_key)
    job_id: str | None
    try:
        job_id = submit(ref)
    except RunPodUnconfirmedError:
        job_id = None
    now = time.time()
    ledger.dispatched(ref, job_id, deadline=deadline_after(now, s), outputs=outputs, now=now)
    return job_id or UNCONFIRMED
