"""`make demo`: the main job on the local cloud. Upload a transcript, wait, print the summary.

    python -m devstack.demo [FILE] [--key KEY] [--timeout S]

Starts the local cloud, uploads FILE (default: the sample meeting) to s3://transcripts/KEY, waits
for the worker to write the summary and metadata, prints both with where they were written, and
stops everything. Exit 0 when the summary exists; 1 when the job ended in an error.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from devstack.cloud import ROOT, CloudConfig, LocalCloud

SAMPLE = ROOT / "samples" / "product_planning_meeting.txt"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("file", nargs="?", type=Path, default=SAMPLE)
    parser.add_argument("--key", help="object key to upload as (default: the file name)")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args(argv)
    if not args.file.is_file():
        print(f"error: {args.file} is not a file", file=sys.stderr)
        return 2
    key = args.key or args.file.name
    if not key.endswith((".txt", ".vtt", ".srt", ".json")):
        key += ".txt"

    started = time.monotonic()
    print("starting the local cloud (moto S3+SQS, RunPod emulator, worker)…", flush=True)
    with LocalCloud(CloudConfig()) as cloud:
        bucket = cloud.config.bucket
        print(f"uploading {args.file} → s3://{bucket}/{key}", flush=True)
        cloud.upload(key, args.file.read_bytes())
        last = ""
        deadline = time.monotonic() + args.timeout
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
                print(f"error: no summary after {args.timeout}s; logs in {cloud.log_dir}", file=sys.stderr)
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
            f"format={meta['input'].get('format')} language={meta.get('language', {}).get('used')} "
            f"structure={'parsed' if meta.get('structure', {}).get('parsed') else 'raw'}"
        )
        print(
            f"engine={meta['engine']} model={meta['model']} input_tokens={meta['input']['tokens']} "
            f"output_tokens={meta['output']['tokens']} chunks={meta['chunks']} "
            f"total={time.monotonic() - started:.1f}s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
