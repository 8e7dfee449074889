"""Uploads the reconciler never closed (issue 21 class 6): failures of one entry, told from outages.

Before: one job whose `/status` failed (a 5xx for that id) was taken as RunPod being down for the
rest of the pass, and as it sorts first every pass, every later past-deadline upload waited for
ever; a permanent error or an undecodable answer failed the entry every pass without counting;
metadata nested too deep raised past the reader; one throttled page of the open index ended the
whole pass. Real pieces: moto (S3, DynamoDB), the RunPod emulator with a broken `/status` for one
job id (`faults.job_status`) or an outage (`/status` and `/health` failing), botocore's own event
hook answering one `Query` as DynamoDB does when throttled.
"""

from __future__ import annotations

from typing import Any

import pytest

from dispatcher.ledger import Entry
from tests.support.metadata_schema import assert_valid
from tests.support.reconcile_stack import Stack, later

# One job's /status answer, broken: (HTTP status, body).
BROKEN = {
    "http-500": (500, b'{"error": "internal"}'),
    "http-503": (503, b'{"error": "unavailable"}'),
    "http-400": (400, b'{"error": "bad request"}'),
    "http-410": (410, b'{"error": "gone"}'),
    "html": (200, b"<html><body>Bad gateway</body></html>"),
    "not-utf8": (200, b'{"status": "\xff\xfe"}'),
    "list": (200, b"[1, 2]"),
    "nested-too-deep": (200, b"[" * 100_000 + b"]" * 100_000),
    "redirect": (302, b""),
}


def broken_first(stack: Stack, how: str, others: int = 2) -> tuple[Entry, list[Entry]]:
    """The broken upload sorts first (earliest deadline); `others` expire in RunPod's queue."""
    broken = stack.dispatch(f"broken/{how}.txt")
    rest = [stack.dispatch(f"broken/{how}-other-{n}.txt") for n in range(others)]
    for entry in [broken, *rest]:
        stack.expire(entry)
    stack.emulator.faults.job_status[broken.job_id or ""] = BROKEN[how]
    return broken, rest


@pytest.mark.parametrize("how", list(BROKEN))
def test_one_jobs_broken_status_answer_neither_stops_the_pass_nor_goes_uncounted(
    stack: Stack, how: str
) -> None:
    broken, _ = broken_first(stack, how)
    tally = stack.reconciler(clock=later(), JOB_MAX_ATTEMPTS="1").run()
    assert tally == {"failed": 1, "error:job_expired": 2}, tally  # the later uploads are closed
    kept = stack.entry(broken.key)
    assert kept.state == "dispatched" and kept.failures == 1 and kept.attempts == 1
    assert kept.failure and kept.job_id in kept.failure


@pytest.mark.parametrize("how", ["http-500", "http-400", "html", "nested-too-deep"])
def test_an_upload_whose_status_keeps_failing_is_closed_with_metadata_after_the_bound(
    stack: Stack, how: str
) -> None:
    broken, _ = broken_first(stack, how, others=1)
    # The retry's job lives long enough to be still queued at the third pass (with 1 s, a slow
    # machine saw it expire again and retried it: not what this test looks at).
    for n in range(1, 3):
        tally = stack.reconciler(clock=later(), RECONCILE_MAX_FAILURES="3", JOB_TTL_S="600").run()
        assert tally.get("failed") == 1 and stack.entry(broken.key).failures == n, tally
    # The other upload was retried in the first pass: its new job is not due yet.
    last = stack.reconciler(clock=later(), RECONCILE_MAX_FAILURES="3", JOB_TTL_S="600").run()
    assert last == {"error:reconcile_failed": 1, "open": 1}, last
    closed = stack.entry(broken.key)
    assert closed.state == "error" and closed.code == "reconcile_failed"
    meta = assert_valid(stack.metadata(broken.key, raw=True))
    assert meta["error"]["code"] == "reconcile_failed" and meta["written_by"] == "reconciler"
    assert "3 passes in a row" in meta["error"]["message"] and broken.job_id in meta["error"]["message"]
    assert meta["job_ids"] == [broken.job_id] and meta["source"]["key"] == broken.key
    assert ("error", "reconcile_failed") in [(e["status"], e["error_code"]) for e in stack.events.sent]


@pytest.mark.parametrize("fault", [503, "hang"])
def test_an_outage_of_runpod_counts_against_no_upload_however_many_passes(stack: Stack, fault: Any) -> None:
    entries = [stack.dispatch(f"outage/{fault}-{n}.txt") for n in range(3)]
    for entry in entries:
        stack.expire(entry)
    faults = stack.emulator.faults
    for _ in range(3):
        if fault == "hang":
            faults.status_delay_s = faults.health_delay_s = stack.past_timeout_s + 1
        else:
            faults.status_statuses.extend([fault] * 10)
            faults.health_statuses.extend([fault] * 10)
        try:
            tally = stack.reconciler(clock=later(), RECONCILE_MAX_FAILURES="1").run()
        finally:
            faults.status_delay_s = faults.health_delay_s = 0
            faults.status_statuses.clear()
            faults.health_statuses.clear()
        assert tally == {"failed": 1, "waiting": 2}, tally
    assert all(stack.entry(e.key).failures == 0 and stack.entry(e.key).state == "dispatched" for e in entries)
    assert stack.reconciler(clock=later(), JOB_MAX_ATTEMPTS="1").run() == {"error:job_expired": 3}


def test_status_failing_for_every_job_while_health_answers_stops_asking_after_a_few(stack: Stack) -> None:
    entries = [stack.dispatch(f"partial/{n}.txt") for n in range(5)]
    for entry in entries:
        stack.expire(entry)
    for entry in entries:
        stack.emulator.faults.job_status[entry.job_id or ""] = BROKEN["http-503"]
    asked = stack.emulator.status_requests
    tally = stack.reconciler(clock=later()).run()
    assert tally == {"failed": 3, "waiting": 2}, tally
    assert stack.emulator.status_requests - asked == 3


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"status": "ok", "x": "\xff"}',
        b"{" * 10,
        b'"ok"',
        b'{"status": "ok", "pad": "' + b"x" * (1 << 20) + b'"}',
    ],
    ids=["nested-too-deep", "not-utf8", "cut", "a-string", "over-1-mb"],
)
def test_unreadable_metadata_is_read_as_none_and_the_upload_goes_on(stack: Stack, body: bytes) -> None:
    entry = stack.dispatch("unreadable/meta.txt")
    stack.s3.put_object(Bucket=stack.bucket, Key=entry.metadata_key, Body=body)
    assert stack.reconciler(clock=later(-3600)).reconcile(entry) == "open"
    stack.expire(entry)
    assert stack.reconciler(clock=later(), JOB_MAX_ATTEMPTS="1").run() == {"error:job_expired": 1}
    assert_valid(stack.metadata("unreadable/meta.txt", raw=True))


def throttle(stack: Stack, reconciler: Any, pages: set[int]) -> list[int]:
    """botocore answers the open index's `Query` calls numbered in `pages` (1 = the first) as
    DynamoDB does when throttled, after its own retries; the others reach moto."""
    calls: list[int] = []

    def before_query(params: Any, **kwargs: Any) -> Any:
        calls.append(len(calls) + 1)
        if len(calls) not in pages:
            return None
        error = {"Code": "ProvisionedThroughputExceededException", "Message": "Rate of requests exceeds"}
        return ({"status_code": 400, "headers": {}, "body": b""}, {"Error": error, "ResponseMetadata": {}})

    reconciler._ledger._db.meta.events.register("before-call.dynamodb.Query", before_query)
    reconciler.page_size, reconciler.page_pause_s = 2, 0.05
    return calls


def test_a_throttled_page_of_the_open_index_is_read_again_and_the_pass_goes_on(stack: Stack) -> None:
    entries = [stack.dispatch(f"pages/{n}.txt") for n in range(5)]
    for entry in entries:
        stack.expire(entry)
    reconciler = stack.reconciler(clock=later(), JOB_MAX_ATTEMPTS="1")
    calls = throttle(stack, reconciler, {2})
    assert reconciler.run() == {"error:job_expired": 5}
    assert len(calls) >= 4  # three pages and the throttled one again


def test_a_page_that_stays_throttled_ends_the_reading_not_the_pass(stack: Stack) -> None:
    entries = [stack.dispatch(f"stuck/{n}.txt") for n in range(5)]
    for entry in entries:
        stack.expire(entry)
    reconciler = stack.reconciler(clock=later(), JOB_MAX_ATTEMPTS="1")
    throttle(stack, reconciler, set(range(2, 100)))
    assert reconciler.run() == {"error:job_expired": 2, "index_unread": 1}
    # The next pass reads the rest.
    assert stack.reconciler(clock=later(), JOB_MAX_ATTEMPTS="1").run() == {"error:job_expired": 3}


def test_an_entry_counted_as_failing_is_taken_after_the_others(stack: Stack) -> None:
    # Three broken jobs sorting first must not look like an outage pass after pass.
    broken = [stack.dispatch(f"suspects/broken-{n}.txt") for n in range(3)]
    good = stack.dispatch("suspects/good.txt")
    for entry in [*broken, good]:
        stack.expire(entry)
    for entry in broken:
        stack.emulator.faults.job_status[entry.job_id or ""] = BROKEN["http-500"]
    first = stack.reconciler(clock=later(), JOB_MAX_ATTEMPTS="1").run()
    # Counted, but three failing in a row stop the asking (an outage would look so): the good one waits.
    assert first == {"failed": 3, "waiting": 1}, first
    second = stack.reconciler(clock=later(), JOB_MAX_ATTEMPTS="1").run()
    assert second == {"error:job_expired": 1, "failed": 3}, second
    assert [stack.entry(e.key).failures for e in broken] == [2, 2, 2]
