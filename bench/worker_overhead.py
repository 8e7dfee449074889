"""Benchmark 2: the worker's own cost outside inference, for 1K to 1M-token transcripts.

Each size runs one real job (`JobRunner` as `handler.py` builds it) in a fresh process against the
local S3 (moto server), with the fixed-latency engine set to answer at once: what remains is
download, decode, token counting, chunk planning, the map → reduce plumbing, the summary upload
and the metadata. It is set against the GPU time the same plan would cost (`bench.gpu_estimate`).
"""

from __future__ import annotations

from typing import Any

from bench import gpu_estimate
from bench.common import FAKE_CREDENTIALS, presigned_job, probe, signing_client, table
from bench.transcripts import transcript

SIZES = (1_000, 16_000, 128_000, 1_000_000)
BUCKET = "bench-overhead"
ENV = {
    "WORKER_ENGINE": "fixed",
    "WORKER_FIXED_LATENCY_MS": "0",
    "WORKER_FIXED_MAX_MODEL_LEN": str(gpu_estimate.MAX_MODEL_LEN),
    "WORKER_ALLOW_LOOPBACK_URLS": "true",
    **FAKE_CREDENTIALS,
}


def run(quick: bool = False) -> tuple[list[str], dict[str, Any]]:
    from devstack.cloud import CloudConfig, LocalCloud

    sizes = SIZES[:2] if quick else SIZES
    rows, raw = [], {}
    with LocalCloud(CloudConfig(start_worker=False)) as cloud:
        cloud.s3.create_bucket(Bucket=BUCKET)
        signer = signing_client(cloud.s3_endpoint)
        for size in sizes:
            body = transcript(size).encode("utf-8")
            key = f"meeting-{size}.txt"
            cloud.s3.put_object(Bucket=BUCKET, Key=key, Body=body)
            answer = probe(
                "bench.job_probe", {"env": ENV, "input": presigned_job(signer, BUCKET, key, len(body))}
            )
            result = answer["result"]
            if result.get("status") != "ok":
                raise RuntimeError(f"overhead job for {size} tokens failed: {result}")
            timings = result["timings"]
            wall = answer["wall_s"]
            other = wall - timings["download_s"] - timings["summarize_s"] - timings["upload_s"]
            gpu = gpu_estimate.estimate(result["input_tokens"])
            raw[str(size)] = {**answer, "gpu_estimate_s": gpu.total_s}
            rows.append(
                [
                    f"{result['input_tokens']:,}",
                    f"{len(body) / 1e6:.2f} MB",
                    f"{result['chunks']} / {result['levels']}",
                    f"{timings['download_s'] * 1000:.0f}",
                    f"{timings['summarize_s'] * 1000:.0f}",
                    f"{timings['upload_s'] * 1000:.0f}",
                    f"{other * 1000:.0f}",
                    f"**{wall * 1000:.0f}**",
                    f"{answer['rss_before_mib']:.0f} → {answer['rss_peak_mib']:.0f}",
                    f"{gpu.total_s:.1f} ({gpu.requests} req.)",
                    f"**{wall / gpu.total_s * 100:.2f} %**",
                ]
            )
    lines = [
        "## 2. Worker overhead outside inference",
        "",
        "One real job per size (`JobRunner`, as `handler.py` builds it) in a fresh process against moto's"
        " S3, with the fixed-latency engine answering at once (`WORKER_ENGINE=fixed`,"
        " `WORKER_FIXED_LATENCY_MS=0`, `WORKER_FIXED_MAX_MODEL_LEN=131072` like Yarn-Mistral-7b-128k)."
        " Synthetic transcripts (`bench/transcripts.py`); tokens are the engine's words + punctuation."
        " *count+plan* is the summariser's wall time with an instant engine: token counting, chunk"
        " planning, map → reduce plumbing. *other* is decode, validation and the metadata upload.",
        "",
        *table(
            [
                "tokens",
                "size",
                "chunks / levels",
                "download ms",
                "count+plan ms",
                "summary upload ms",
                "other ms",
                "worker total ms",
                "peak RSS MiB (idle → job)",
                "GPU estimate s",
                "overhead / GPU",
            ],
            rows,
        ),
        "",
        *[f"- {line}" for line in gpu_estimate.DERIVATION],
    ]
    return lines, raw
