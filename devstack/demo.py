"""`make demo`: the main job on the local cloud. Upload a transcript, wait, keep and show the results.

    python -m devstack.demo [FILE] [--key KEY] [--out DIR] [--timeout S] [--no-reuse] [--engine vllm]

Uploads FILE (default: the sample meeting) to s3://transcripts/incoming/NAME, as a user uploads to
the deployed stack, waits for the worker's summary and metadata, and copies them (and the
structured summary, when the metadata has one) to DIR (default `demo-output/<name>/`), which
outlives the local cloud. Prints the summary and the metadata's main facts.

It uses the local cloud `make up` keeps running when there is one; otherwise it starts one for
this run (its logs go to DIR/logs/, kept there when something fails) and stops it at the end,
also on Ctrl-C (one line, exit 130) and SIGTERM (exit 143).
Exit 0 when the summary exists; 1 when the job ended in an error or timed out; 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import signal
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from client.cli import result_of
from devstack import background
from devstack.cloud import ROOT, LocalCloud
from dispatcher.settings import Settings

INPUT_SUFFIXES = Settings.input_suffixes

SAMPLE = ROOT / "samples" / "product_planning_meeting.txt"
OUTPUT_ROOT = ROOT / "demo-output"


class _TerminatedError(BaseException):
    """SIGTERM, raised in the main thread so every `with` block stops what it started. A
    BaseException, like KeyboardInterrupt: botocore's retry loop catches every Exception."""


VLLM_PYTHON = ROOT / ".venv-vllm" / "bin" / "python"
MODEL_CACHE = ROOT / ".cache" / "smollm2"


def real_model_env() -> dict[str, str]:
    """The worker's settings for SmolLM2-135M-Instruct on the CPU (converted once, offline), served
    by the worker's own `vllm serve` from the CPU venv: small and poor at summaries, but a real LLM's
    output through the whole pipeline."""
    from devstack import real_model

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
    parser.add_argument(
        "--key", help=f"object key to upload as (default: {background.INPUT_PREFIX}<file name>)"
    )
    parser.add_argument("--out", type=Path, help="where to write the results (default: demo-output/<name>/)")
    parser.add_argument("--timeout", type=float, default=None, help="seconds (300; 1800 with vllm)")
    parser.add_argument(
        "--engine",
        choices=("extractive", "vllm"),
        default="extractive",
        help="vllm: a real language model (SmolLM2-135M-Instruct) on the CPU, in a local cloud of its own",
    )
    parser.add_argument(
        "--no-reuse",
        action="store_true",
        help="start a local cloud for this run even when `make up` runs one",
    )
    args = parser.parse_args(argv)
    if not args.file.is_file():
        print(f"error: {args.file} is not a file", file=sys.stderr)
        return 2
    key = args.key or background.INPUT_PREFIX + args.file.name
    if not key.endswith(INPUT_SUFFIXES):
        key += ".txt"
    out = args.out or OUTPUT_ROOT / Path(key).stem
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)

    def terminated(signum: int, frame: FrameType | None) -> None:
        raise _TerminatedError

    previous = signal.signal(signal.SIGTERM, terminated)
    try:
        timeout = args.timeout or (1800.0 if args.engine == "vllm" else 300.0)
        # A running `make up` cloud has its own worker: a different engine needs a cloud of its own.
        state = None if args.no_reuse or args.engine != "extractive" else background.running()
        if state is not None:
            print(f"using the local cloud `make up` started (S3 {state['s3_endpoint']})", flush=True)
            return _run(_Running(state), args.file, key, out, timeout)
        print("starting the local cloud (moto S3+SQS, dispatcher, RunPod emulator, worker)…", flush=True)
        (out / "logs").mkdir()
        worker_env = real_model_env() if args.engine == "vllm" else {}
        with LocalCloud(background.cloud_config(out / "logs", worker_env)) as cloud:
            return _run(_InProcess(cloud), args.file, key, out, timeout)
    except KeyboardInterrupt:
        print("\ninterrupted: the local cloud is stopped", file=sys.stderr)
        return 130
    except _TerminatedError:
        print("terminated: the local cloud is stopped", file=sys.stderr)
        return 143
    finally:
        signal.signal(signal.SIGTERM, previous)


class _InProcess:
    """The cloud this run started."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.s3, self.bucket, self.output_keys = cloud.s3, cloud.config.bucket, cloud.output_keys
        self.log_dir = cloud.log_dir
        self._cloud = cloud

    def state(self) -> str:
        jobs = self._cloud.emulator.jobs.values()
        shown = [f"{j.status}{' ' + json.dumps(j.progress) if j.progress else ''}" for j in jobs]
        return ", ".join(shown) or "waiting for the S3 event"

    def check(self) -> None:
        worker = self._cloud.worker
        if worker is not None and worker.poll() is not None:
            raise RuntimeError(f"the worker exited with {worker.returncode}")


class _Running:
    """The cloud `make up` keeps running, reached as a user's machine reaches AWS."""

    def __init__(self, state: dict[str, Any]) -> None:
        from dispatcher.events import output_keys
        from dispatcher.presign import make_s3_client

        self.bucket = state["bucket"]
        self.log_dir = Path(state["log_dir"])
        self.s3 = make_s3_client(background.REGION, state["s3_endpoint"], background.FAKE_CREDENTIALS)
        self.output_keys: Callable[[str], tuple[str, str]] = lambda key: output_keys(
            key, state["output_prefix"], INPUT_SUFFIXES, "_summary"
        )
        self._health = urllib.request.Request(  # noqa: S310 (loopback)
            state["runpod_endpoint_url"] + "/health",
            headers={"Authorization": f"Bearer {state['runpod_api_key']}"},
        )

    def state(self) -> str:
        with urllib.request.urlopen(self._health, timeout=5) as answer:  # noqa: S310 (loopback)
            jobs = json.load(answer)["jobs"]
        return f"in queue {jobs['inQueue']}, in progress {jobs['inProgress']}"

    def check(self) -> None:
        return None


def _run(cloud: _InProcess | _Running, file: Path, key: str, out: Path, timeout_s: float) -> int:
    started = time.monotonic()
    print(f"uploading {file} → s3://{cloud.bucket}/{key}", flush=True)
    cloud.s3.put_object(Bucket=cloud.bucket, Key=key, Body=file.read_bytes())
    # A cloud `make up` keeps may hold the outputs of an earlier upload of this key: wait for newer.
    uploaded = cloud.s3.head_object(Bucket=cloud.bucket, Key=key)
    summary_key, metadata_key = cloud.output_keys(key)
    last = ""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            answer = cloud.s3.get_object(Bucket=cloud.bucket, Key=metadata_key)
            body = answer["Body"].read()
            if result_of(json.loads(body), answer["LastModified"], uploaded):
                break
        except cloud.s3.exceptions.NoSuchKey:
            pass
        try:
            cloud.check()
        except RuntimeError as exc:
            print(f"error: {exc}; logs in {_shown(cloud.log_dir)}", file=sys.stderr)
            return 1
        state = cloud.state()
        if state != last:
            print(f"  job: {state}", flush=True)
            last = state
        if time.monotonic() > deadline:
            print(
                f"error: no summary after {timeout_s:.0f}s; logs in {_shown(cloud.log_dir)}", file=sys.stderr
            )
            return 1
        time.sleep(0.5)
    meta = json.loads(body)
    summary = None
    if meta.get("status") == "ok":
        summary = cloud.s3.get_object(Bucket=cloud.bucket, Key=summary_key)["Body"].read()
        print()
        print(summary.decode("utf-8"))
    written = write_results(out, meta, summary)
    print()
    for line in facts(meta, time.monotonic() - started):
        print(line)
    print(f"written:  {_shown(out)}/ ({', '.join(written)})")
    print(f"in S3:    s3://{cloud.bucket}/{summary_key} (+ .json)")
    if meta.get("status") != "ok":
        print(f"logs:     {_shown(cloud.log_dir)}", file=sys.stderr)
        return 1
    return 0


def write_results(out: Path, meta: dict[str, Any], summary: bytes | None) -> list[str]:
    """The summary, the metadata and the structured summary (when the metadata has one) in `out`;
    returns the names written."""
    written = []
    if summary is not None:
        (out / "summary.txt").write_bytes(summary)
        written.append("summary.txt")
    (out / "metadata.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    written.append("metadata.json")
    if meta.get("structure") is not None:
        (out / "structure.json").write_text(json.dumps(meta["structure"], indent=1) + "\n", encoding="utf-8")
        written.append("structure.json")
    return written


def facts(meta: dict[str, Any], elapsed_s: float) -> list[str]:
    """The metadata's main facts, one line each."""
    lines = [f"status:   {meta.get('status')}"]
    error = meta.get("error")
    if error:
        lines.append(f"error:    {error.get('code')}: {error.get('message')}")
    lines.append(f"engine:   {meta.get('engine')} (model {meta.get('model')})")
    source = meta.get("input") or {}
    language = meta.get("language") or {}
    structure = meta.get("structure") or {}
    if source.get("format") or language:
        lines.append(
            f"input:    {source.get('format')} format, language {language.get('used')}"
            f" ({language.get('name')}); structure {'parsed' if structure.get('parsed') else 'raw'}"
        )
    tokens_in = (meta.get("input") or {}).get("tokens")
    tokens_out = (meta.get("output") or {}).get("tokens")
    chunks, levels = meta.get("chunks"), meta.get("levels")
    lines.append(f"tokens:   {tokens_in} in → {tokens_out} out; chunks {chunks}, levels {levels}")
    timings = meta.get("timings") or {}
    shown = ", ".join(f"{name.removesuffix('_s')} {value:.2f} s" for name, value in timings.items())
    lines.append(f"timings:  {shown or 'none'} (worker); {elapsed_s:.1f} s upload to metadata")
    cost = meta.get("cost")
    if isinstance(cost, dict):
        lines.append(
            f"cost:     ${cost.get('usd')} ({cost.get('seconds')} s on {cost.get('gpu')} at "
            f"${cost.get('price_per_s')}/s: {cost.get('price_source')})"
        )
    return lines


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
