"""Small shared pieces of `make bench`: statistics, Markdown tables, presigned jobs against the
local S3, and fresh-process probes. No benchmark logic lives here.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

from eval.machine import ROOT

REGION = "us-east-1"
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def presigned_job(s3: Any, bucket: str, key: str, size: int | None = None) -> dict[str, Any]:
    """The job input the dispatcher would build for s3://bucket/key (pull mode)."""
    from dispatcher.events import output_keys
    from dispatcher.presign import METADATA_CONTENT_TYPE, SUMMARY_CONTENT_TYPE, Presigner

    presigner = Presigner(s3, 3600)
    summary_key, metadata_key = output_keys(key, "summaries/", ".txt", "_summary")
    source: dict[str, Any] = {"bucket": bucket, "key": key}
    if size is not None:
        source["size"] = size
    return {
        "version": 1,
        "transcript_url": presigner.get(bucket, key),
        "summary_put_url": presigner.put(bucket, summary_key, SUMMARY_CONTENT_TYPE),
        "metadata_put_url": presigner.put(bucket, metadata_key, METADATA_CONTENT_TYPE),
        "source": source,
    }


def signing_client(endpoint: str) -> Any:
    from dispatcher.presign import make_s3_client

    return make_s3_client(REGION, endpoint, FAKE_CREDENTIALS)


def probe(module: str, request: dict[str, Any], timeout_s: float = 300) -> dict[str, Any]:
    """Run `python -m module` in a fresh process with `request` on stdin; return its JSON answer,
    with `process_wall_s`: the whole process, interpreter start-up included."""
    tick = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", module],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout_s,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{module} exited {done.returncode}: {done.stderr[-2000:]}")
    answer: dict[str, Any] = json.loads(done.stdout)
    answer["process_wall_s"] = time.perf_counter() - tick
    return answer
