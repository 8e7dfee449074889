"""The job ledger: one DynamoDB item per dispatched object version, until it is closed.

The dispatcher claims an item (a conditional put) just before a version's first `/run`: this claim
is its one dedupe, so a version is dispatched once whether its deliveries come at the same moment
or days apart, and a closed item is never reopened; the job id is added when `/run` answers (never,
when its answer never came). An item is keyed by the upload's identity (dispatcher/upload.py) and
holds the version (bucket, key, versionId or ETag), its output keys, every job id sent for it, when
it was dispatched, its deadline (`policy.ttl` + `executionTimeout` + a grace), its `state`, its
`attempts` and a revision (`rev`).
`dispatched` is the only open state; the reconciler (dispatcher/reconciler.py) closes every item as
`ok`, `error` or `superseded` (a newer version of the key owns the outputs).

Open items carry `open = "1"`, the hash key of a sparse index (`open-by-deadline`), so the reconciler
reads the open items only, oldest deadline first, however large the table grows; closing removes
the attribute. Every change after the claim (a retry's claim, its job id, a close) is conditional on
the item being open at the revision its writer read, so two reconcilers racing, or one acting on the
index's stale view, change (and announce) an item once. Items are read leniently: a missing field
takes its default, the object comes from the id, so an odd item never stops a pass. The worker
never writes here: it has presigned URLs only.

boto3's low-level client only (no resource API): it is in the Lambda runtime.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from dispatcher.errors import LedgerError
from dispatcher.events import ObjectRef
from dispatcher.upload import Upload, parse_id

OPEN_INDEX = "open-by-deadline"
DISPATCHED, OK, ERROR, SUPERSEDED = "dispatched", "ok", "error", "superseded"
CLOSED_STATES = frozenset({OK, ERROR, SUPERSEDED})


@dataclass
class Entry:
    id: str
    # Every other field has a default: an item written by hand or by an older version of this code
    # still reads (the reconciler fills what it can: Reconciler._complete) instead of failing a pass.
    bucket: str = ""
    key: str = ""
    metadata_key: str = ""
    summary_key: str = ""
    output_bucket: str = ""
    dispatched_at: float = 0.0
    deadline: float = 0.0
    state: str = DISPATCHED
    attempts: int = 0  # runs counted against JOB_MAX_ATTEMPTS
    # Runs not counted: the engine died while another job was on it (dispatcher/reconciler.py).
    uncharged: int = 0
    job_id: str | None = None  # the latest job; None when /run's answer never came
    job_ids: list[str] = field(default_factory=list)
    # RunPod's /run answered the latest job as already ended (FAILED, CANCELLED, TIMED_OUT): the
    # entry is due at once (its deadline is that moment) and the reconciler runs it again.
    ended_at_run: str | None = None
    # Passes in a row that failed on this entry alone (dispatcher/reconciler.py), and the last reason.
    failures: int = 0
    failure: str | None = None
    version_id: str | None = None
    etag: str | None = None
    size: int | None = None
    sequencer: str | None = None
    event_time: str | None = None
    code: str | None = None
    message: str | None = None
    closed_at: float | None = None
    resummarize: str | None = None  # a forced re-summarise (dispatcher/upload.py): when it was asked
    # Bumped by every change: each change is conditional on the revision its writer read, so two
    # reconcilers (or a reconciler reading a stale index) never both act on one state.
    rev: int = 0

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

    @property
    def upload(self) -> Upload:
        """The upload this entry records, with the output keys it was dispatched with."""
        return Upload(self.ref, self.output_bucket, self.summary_key, self.metadata_key, self.resummarize)

    def view(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None and v != []}


_INTS = ("attempts", "uncharged", "failures", "size", "rev")
_FLOATS = ("dispatched_at", "deadline", "closed_at")
_NUMBERS = _INTS + _FLOATS


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


def _plain(typed: Any) -> Any:
    """A DynamoDB attribute value as Python, whatever its type (None for what makes no sense)."""
    if not isinstance(typed, dict) or len(typed) != 1:
        return None
    ((kind, raw),) = typed.items()
    if kind == "N":
        try:
            number = float(raw)
        except (TypeError, ValueError):
            return None
        return number if math.isfinite(number) else None
    if kind in ("S", "BOOL"):
        return raw
    if kind in ("SS", "NS", "L") and isinstance(raw, list):
        return [_plain(v) if kind == "L" else v for v in raw]
    return None


def _from_item(item: dict[str, Any]) -> Entry:
    """An entry from an item, tolerating missing fields and odd types (an item written by hand, by
    an older version, or damaged): what cannot be read takes its default, or is derived from the id."""
    values: dict[str, Any] = {}
    for name, typed in item.items():
        if name not in Entry.__dataclass_fields__:
            continue
        value = _plain(typed)
        if name in _NUMBERS:
            if isinstance(value, str):
                value = _plain({"N": value})
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            value = max(int(value), 0) if name in _INTS else float(value)
        elif name == "job_ids":
            if not isinstance(value, list):
                continue
            value = [str(v) for v in value if isinstance(v, str | int | float) and str(v)]
        elif not isinstance(value, str):
            continue
        values[name] = value
    # An item is only written for a dispatched version: it ran at least once.
    defaults: dict[str, Any] = {"id": "", "attempts": 1}
    entry = Entry(**(defaults | values))
    bucket, key, version_id = parse_id(entry.id)
    entry.bucket = entry.bucket or bucket
    entry.key = entry.key or key
    entry.version_id = entry.version_id or version_id
    return entry


class Ledger:
    def __init__(self, table: str, dynamodb_client: Any) -> None:
        self.table = table
        self._db = dynamodb_client

    def claim(self, upload: Upload, *, deadline: float, now: float | None = None) -> tuple[Entry, bool]:
        """Record a version before its first `/run`: (the new entry, True), or (the entry already
        there, False). This conditional put is the dispatcher's one dedupe: of any number of
        deliveries of one version, at once or days apart, one claims it; a closed entry is never
        reopened."""
        now = time.time() if now is None else now
        ref = upload.ref
        entry = Entry(
            id=upload.id,
            bucket=ref.bucket,
            key=ref.key,
            version_id=ref.version_id,
            etag=ref.etag,
            size=ref.size,
            sequencer=ref.sequencer,
            event_time=ref.event_time,
            output_bucket=upload.output_bucket,
            summary_key=upload.summary_key,
            metadata_key=upload.metadata_key,
            dispatched_at=now,
            deadline=deadline,
            attempts=1,
            resummarize=upload.resummarize,
        )
        item = _to_item(entry.view() | {"open": "1", "object": f"{ref.bucket}/{ref.key}"})
        try:
            self._db.put_item(TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(id)")
        except self._db.exceptions.ConditionalCheckFailedException:
            found = self.get_id(entry.id)
            if found is None:  # deleted between the two calls: it is being forgotten; retry later
                raise LedgerError(f"ledger table {self.table!r}: {entry.id} changed while read") from None
            return found, False
        except Exception as exc:  # botocore's errors, translated once
            raise LedgerError(f"ledger table {self.table!r}: put_item failed: {exc}") from exc
        return entry, True

    def dispatched(
        self, upload: Upload, job_id: str | None, *, deadline: float, now: float | None = None
    ) -> Entry:
        """A claim and its job id in one call (tools, tests): the entry as the ledger holds it."""
        entry, new = self.claim(upload, deadline=deadline, now=now)
        if new and job_id:
            self.started(entry, job_id)
        return entry

    def started(
        self, entry: Entry, job_id: str, *, ended: str | None = None, now: float | None = None
    ) -> bool:
        """The job id RunPod gave a claimed run; False when the entry moved on meanwhile. `ended`:
        `/run` answered the job already ended so; the entry is due now, for the reconciler to retry."""
        update = "SET job_id = :job, job_ids = list_append(if_not_exists(job_ids, :none), :jobs), rev = :next"
        values = {":job": {"S": job_id}, ":jobs": {"L": [{"S": job_id}]}, ":none": {"L": []}}
        due = time.time() if now is None else now
        if ended:
            update += ", ended_at_run = :ended, deadline = :due"
            values |= {":ended": {"S": ended}, ":due": {"N": repr(due)}}
        done = self._update(entry, update, values)
        if done:
            entry.job_id = job_id
            entry.job_ids = [*entry.job_ids, job_id]
            if ended:
                entry.ended_at_run, entry.deadline = ended, due
        return done

    def forget(self, entry: Entry) -> None:
        """Delete a claim whose first `/run` was refused, so the event's retry dispatches for real."""
        self._call(
            "delete_item",
            TableName=self.table,
            Key={"id": {"S": entry.id}},
            ConditionExpression="attribute_not_exists(job_id) AND " + _rev_condition(entry),
            ExpressionAttributeValues=_rev_values(entry),
            missing_ok=True,
        )

    def retried(self, entry: Entry, *, deadline: float, charged: bool = True) -> bool:
        """Claim one more run of an open entry, before its `/run`: a new deadline, no job id yet
        (`started` adds it). `charged=False`: the run does not count against JOB_MAX_ATTEMPTS
        (`uncharged` instead). False when another reconciler changed the entry first."""
        counter = "attempts" if charged else "uncharged"
        done = self._update(
            entry,
            "SET deadline = :deadline, rev = :next REMOVE job_id, ended_at_run, failures, failure "
            f"ADD {counter} :one",
            {":deadline": {"N": repr(deadline)}, ":one": {"N": "1"}},
        )
        if done:
            setattr(entry, counter, getattr(entry, counter) + 1)
            entry.deadline, entry.job_id, entry.ended_at_run = deadline, None, None
            entry.failures, entry.failure = 0, None
        return done

    def failed(self, entry: Entry, reason: str) -> bool:
        """Count one more pass that failed on this entry alone, with its reason; False when another
        reconciler changed the entry first."""
        done = self._update(
            entry,
            "SET failure = :why, rev = :next ADD failures :one",
            {":why": {"S": reason[:2000]}, ":one": {"N": "1"}},
        )
        if done:
            entry.failures, entry.failure = entry.failures + 1, reason
        return done

    def unretried(self, entry: Entry, previous: Entry) -> bool:
        """Undo a `retried` claim whose `/run` was refused: RunPod down must not use up attempts."""
        values = {
            ":deadline": {"N": repr(previous.deadline)},
            ":attempts": {"N": str(previous.attempts)},
            ":uncharged": {"N": str(previous.uncharged)},
        }
        update = "SET deadline = :deadline, attempts = :attempts, uncharged = :uncharged, rev = :next"
        if previous.job_id:
            update += ", job_id = :job"
            values[":job"] = {"S": previous.job_id}
        if previous.ended_at_run:
            update += ", ended_at_run = :ended"
            values[":ended"] = {"S": previous.ended_at_run}
        done = self._update(entry, update, values)
        if done:
            entry.deadline, entry.job_id = previous.deadline, previous.job_id
            entry.ended_at_run = previous.ended_at_run
            entry.attempts, entry.uncharged = previous.attempts, previous.uncharged
        return done

    def hold(self, entry: Entry) -> bool:
        """Take the entry's current revision (before writing its error metadata): False when
        another reconciler changed it first."""
        return self._update(entry, "SET rev = :next", {})

    def close(self, entry: Entry, state: str, code: str | None, message: str | None) -> bool:
        """Close an open entry; False when another reconciler changed or closed it first."""
        assert state in CLOSED_STATES, state
        now = time.time()
        values: dict[str, Any] = {":state": {"S": state}, ":closed": {"N": repr(now)}}
        sets = ["#s = :state", "closed_at = :closed", "rev = :next"]
        for name, value in (("code", code), ("message", message)):
            if value:
                sets.append(f"{name} = :{name}")
                values[f":{name}"] = {"S": value[:2000]}
        if not self._update(entry, "SET " + ", ".join(sets) + " REMOVE #o", values, {"#o": "open"}):
            return False
        entry.state, entry.code, entry.message, entry.closed_at = state, code, message, now
        return True

    def _update(
        self, entry: Entry, update: str, values: dict[str, Any], names: dict[str, str] | None = None
    ) -> bool:
        """One change of an open entry at the revision `entry` holds; bumps `entry.rev`."""
        try:
            self._db.update_item(
                TableName=self.table,
                Key={"id": {"S": entry.id}},
                UpdateExpression=update,
                # An item without a state was never closed: it is open (odd items are read so).
                ConditionExpression="(attribute_not_exists(#s) OR #s = :open) AND " + _rev_condition(entry),
                ExpressionAttributeNames={"#s": "state"} | (names or {}),
                ExpressionAttributeValues=values
                | _rev_values(entry)
                # The state as read: `dispatched`, or an odd one nobody closed (still open).
                | {":open": {"S": entry.state or DISPATCHED}, ":next": {"N": str(entry.rev + 1)}},
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        except Exception as exc:  # botocore's errors: translated once, here
            raise LedgerError(f"ledger table {self.table!r}: update_item failed: {exc}") from exc
        entry.rev += 1
        return True

    def unlist(self, entry: Entry) -> None:
        """Take a closed item out of the open index (an item closed by hand that kept `open`)."""
        self._call(
            "update_item",
            TableName=self.table,
            Key={"id": {"S": entry.id}},
            UpdateExpression="REMOVE #o",
            ConditionExpression="#s = :state",
            ExpressionAttributeNames={"#o": "open", "#s": "state"},
            ExpressionAttributeValues={":state": {"S": entry.state}},
            missing_ok=True,
        )

    def get_id(self, id_: str) -> Entry | None:
        answer = self._call("get_item", TableName=self.table, Key={"id": {"S": id_}}, ConsistentRead=True)
        item = answer.get("Item")
        return _from_item(item) if item else None

    def open_entries(self) -> Iterator[Entry]:
        """Every open entry, earliest deadline first (the sparse index holds only open ones; it is
        eventually consistent: the reconciler re-reads each entry before acting on it)."""
        yield from self._pages("query", self._open_query())

    def open_page(self, start: dict[str, Any] | None = None, limit: int = 100) -> tuple[list[Entry], Any]:
        """One page of open entries from `start` (None: the first), earliest deadline first, and
        where the next page starts (None after the last): a page that fails can be read again."""
        kwargs = self._open_query() | {"Limit": limit}
        if start:
            kwargs["ExclusiveStartKey"] = start
        answer = self._call("query", **kwargs)
        return [_from_item(item) for item in answer.get("Items", [])], answer.get("LastEvaluatedKey") or None

    def _open_query(self) -> dict[str, Any]:
        return {
            "TableName": self.table,
            "IndexName": OPEN_INDEX,
            "KeyConditionExpression": "#o = :one",
            "ExpressionAttributeNames": {"#o": "open"},
            "ExpressionAttributeValues": {":one": {"S": "1"}},
        }

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

    def _call(self, operation: str, *, missing_ok: bool = False, **kwargs: Any) -> Any:
        try:
            return getattr(self._db, operation)(**kwargs)
        except self._db.exceptions.ConditionalCheckFailedException:
            if missing_ok:
                return {}
            raise LedgerError(f"ledger table {self.table!r}: {operation}: the item changed") from None
        except Exception as exc:  # botocore's ClientError / BotoCoreError, translated once
            raise LedgerError(f"ledger table {self.table!r}: {operation} failed: {exc}") from exc


def _rev_condition(entry: Entry) -> str:
    # Items written before revisions existed have none: they are at revision 0.
    return "(attribute_not_exists(rev) OR rev = :rev)" if entry.rev == 0 else "rev = :rev"


def _rev_values(entry: Entry) -> dict[str, Any]:
    return {":rev": {"N": str(entry.rev)}}


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
