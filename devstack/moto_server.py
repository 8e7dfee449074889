"""moto's server (`python -m devstack.moto_server -H 127.0.0.1 -p PORT`, moto.server's arguments)
with DynamoDB's item writes atomic, as DynamoDB's own are.

moto checks a write's ConditionExpression and then writes, with no lock between, and its server
answers each request on a thread of its own: two reconcilers claiming the same ledger revision at
once could both succeed (seen in CI: `test_reconcilers_running_at_once_retry_an_expired_job_once`,
two retries of one expired job, both at attempt 2). DynamoDB serialises the writes of one item, so
every condition is checked against the last write; one lock over moto's writes gives the same.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.server import main

_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")
_LOCK = threading.RLock()


def _atomic(write: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(write)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return write(*args, **kwargs)

    return locked


for _name in _WRITES:
    setattr(DynamoDBBackend, _name, _atomic(getattr(DynamoDBBackend, _name)))


def _end_with_parent() -> None:
    """SIGTERM this server when the process that started it dies (Linux `prctl(PR_SET_PDEATHSIG)`):
    a run stopped while it started moto (bench.run on SIGTERM, a killed test worker) never got the
    handle to stop it, and the server lived on after it."""
    import ctypes
    import os
    import signal

    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return  # not Linux: stopped by its handle only, as before
    if os.getppid() != parent:  # the parent died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


if __name__ == "__main__":
    _end_with_parent()
    main()
