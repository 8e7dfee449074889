"""The seed's push-style Lambda, reproduced for comparison only (never deployed): read the whole
object from S3, send its text in the RunPod `/run` body, poll `/status` every few seconds until
the job ends, then write the summary to S3 itself.

The Lambda is busy, and billed, for the whole job. `poll_s` may be scaled down for a benchmark;
`SeedRun.busy_s_at(5.0)` then reports the busy time it would have had polling every 5 s, by
replacing each measured sleep with the real interval.
"""

from __future__ import annotations

import json
import time
import urllib.request
from dataclasses import dataclass
from typing import Any

TERMINAL = {"COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"}


@dataclass(frozen=True)
class SeedRun:
    measured_s: float
    polls: int
    poll_s: float
    bytes_read: int
    status: str

    def busy_s_at(self, real_poll_s: float) -> float:
        return self.measured_s - self.polls * self.poll_s + self.polls * real_poll_s


def _call(url: str, api_key: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    request.add_header("Authorization", f"Bearer {api_key}")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        answer: dict[str, Any] = json.loads(response.read())
        return answer


def handle(s3: Any, bucket: str, key: str, endpoint_url: str, api_key: str, poll_s: float) -> SeedRun:
    tick = time.perf_counter()
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    job = _call(f"{endpoint_url}/run", api_key, {"input": {"text": body.decode("utf-8")}})
    polls = 0
    while True:
        time.sleep(poll_s)
        polls += 1
        status = _call(f"{endpoint_url}/status/{job['id']}", api_key)
        if status["status"] in TERMINAL:
            break
    summary = (status.get("output") or {}).get("summary", "")
    s3.put_object(
        Bucket=bucket, Key=f"summaries/{key.removesuffix('.txt')}_summary.txt", Body=summary.encode()
    )
    return SeedRun(time.perf_counter() - tick, polls, poll_s, len(body), status["status"])
