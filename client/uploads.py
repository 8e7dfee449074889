"""`python -m client uploads`: the ledger's view of every upload (pending, ok, error, superseded).

Reads the job ledger (dispatcher/ledger.py) named by `LEDGER_TABLE` (the stack's `LedgerTable`)
with the user's AWS credentials; locally `DYNAMODB_ENDPOINT_URL`, else `S3_ENDPOINT_URL` (moto
serves both on one port). `pending` is the ledger's open state, `dispatched`. Read-only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TextIO

from dispatcher.ledger import DISPATCHED, Entry, Ledger
from dispatcher.presign import make_client
from dispatcher.settings import DYNAMODB_ENDPOINT_URL, LEDGER_TABLE, EnvReader

STATES = ("pending", "ok", "error", "superseded")


def state_name(entry: Entry) -> str:
    return "pending" if entry.state == DISPATCHED else entry.state


def show(
    env: Mapping[str, str],
    region: str,
    s3_endpoint_url: str | None,
    state: str | None,
    as_json: bool,
    out: TextIO,
) -> int:
    read = EnvReader(env, ValueError)  # as the dispatcher reads them (dispatcher/settings.py)
    table = read.text(LEDGER_TABLE)
    if table is None:
        raise ValueError(f"set {LEDGER_TABLE} (the stack's LedgerTable output)")
    endpoint = read.text(DYNAMODB_ENDPOINT_URL) or s3_endpoint_url
    ledger = Ledger(table, make_client("dynamodb", region, endpoint, env))
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
