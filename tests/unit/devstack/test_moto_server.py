"""The tests' moto server checks a conditional write against the last write, as DynamoDB does:
of several writers claiming one revision at once, exactly one wins (devstack/moto_server.py)."""

from __future__ import annotations

import threading
import uuid
from typing import Any

from botocore.exceptions import ClientError

WRITERS = 8
ROUNDS = 30


def test_of_writers_claiming_one_revision_at_once_exactly_one_wins(dynamodb: Any) -> None:
    table = f"claims-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    try:
        dynamodb.put_item(TableName=table, Item={"id": {"S": "entry"}, "rev": {"N": "0"}, "jobs": {"L": []}})
        for rev in range(ROUNDS):
            barrier = threading.Barrier(WRITERS)
            won: list[bool] = []

            def claim(rev: int = rev, barrier: threading.Barrier = barrier, won: list[bool] = won) -> None:
                barrier.wait()
                try:
                    dynamodb.update_item(
                        TableName=table,
                        Key={"id": {"S": "entry"}},
                        # A claim as the ledger writes one: the revision, a list and a few fields.
                        UpdateExpression="SET rev = :next, jobs = list_append(jobs, :job), attempts = :next,"
                        " deadline = :next, #state = :state",
                        ConditionExpression="rev = :rev AND attribute_exists(jobs)",
                        ExpressionAttributeNames={"#state": "state"},
                        ExpressionAttributeValues={
                            ":rev": {"N": str(rev)},
                            ":next": {"N": str(rev + 1)},
                            ":job": {"L": [{"S": uuid.uuid4().hex}]},
                            ":state": {"S": "retrying"},
                        },
                    )
                    won.append(True)
                except ClientError as exc:
                    assert exc.response["Error"]["Code"] == "ConditionalCheckFailedException"
                    won.append(False)

            threads = [threading.Thread(target=claim) for _ in range(WRITERS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
            assert won.count(True) == 1, (rev, won)
    finally:
        dynamodb.delete_table(TableName=table)


def test_the_moto_server_ends_when_the_process_that_started_it_dies() -> None:
    """A run stopped while it started moto (bench.run on SIGTERM, a killed test worker) never holds
    the handle to stop it: the server ends with the process that started it instead of living on."""
    import contextlib
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from tests.support.paths import ROOT
    from tests.support.procs import scaled

    # A parent that starts moto in a session of its own (as devstack.cloud does), prints its pid,
    # then dies without stopping it.
    parent = (
        "import subprocess, sys\n"
        "p = subprocess.Popen([sys.executable, '-m', 'devstack.moto_server', '-H', '127.0.0.1', '-p', '0'],"
        " start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "print(p.pid, flush=True)\n"
        "import time; time.sleep(3)\n"
        "import os; os._exit(0)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", parent], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    pid = int(out.stdout.split()[0])

    def alive() -> bool:
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False

    try:
        deadline = time.monotonic() + scaled(30)
        while time.monotonic() < deadline and alive():
            time.sleep(0.1)
        assert not alive()
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)  # this test started it (through its parent), by its id
