"""Helpers for tests of the dispatcher: the shape of the `dispatcher_env` fixture, real S3
notifications for an upload, and one event delivered to several dispatchers at once."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus

from tests.support.paths import load_event

# What the `dispatcher_env` fixture gives a test: call it with settings to add or override.
DispatcherEnv = Callable[..., dict[str, str]]


def deliver_at_once(dispatchers: list[Any], event: dict[str, Any], timeout_s: float) -> list[dict[str, Any]]:
    """One event handed to every dispatcher at the same moment (threads behind a barrier): S3's and
    Lambda's duplicate deliveries racing each other. The results, in finishing order."""
    barrier = threading.Barrier(len(dispatchers))
    results: list[dict[str, Any]] = []

    def deliver(dispatcher: Any) -> None:
        barrier.wait()
        results.append(dispatcher.handle(event))

    threads = [threading.Thread(target=deliver, args=(d,)) for d in dispatchers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout_s)
    return results


def s3_event(bucket: str, key: str, **obj: Any) -> dict[str, Any]:
    """A real S3 notification for `key`, encoded the way S3 encodes keys (space → '+')."""
    event = copy.deepcopy(load_event("s3_put_unversioned.json"))
    record = event["Records"][0]
    record["s3"]["bucket"]["name"] = bucket
    record["s3"]["object"] = {
        "key": quote_plus(key, safe="/"),
        "size": 10,
        "eTag": "e",
        "sequencer": "01",
    } | obj
    return event


def uploaded(s3: Any, bucket: str, key: str, body: bytes) -> dict[str, Any]:
    """Upload `body` and return S3's notification for it, with the object's real ETag and size (the
    worker checks that the version it summarises is still the key's current one)."""
    etag = s3.put_object(Bucket=bucket, Key=key, Body=body)["ETag"].strip('"')
    return s3_event(bucket, key, eTag=etag, size=len(body))
