"""The ledger entry of an upload in a running local cloud (devstack.cloud.LocalCloud)."""

from __future__ import annotations

from devstack.cloud import LocalCloud
from dispatcher.ledger import Entry
from tests.support.procs import until


def entry_of(cloud: LocalCloud, key: str) -> Entry:
    assert cloud.dispatcher is not None and cloud.dispatcher.ledger is not None
    found = [e for e in cloud.dispatcher.ledger.entries() if e.key == key]
    assert found, f"no ledger entry for {key}"
    return found[0]


def dispatched(cloud: LocalCloud, key: str, *, confirmed: bool = True) -> Entry:
    """The ledger entry of `key` once its /run answered (the dispatcher claims the entry before
    /run: `confirmed=False` returns the claim)."""
    return until(lambda: _entry_or_none(cloud, key, confirmed), 30, f"the ledger entry of {key}")


def _entry_or_none(cloud: LocalCloud, key: str, confirmed: bool) -> Entry | None:
    assert cloud.dispatcher is not None and cloud.dispatcher.ledger is not None
    found = [e for e in cloud.dispatcher.ledger.entries() if e.key == key and (e.job_id or not confirmed)]
    return found[0] if found else None
