"""The reconciler's test bed: moto over HTTP (S3, DynamoDB), the RunPod emulator, the dispatcher and
the reconciler built from their settings, an EventBridge client that keeps what it is sent.

Jobs live 1 s in the emulator's queue, so an expired job is a short wait; the reconciler's clock is
moved past deadlines instead of waiting for them. Used by tests/unit/dispatcher/test_reconciler.py and
tests/unit/dispatcher/test_reconcile_decisions.py, through the `stack` fixture (tests/conftest.py).
"""

from __future__ import annotations

import json
import math
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from devstack.runpod_emulator import RunPodEmulator
from dispatcher.app import Dispatcher
from dispatcher.events import output_keys
from dispatcher.ledger import Entry, Ledger, table_definition
from dispatcher.notify import Notifier
from dispatcher.presign import make_s3_client
from dispatcher.reconciler import Reconciler
from tests.support.procs import scaled, until

MEETING = b"Alice: The migration starts on Monday.\nBob: I will send the plan by Friday.\n"


def later(seconds: float = 3600) -> Callable[[], float]:
    return lambda: time.time() + seconds


class Events:
    """An EventBridge client that keeps what it is given (the put itself is tested on moto in
    tests/e2e/test_ledger.py); the reconciler's own code decides what is sent."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803 (boto3's name)
        with self.lock:
            self.sent.extend(json.loads(e["Detail"]) for e in Entries)
        return {"FailedEntryCount": 0}


class Stack:
    def __init__(self, env: dict[str, str], s3: Any, bucket: str, emulator: RunPodEmulator) -> None:
        self.env, self.s3, self.bucket, self.emulator = env, s3, bucket, emulator
        self.dispatcher = Dispatcher.from_env(env)
        assert self.dispatcher.ledger is not None
        self.ledger: Ledger = self.dispatcher.ledger
        self.events = Events()
        # A RunPod answer slower than this never comes (RUNPOD_TIMEOUT_S): the fault delays go past it.
        self.timeout_s = float(env["RUNPOD_TIMEOUT_S"])
        # Well past it: a starved client thread that wakes after the answer came would read it.
        self.past_timeout_s = 2 * self.timeout_s + 1

    @classmethod
    def create(
        cls,
        env: Callable[..., dict[str, str]],
        dynamodb: Any,
        moto_endpoint: str,
        s3: Any,
        bucket: str,
        emulator: RunPodEmulator,
    ) -> Stack:
        """A fresh ledger table and a versioned bucket; jobs live 1 s; RunPod must answer in 1 s on an
        idle machine, longer on a busy one (a loaded emulator's answer is slow, not lost)."""
        table = "ledger-" + uuid.uuid4().hex[:10]
        dynamodb.create_table(**table_definition(table))
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        settings = env(
            LEDGER_TABLE=table,
            DYNAMODB_ENDPOINT_URL=moto_endpoint,
            JOB_TTL_S="1",
            JOB_EXECUTION_TIMEOUT_S="1",
            RECONCILE_GRACE_S="0",
            RUNPOD_TIMEOUT_S=str(math.ceil(scaled(1.0))),
            RUNPOD_ATTEMPTS="1",
        )
        return cls(settings, s3, bucket, emulator)

    def upload(self, key: str, body: bytes = MEETING) -> dict[str, Any]:
        put = self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)
        return s3_event(self.bucket, key, put.get("VersionId"), put["ETag"].strip('"'))

    def dispatch(self, key: str, body: bytes = MEETING) -> Entry:
        event = self.upload(key, body)
        assert self.dispatcher.handle(event)["dispatched"]
        return self.entry(key)

    def entry(self, key: str) -> Entry:
        found = [e for e in self.ledger.entries() if e.key == key]
        assert len(found) == 1, found
        return found[0]

    def reconciler(self, clock: Callable[[], float] | None = None, **extra: str) -> Reconciler:
        dispatcher = Dispatcher.from_env(self.env | extra)
        assert dispatcher.ledger is not None
        s = dispatcher.settings
        s3 = make_s3_client(s.region, s.s3_endpoint_url, self.env)
        return Reconciler(
            dispatcher, dispatcher.ledger, s3, Notifier("default", self.events), clock=clock or time.time
        )

    def expire(self, entry: Entry) -> None:
        until(lambda: _expired(self.emulator, entry.job_id), 15, "the job expiring in the queue")

    def metadata(self, key: str, raw: bool = False) -> Any:
        """The metadata document of `key` (its bytes with `raw`)."""
        s = self.dispatcher.settings
        _, metadata_key = output_keys(key, s.output_prefix, s.input_suffixes, s.summary_suffix)
        body = self.s3.get_object(Bucket=self.bucket, Key=metadata_key)["Body"].read()
        return body if raw else json.loads(body)


def _expired(emulator: RunPodEmulator, job_id: str | None) -> bool:
    emulator.refresh()
    return job_id in emulator.expired


def s3_event(bucket: str, key: str, version: str | None, etag: str) -> dict[str, Any]:
    from urllib.parse import quote_plus

    obj: dict[str, Any] = {"key": quote_plus(key), "size": len(MEETING), "eTag": etag}
    if version:
        obj["versionId"] = version
    obj["sequencer"] = uuid.uuid4().hex.upper()[:18]
    return {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "eventTime": "2026-11-30T10:00:00.000Z",
                "s3": {"bucket": {"name": bucket}, "object": obj},
            }
        ]
    }
