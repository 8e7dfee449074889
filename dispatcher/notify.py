"""Users are told: one EventBridge event per finished upload (ok, error or superseded).

Sent by the reconciler when it closes a ledger entry, on the bus named by `EVENT_BUS_NAME`
(`default` works), so a rule can route it to e-mail (SNS), Slack, a queue or a Step Function:

    {"source": ["transcript-summarizer"], "detail-type": ["Transcript summary finished"],
     "detail": {"status": ["error"]}}

`detail`: bucket, key, version_id, etag, status, error_code, error_message, job_ids, attempts,
output_bucket, summary_key (when ok), metadata_key, dispatched_at, finished_at (ISO 8601, UTC),
duration_s (never negative, whatever the clocks) and `timings` (the worker's, or `{}` when no
worker wrote metadata). One event per entry: it is sent only by the reconciler whose conditional
close succeeded (dispatcher/ledger.py), so two passes at once never both announce. A put that fails
leaves the entry closed and is logged, never retried into a second event.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from dispatcher.ledger import OK, Entry

log = logging.getLogger("reconciler")

SOURCE = "transcript-summarizer"
DETAIL_TYPE = "Transcript summary finished"


def _iso(epoch: float | None) -> str | None:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds") if epoch else None


def detail(entry: Entry, meta: Mapping[str, Any] | None) -> dict[str, Any]:
    finished = entry.closed_at
    body: dict[str, Any] = {
        "bucket": entry.bucket,
        "key": entry.key,
        "version_id": entry.version_id,
        "etag": entry.etag,
        "status": entry.state,
        "error_code": entry.code,
        "error_message": entry.message,
        "job_ids": entry.job_ids,
        "attempts": entry.attempts,
        "output_bucket": entry.output_bucket,
        "summary_key": entry.summary_key if entry.state == OK else None,
        "metadata_key": entry.metadata_key,
        "dispatched_at": _iso(entry.dispatched_at),
        "finished_at": _iso(finished),
        # Clocks of the dispatcher and the reconciler may disagree: never a negative duration.
        "duration_s": round(max(finished - entry.dispatched_at, 0.0), 3)
        if finished and entry.dispatched_at
        else None,
        # The worker's timings when it wrote metadata; {} for the outcomes no worker wrote.
        "timings": meta["timings"] if meta and isinstance(meta.get("timings"), dict) else {},
    }
    return body


class Notifier:
    def __init__(self, bus: str, events_client: Any) -> None:
        self.bus = bus
        self._events = events_client

    def finished(self, entry: Entry, meta: Mapping[str, Any] | None) -> None:
        entry_detail = detail(entry, meta)
        try:
            answer = self._events.put_events(
                Entries=[
                    {
                        "Source": SOURCE,
                        "DetailType": DETAIL_TYPE,
                        "Detail": json.dumps(entry_detail),
                        "EventBusName": self.bus,
                    }
                ]
            )
            failed = answer.get("FailedEntryCount", 0)
        except Exception as exc:  # botocore's errors: the entry is closed; say so and go on
            failed, answer = 1, {"error": str(exc)}
        if failed:
            log.error(json.dumps({"event": "notify_failed", "entry": entry.id, "answer": str(answer)[:500]}))


def make_events_client(region: str, endpoint_url: str | None, env: Any) -> Any:
    """EventBridge client; `endpoint_url` is moto's locally (it serves every service on one port)."""
    from dispatcher.presign import make_client

    return make_client("events", region, endpoint_url, env)
