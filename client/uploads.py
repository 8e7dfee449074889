"""`python -m client uploads`: the ledger's view of every upload (pending, ok, error, superseded).

Reads the job ledger (dispatcher/ledger.py) named by `LEDGER_TABLE` (the stack's `LedgerTable`)
with the user's AWS credentials; locally `DYNAMODB_ENDPOINT_URL`, else `S3_ENDPOINT_URL` (moto
serves both on one port). `pending` is the ledger's open state, `dispatched`. Read-only.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TextIO

from dispatcher.ledger import DISPATCHED, Entry, Ledger
from dispatcher.presign import make_client
from dispatcher.settings import DYNAMODB_ENDPOINT_URL, LEDGER_TABLE, EnvReader

if TYPE_CHECKING:
    from client.cli import Client

STATES = ("pending", "ok", "error", "superseded")


def state_name(entry: Entry) -> str:
    return "pending" if entry.state == DISPATCHED else entry.state


def open_ledger(env: Mapping[str, str], region: str, s3_endpoint_url: str | None) -> Ledger:
    """The ledger `LEDGER_TABLE` names; ValueError when it is not set."""
    read = EnvReader(env, ValueError)  # as the dispatcher reads them (dispatcher/settings.py)
    table = read.text(LEDGER_TABLE)
    if table is None:
        raise ValueError(f"set {LEDGER_TABLE} (the stack's LedgerTable output)")
    endpoint = read.text(DYNAMODB_ENDPOINT_URL) or s3_endpoint_url
    return Ledger(table, make_client("dynamodb", region, endpoint, env))


def find_job(
    ledger: Ledger, bucket: str, key: str, head: Mapping[str, Any], timeout_s: float, interval_s: float = 0.5
) -> str | None:
    """The job id the dispatcher gave the upload S3's HEAD answer `head` describes, once its claim
    holds one (None after `timeout_s`): its version's claim, else (an event without a version id,
    an unversioned bucket) the key's newest claim of these bytes made since the upload."""
    version = head.get("VersionId")
    etag = str(head.get("ETag", "")).strip('"')
    since = head["LastModified"].timestamp() - 1  # S3 times are seconds
    deadline = time.monotonic() + timeout_s
    while True:
        entry = ledger.get_id(f"s3://{bucket}/{key}#v:{version}") if version and version != "null" else None
        if entry is None:
            mine = [
                e
                for e in ledger.entries()
                if (e.bucket, e.key, e.etag) == (bucket, key, etag) and e.dispatched_at >= since
            ]
            entry = max(mine, key=lambda e: e.dispatched_at, default=None)
        if entry is not None and entry.job_id:
            return entry.job_id
        if time.monotonic() + interval_s > deadline:
            return None
        time.sleep(interval_s)


def show(
    env: Mapping[str, str],
    region: str,
    s3_endpoint_url: str | None,
    state: str | None,
    as_json: bool,
    out: TextIO,
) -> int:
    ledger = open_ledger(env, region, s3_endpoint_url)
    entries = [e for e in ledger.entries() if state is None or state_name(e) == state]
    if as_json:
        print(json.dumps([e.view() | {"state": state_name(e)} for e in entries], indent=2), file=out)
        return 0
    counts: dict[str, Any] = {name: 0 for name in STATES}
    for entry in entries:
        counts[state_name(entry)] = counts.get(state_name(entry), 0) + 1
        code = f" {entry.code}" if entry.code else ""
        print(
            f"{state_name(entry):10} s3://{entry.bucket}/{entry.key} attempts={entry.attempts}{code}",
            file=out,
        )
    print(" ".join(f"{name}={n}" for name, n in counts.items()), file=out)
    return 0


def submitted_job(client: Client, key: str, timeout_s: float) -> str | None:
    """The job id of what `submit` just did: the existing summary's job when the bytes were
    unchanged, else the ledger's (`LEDGER_TABLE`), waited for up to 30 s; None without a ledger."""
    uploaded = client.uploaded or {}
    if client.unchanged:
        job_id = (client._read_json(client.outputs(key)[1]) or {}).get("job_id")
    else:
        try:
            ledger = open_ledger(
                client.env, client.settings.region or "us-east-1", client.settings.s3_endpoint_url
            )
        except ValueError:
            return None  # no LEDGER_TABLE: the job id shows when the summary does (`--wait`)
        job_id = find_job(ledger, client.settings.need_bucket(), key, uploaded, min(timeout_s, 30.0))
    if job_id:
        print(f"job {job_id}", file=client.err)
    return str(job_id) if job_id else None
