"""Benchmark 1: the dispatcher's cold start and warm latency, and its Lambda time against the
seed's push-and-poll Lambda on the same jobs.

Cold and warm runs happen in fresh processes (`bench.dispatch_probe`) against moto's S3 endpoint
and a RunPod emulator with no worker, so every event is a real presign + `POST /run` over loopback.
The side-by-side runs the real worker (fixed-latency engine, inference time set to the GPU
estimate of each size, scaled down with the poll interval) behind the emulator: our dispatcher
hands over presigned URLs and returns; the seed Lambda (`bench.seed_lambda`) reads the object,
pushes its text and polls until the job is done.
"""

from __future__ import annotations

from typing import Any

from bench import gpu_estimate
from bench.common import median, p95, probe, table
from bench.seed_lambda import handle as seed_handle
from bench.transcripts import transcript

COLD_RUNS = 5
WARM_EVENTS = 250
REAL_POLL_S = 5.0
POLL_S = 0.1  # scaled: 1/50 of the seed's 5 s
SCALE = POLL_S / REAL_POLL_S
SIZES = (16_000, 128_000)
JOBS_PER_SIZE = 10
BUCKET = "bench-dispatch"


def s3_event(bucket: str, key: str, size: int, n: int) -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventTime": "2026-11-24T10:15:30.123Z",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {"key": key, "size": size, "eTag": f"{n:032x}", "sequencer": f"{n:018X}"},
                },
            }
        ]
    }


def cold_and_warm(s3_endpoint: str, cold_runs: int, warm_events: int) -> dict[str, Any]:
    from devstack.runpod_emulator import RunPodEmulator

    emulator = RunPodEmulator().start()
    try:
        env = {
            "RUNPOD_API_KEY": emulator.api_key,
            "RUNPOD_ENDPOINT_URL": emulator.endpoint_url,
            "AWS_REGION": "us-east-1",
            "S3_ENDPOINT_URL": s3_endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }
        colds = []
        for run in range(cold_runs):
            events = [s3_event(BUCKET, f"cold/{run}.txt", 1000, run)]
            colds.append(probe("bench.dispatch_probe", {"env": env, "events": events}))
        events = [s3_event(BUCKET, f"warm/meeting {i}.txt", 50_000, i) for i in range(warm_events + 1)]
        warm = probe("bench.dispatch_probe", {"env": env, "events": events})
        return {"cold": colds, "warm": warm, "jobs_queued": len(emulator.jobs)}
    finally:
        emulator.stop()


def side_by_side(cloud: Any, sizes: tuple[int, ...], jobs: int) -> list[dict[str, Any]]:
    rows = []
    cloud.s3.create_bucket(Bucket=BUCKET)
    for size in sizes:
        gpu_s = gpu_estimate.estimate(size).total_s
        cloud.config.worker_env = {
            "WORKER_ENGINE": "fixed",
            "WORKER_FIXED_LATENCY_MS": str(round(gpu_s * SCALE * 1000)),
            "WORKER_FIXED_MAX_MODEL_LEN": str(gpu_estimate.MAX_MODEL_LEN),
        }
        cloud.start_worker()
        body = transcript(size).encode("utf-8")
        ours, seed = [], []
        try:
            for j in range(-1, jobs):  # job -1 warms the worker and the dispatcher up
                key = f"jobs/{size}-{j}.txt"
                cloud.s3.put_object(Bucket=BUCKET, Key=key, Body=body)
                tick = _now()
                result = cloud.dispatcher.run(s3_event(BUCKET, key, len(body), 10_000 + j))
                busy = _now() - tick
                job = cloud.emulator.wait(result["dispatched"][0]["job_id"], 120)
                if job.status != "COMPLETED":
                    raise RuntimeError(f"pull job for {size} tokens ended {job.status}: {job.error}")
                run = seed_handle(
                    cloud.s3, BUCKET, key, cloud.emulator.endpoint_url, cloud.emulator.api_key, POLL_S
                )
                if run.status != "COMPLETED":
                    raise RuntimeError(f"push job for {size} tokens ended {run.status}")
                if j >= 0:
                    ours.append(busy)
                    seed.append(run)
        finally:
            cloud.stop_worker()
        rows.append({"size": size, "bytes": len(body), "gpu_s": gpu_s, "ours": ours, "seed": seed})
    return rows


def _now() -> float:
    import time

    return time.perf_counter()


def run(quick: bool = False) -> tuple[list[str], dict[str, Any]]:
    from devstack.cloud import CloudConfig, LocalCloud

    cold_runs, warm_events = (1, 5) if quick else (COLD_RUNS, WARM_EVENTS)
    sizes, jobs = ((1_000,), 1) if quick else (SIZES, JOBS_PER_SIZE)
    with LocalCloud(CloudConfig(start_worker=False, worker_concurrency=4)) as cloud:
        measured = cold_and_warm(cloud.s3_endpoint, cold_runs, warm_events)
        pairs = side_by_side(cloud, sizes, jobs)
    colds = measured["cold"]
    warm = measured["warm"]
    warm_ms = [s * 1000 for s in warm["warm_s"]]
    cold_row = [
        f"{median([c['import_s'] for c in colds]) * 1000:.0f}",
        f"{median([c['build_s'] for c in colds]) * 1000:.0f}",
        f"{median([c['first_event_s'] for c in colds]) * 1000:.0f}",
        f"**{median([c['cold_s'] for c in colds]) * 1000:.0f}**",
        f"{median([c['process_wall_s'] for c in colds]) * 1000:.0f}",
        f"**{median(warm_ms):.1f}** / {p95(warm_ms):.1f}",
        f"{max(c['rss_peak_mib'] for c in [*colds, warm]):.0f}",
        f"{warm['s3_requests']}",
    ]
    side_rows = []
    for pair in pairs:
        ours_ms = median(pair["ours"]) * 1000
        seed_busy = median([r.busy_s_at(REAL_POLL_S) for r in pair["seed"]])
        side_rows.append(
            [
                f"{pair['size']:,} ({pair['bytes'] / 1e6:.2f} MB)",
                f"{pair['gpu_s']:.1f} s → {pair['gpu_s'] * SCALE * 1000:.0f} ms",
                f"{ours_ms:.1f} ms / 0 B",
                f"{seed_busy:.1f} s / {pair['bytes']:,} B",
                f"{median([r.polls for r in pair['seed']]):.0f}",
                f"**{seed_busy / (ours_ms / 1000):,.0f}×**",
            ]
        )
    lines = [
        "## 1. Dispatcher: cold start, warm latency, and the seed's push Lambda",
        "",
        f"Fresh process per cold start ({cold_runs} runs, median): `import dispatcher.app`, then"
        " `Dispatcher.from_env` (settings, boto3 S3 client, RunPod client), then the first S3 event"
        f" (presign GET + 2 PUTs, `POST /run` to the RunPod emulator). Warm: {warm_events} more events"
        " on the same instance. S3 endpoint: moto server; RunPod: `devstack/runpod_emulator.py`, both"
        " on loopback. Ledger (DynamoDB) off: the dispatcher's own cost (the local cloud and the"
        " template turn it on; docs/RELIABILITY.md measures ~11 ms per record with it). *Cold start*"
        " is our code's share; *whole process* adds the interpreter's start-up and exit, which"
        " Lambda's runtime pays.",
        "",
        *table(
            [
                "import ms",
                "settings + clients ms",
                "first event ms",
                "cold start ms",
                "whole process ms",
                "warm ms median / p95",
                "peak RSS MiB",
                "S3 requests sent",
            ],
            [cold_row],
        ),
        "",
        f"Side by side on the same transcripts ({jobs} jobs per size, medians), the real"
        " worker behind the emulator running the fixed-latency engine with inference time = the GPU"
        " estimate of section 2 for that size. The seed's 5 s poll interval and the inference time"
        f" were both scaled by {SCALE:g} for the run; the seed's busy time is reported as it would be"
        " at 5 s (measured time with each scaled sleep replaced by 5 s). *Busy* is billed Lambda time.",
        "",
        *table(
            [
                "transcript tokens",
                "inference (real → scaled)",
                "ours: busy / bytes read",
                "seed: busy / bytes read",
                "seed polls",
                "busy-time ratio",
            ],
            side_rows,
        ),
        "",
        "Our busy time here is taken in the bench process, which also hosts the RunPod emulator's"
        " threads while the worker long-polls them; alone (table above) a warm event takes"
        f" {median(warm_ms):.1f} ms. The ratio uses the slower side-by-side figure.",
    ]
    raw = {
        "cold": colds,
        "warm_ms": warm_ms,
        "side_by_side": [{**p, "seed": [r.__dict__ for r in p["seed"]], "ours": p["ours"]} for p in pairs],
    }
    return lines, raw
