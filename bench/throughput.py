"""Benchmark 3: jobs per minute through the whole local cloud vs the worker's job concurrency.

Each concurrency runs a fresh `LocalCloud` (moto S3 + SQS, the S3 → dispatcher bridge, the RunPod
emulator, one real worker process on the runpod SDK's production loop) with the fixed-latency
engine, uploads a batch of small transcripts at once, and waits for every metadata file. Inference
is a fixed sleep, so ideal scaling is linear: the ratio shows what the queue, the SDK loop and our
worker add. A real GPU's batching is sub-linear; this measures the plumbing, not vLLM.
"""

from __future__ import annotations

import time
from typing import Any

from bench.common import table
from bench.transcripts import transcript

CONCURRENCY = (1, 2, 4, 8)
JOBS = 32
LATENCY_MS = 1000
TOKENS = 1_000


def one(concurrency: int, jobs: int = JOBS, latency_ms: int = LATENCY_MS) -> dict[str, Any]:
    from devstack.cloud import CloudConfig, LocalCloud

    config = CloudConfig(
        worker_concurrency=concurrency,
        worker_env={"WORKER_ENGINE": "fixed", "WORKER_FIXED_LATENCY_MS": str(latency_ms)},
    )
    with LocalCloud(config) as cloud:
        # Warm-up: the worker process is up and has taken a job before the clock starts.
        cloud.upload("warmup/meeting.txt", transcript(TOKENS, seed=1).encode())
        cloud.wait_for_metadata("warmup/meeting.txt", 120)
        keys = [f"batch/meeting-{i:03d}.txt" for i in range(jobs)]
        bodies = [transcript(TOKENS, seed=100 + i).encode() for i in range(jobs)]
        tick = time.perf_counter()
        for key, body in zip(keys, bodies, strict=True):
            cloud.upload(key, body)
        statuses = [cloud.wait_for_metadata(key, 600)["status"] for key in keys]
        elapsed = time.perf_counter() - tick
    failed = [s for s in statuses if s != "ok"]
    if failed:
        raise RuntimeError(f"{len(failed)} of {jobs} throughput jobs failed at concurrency {concurrency}")
    return {"concurrency": concurrency, "jobs": jobs, "elapsed_s": elapsed}


def run(quick: bool = False) -> tuple[list[str], dict[str, Any]]:
    levels, jobs, latency_ms = ((1, 2), 2, 200) if quick else (CONCURRENCY, JOBS, LATENCY_MS)
    results = [one(n, jobs, latency_ms) for n in levels]
    base = jobs / results[0]["elapsed_s"] * 60
    rows = []
    for r in results:
        per_min = r["jobs"] / r["elapsed_s"] * 60
        ideal = 60_000 / latency_ms * r["concurrency"]
        rows.append(
            [
                r["concurrency"],
                f"{r['elapsed_s']:.1f}",
                f"**{per_min:.1f}**",
                f"{ideal:.0f}",
                f"**{per_min / base:.2f}×**",
                f"{per_min / ideal * 100:.0f} %",
            ]
        )
    lines = [
        "## 3. Throughput through the local cloud vs worker concurrency",
        "",
        f"{jobs} transcripts of ~{TOKENS:,} tokens uploaded at once to moto's S3; S3 → SQS → bridge →"
        " dispatcher → RunPod emulator → one worker process (runpod SDK production loop,"
        f" `WORKER_CONCURRENCY=N`) → fixed-latency engine ({latency_ms} ms per request) → summary and"
        " metadata PUT to S3. Clock: first upload to last metadata file, after one warm-up job.",
        "",
        *table(
            ["worker concurrency", "wall s", "jobs / min", "ideal jobs / min", "scaling vs 1", "of ideal"],
            rows,
        ),
    ]
    return lines, {"runs": results}
