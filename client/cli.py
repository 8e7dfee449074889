"""The client command: upload a transcript, follow its job, print its summary.

    python -m client submit FILE [--key KEY] [--wait]
                            [--style S] [--language L] [--profile P] [--max-tokens N]
    python -m client status JOB_ID
    python -m client wait KEY [--job JOB_ID] [--timeout S] [--interval S]
    python -m client uploads [--state pending|ok|error|superseded] [--json]   (client/uploads.py)
    python -m client costs [PREFIX] [--json]   (client/costs.py)
    python -m client backfill s3://BUCKET/PREFIX/ [--force] [--dry-run] [--rate N/s]   (client/backfill.py)

`submit` uploads FILE under the input prefix, where the bucket's trigger picks it up, with the
summary options as the object's S3 user metadata (`x-amz-meta-summary-style` ...: README,
"Summary options"); a value outside the vocabulary (contract/options.py) is refused before upload.
`wait` polls every 5 s (as the seed's Lambda polled RunPod) until the worker's metadata file appears, showing
progress (RunPod's status and progress too when `--job` names the job), then prints the summary
on stdout; progress goes to stderr. `status` prints RunPod's status of a job as JSON.

The same flags work against the local cloud and against AWS/RunPod: the only difference is
`S3_ENDPOINT_URL` (moto) being set or not. Settings come from flags, else the environment
(`TRANSCRIPTS_BUCKET`, `INPUT_PREFIX`, `OUTPUT_BUCKET`, `OUTPUT_PREFIX`, `AWS_REGION`,
`S3_ENDPOINT_URL`, `RUNPOD_ENDPOINT_URL`, `RUNPOD_API_KEY`); the API key is never a flag, so it
stays out of shell history. The environment is read with the dispatcher's own reader (`EnvReader`:
padding stripped, empty means unset). Runs on the user's machine with boto3 and the stdlib; reuses
the dispatcher's RunPod client and output-key naming. It is not part of the Lambda package (that is
why it lives in client/, not dispatcher/).

Exit status: 0 summary printed / status shown, 1 the job failed or a request was refused,
2 bad usage, 3 timed out.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from contract.options import (
    STYLES,
    UPLOAD_KEYS,
    OptionValueError,
    check_language,
    check_profile_name,
    check_style,
    parse_max_tokens,
)
from dispatcher import settings as names
from dispatcher.errors import DispatchError
from dispatcher.events import output_keys
from dispatcher.presign import SUMMARY_CONTENT_TYPE, make_s3_client
from dispatcher.runpod_api import RunPodClient
from dispatcher.settings import EnvReader, Settings

BUCKET = "TRANSCRIPTS_BUCKET"
AWS_DEFAULT_REGION = "AWS_DEFAULT_REGION"  # the AWS CLI's name, when AWS_REGION is not set
DEFAULT_INPUT_PREFIX = "incoming/"  # template.yaml's InputPrefix default
TERMINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"})
EXIT_FAILED, EXIT_USAGE, EXIT_TIMEOUT = 1, 2, 3


class UsageError(Exception):
    pass


@dataclass(frozen=True)
class CliSettings:
    bucket: str | None
    input_prefix: str
    output_bucket: str | None
    output_prefix: str
    input_suffixes: tuple[str, ...]
    summary_suffix: str
    region: str | None
    s3_endpoint_url: str | None
    runpod_endpoint_url: str | None
    runpod_api_key: str | None

    @classmethod
    def from_args(cls, args: argparse.Namespace, env: Mapping[str, str]) -> CliSettings:
        # The environment is read as the dispatcher reads it (dispatcher/settings.py EnvReader).
        read = EnvReader(env, UsageError)

        def pick(flag: str | None, name: str, default: str | None = None) -> str | None:
            return (flag.strip() or default) if flag is not None else read.text(name, default)

        prefix = pick(args.prefix, names.INPUT_PREFIX, DEFAULT_INPUT_PREFIX) or ""
        output_prefix = pick(args.output_prefix, names.OUTPUT_PREFIX, Settings.output_prefix) or ""
        return cls(
            bucket=pick(args.bucket, BUCKET),
            input_prefix="" if prefix == "/" else prefix,
            output_bucket=pick(args.output_bucket, names.OUTPUT_BUCKET),
            output_prefix=output_prefix if output_prefix.endswith("/") else output_prefix + "/",
            input_suffixes=read.items(names.INPUT_SUFFIXES) or Settings.input_suffixes,
            summary_suffix=read.text(names.SUMMARY_SUFFIX, Settings.summary_suffix)
            or Settings.summary_suffix,
            region=pick(args.region, names.REGION) or read.text(AWS_DEFAULT_REGION),
            s3_endpoint_url=pick(args.s3_endpoint_url, names.S3_ENDPOINT_URL),
            runpod_endpoint_url=pick(args.endpoint_url, names.RUNPOD_ENDPOINT_URL),
            runpod_api_key=read.text(names.RUNPOD_API_KEY),
        )

    def need_bucket(self) -> str:
        if not self.bucket:
            raise UsageError(f"set --bucket or {BUCKET}")
        return self.bucket

    def runpod(self) -> RunPodClient:
        if not self.runpod_endpoint_url or not self.runpod_api_key:
            raise UsageError(
                f"set --endpoint-url (or {names.RUNPOD_ENDPOINT_URL}) and {names.RUNPOD_API_KEY}"
            )
        return RunPodClient(self.runpod_endpoint_url, self.runpod_api_key, attempts=3)


class Client:
    """The three commands over an S3 client and (for job status) the dispatcher's RunPod client."""

    def __init__(self, settings: CliSettings, env: Mapping[str, str], err: TextIO, out: TextIO) -> None:
        self.settings = settings
        self.env = env
        self._s3: Any = None
        self.err = err
        self.out = out
        # What the last `submit` stored (S3's HEAD answer): `wait` ignores the outputs a previous
        # upload of the same key left behind.
        self.uploaded: dict[str, Any] | None = None
        self.unchanged = False  # `submit` found these very bytes summarised already

    @property
    def s3(self) -> Any:
        if self._s3 is None:
            region = self.settings.region or "us-east-1"
            self._s3 = make_s3_client(region, self.settings.s3_endpoint_url, self.env)
        return self._s3

    def submit(self, path: Path, key: str | None, options: Mapping[str, str] | None = None) -> str:
        """Upload `path`; `options` are the upload's summary options by name (style, language,
        profile, max_tokens), checked here and sent as its `x-amz-meta-summary-*` metadata."""
        s = self.settings
        key = key or s.input_prefix + path.name
        if not key.endswith(s.input_suffixes):
            key += s.input_suffixes[0]
            accepted = ", ".join(f"*{x}" for x in s.input_suffixes)
            print(f"note: only {accepted} uploads are summarised; uploading as {key}", file=self.err)
        bucket = s.need_bucket()
        metadata = upload_metadata(options or {})
        body = path.read_bytes()
        summary_key, metadata_key = self.outputs(key)
        self.uploaded = self._unchanged(bucket, key, body, metadata_key)
        if self.uploaded is not None and (self.uploaded.get("Metadata") or {}) != metadata:
            self.uploaded = None  # the same bytes with other summary options: a new upload
        self.unchanged = self.uploaded is not None
        if self.unchanged:  # `wait` finds the summary at once (its version's); no second job is sent
            print(f"unchanged: s3://{bucket}/{key} already holds these bytes, summarised", file=self.err)
            return key
        self.s3.put_object(
            Bucket=bucket, Key=key, Body=body, ContentType=SUMMARY_CONTENT_TYPE, Metadata=metadata
        )
        self.uploaded = self.s3.head_object(Bucket=bucket, Key=key)
        print(f"uploaded s3://{bucket}/{key}", file=self.err)
        print(f"summary will be at s3://{self.output_bucket}/{summary_key}", file=self.err)
        return key

    def _unchanged(self, bucket: str, key: str, body: bytes, metadata_key: str) -> dict[str, Any] | None:
        """S3's HEAD of `key` when it holds exactly `body` (a single-part upload's ETag is its MD5)
        and that version has an `ok` summary; else None (upload it)."""
        try:
            head = self.s3.head_object(Bucket=bucket, Key=key)
        except self.s3.exceptions.ClientError:
            return None
        if str(head.get("ETag", "")).strip('"') != hashlib.md5(body, usedforsecurity=False).hexdigest():
            return None
        metadata = self._read_json(metadata_key)
        if metadata is None or metadata.get("status") != "ok":
            return None
        source = metadata.get("source") or {}
        if source.get("version_id") and source["version_id"] != head.get("VersionId"):
            return None  # another version's summary (of the same bytes)
        if str(source.get("etag", "")).strip('"') != str(head["ETag"]).strip('"'):
            return None
        return dict(head)

    @property
    def output_bucket(self) -> str:
        return self.settings.output_bucket or self.settings.need_bucket()

    def outputs(self, key: str) -> tuple[str, str]:
        s = self.settings
        return output_keys(key, s.output_prefix, s.input_suffixes, s.summary_suffix)

    def status(self, job_id: str) -> dict[str, Any]:
        return self.settings.runpod().status(job_id)

    def wait(self, key: str, job_id: str | None, timeout_s: float, interval_s: float) -> int:
        summary_key, metadata_key = self.outputs(key)
        runpod = self.settings.runpod() if job_id else None
        started = time.monotonic()
        last = ""
        terminal_seen = False
        while True:
            metadata = self._read_json(metadata_key, self.uploaded)
            elapsed = time.monotonic() - started
            if metadata is not None:
                return self._finish(metadata, summary_key, elapsed)
            if terminal_seen:  # RunPod says it is over and the worker wrote nothing
                print(f"error: the job ended ({last}) without writing {metadata_key}", file=self.err)
                return EXIT_FAILED
            state = f"waiting for s3://{self.output_bucket}/{metadata_key}"
            if runpod is not None and job_id is not None:
                answer = runpod.status(job_id)
                status = str(answer.get("status", "?"))
                progress = answer.get("output") if status == "IN_PROGRESS" else answer.get("error")
                state = status + (f" {json.dumps(progress)}" if progress else "")
                terminal_seen = status in TERMINAL
            if state != last:
                print(f"[{elapsed:6.1f}s] {state}", file=self.err, flush=True)
                last = state
            if elapsed + interval_s > timeout_s:
                print(f"error: no summary after {timeout_s:g}s", file=self.err)
                return EXIT_TIMEOUT
            time.sleep(interval_s)

    def _finish(self, metadata: dict[str, Any], summary_key: str, elapsed: float) -> int:
        if metadata.get("status") != "ok":
            print(f"error: the job failed: {json.dumps(metadata.get('error'))}", file=self.err)
            return EXIT_FAILED
        summary = self.s3.get_object(Bucket=self.output_bucket, Key=summary_key)["Body"].read()
        self.out.write(summary.decode("utf-8"))
        if not summary.endswith(b"\n"):
            self.out.write("\n")
        tokens = metadata.get("output", {}).get("tokens")
        print(
            f"[{elapsed:6.1f}s] done: s3://{self.output_bucket}/{summary_key} "
            f"(job {metadata.get('job_id')}, engine={metadata.get('engine')}, "
            f"model={metadata.get('model')}, output tokens={tokens})",
            file=self.err,
        )
        return 0

    def _read_json(self, key: str, uploaded: dict[str, Any] | None = None) -> dict[str, Any] | None:
        try:
            answer = self.s3.get_object(Bucket=self.output_bucket, Key=key)
        except self.s3.exceptions.NoSuchKey:
            return None
        document = json.loads(answer["Body"].read())
        if not isinstance(document, dict):
            return None
        if uploaded is not None and not result_of(document, answer["LastModified"], uploaded):
            return None  # a previous upload's result
        return document


def result_of(metadata: dict[str, Any], written_at: Any, uploaded: dict[str, Any]) -> bool:
    """Whether `metadata` (an S3 object written at `written_at`) is the result of the upload that
    S3's HEAD answer `uploaded` describes, not of an earlier upload of the same key: the version
    when both name one (AWS, versioned bucket), else a different ETag rules it out; an equal ETag
    (the same bytes again) counts when written no earlier than the upload (S3 times are seconds)."""
    source = metadata.get("source") or {}
    if uploaded.get("VersionId") and source.get("version_id"):
        return bool(source["version_id"] == uploaded["VersionId"])
    etag = str(uploaded.get("ETag", "")).strip('"')
    if etag and source.get("etag") and str(source["etag"]).strip('"') != etag:
        return False
    return bool(written_at >= uploaded["LastModified"])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m client",
        description="Upload transcripts, follow their jobs, print their summaries.",
    )
    parser.add_argument("--bucket", help=f"transcripts bucket (env {BUCKET})")
    parser.add_argument(
        "--prefix",
        help=f"input prefix (env {names.INPUT_PREFIX}, default {DEFAULT_INPUT_PREFIX}; '/' for none)",
    )
    parser.add_argument("--output-bucket", help="summaries bucket (env OUTPUT_BUCKET, default: --bucket)")
    parser.add_argument(
        "--output-prefix", help=f"summaries prefix (env OUTPUT_PREFIX, default {Settings.output_prefix})"
    )
    parser.add_argument("--region", help="AWS region (env AWS_REGION)")
    parser.add_argument("--s3-endpoint-url", help="S3 endpoint for the local cloud (env S3_ENDPOINT_URL)")
    parser.add_argument("--endpoint-url", help="RunPod endpoint URL (env RUNPOD_ENDPOINT_URL)")
    commands = parser.add_subparsers(dest="command", required=True)
    submit = commands.add_parser("submit", help="upload FILE under the input prefix")
    submit.add_argument("file", type=Path)
    submit.add_argument("--key", help="object key (default: prefix + file name)")
    submit.add_argument("--wait", action="store_true", help="then wait for the summary")
    submit.add_argument("--style", choices=STYLES, help="summary style (x-amz-meta-summary-style)")
    submit.add_argument(
        "--language", help="summary language: de, German, pt-BR ... (x-amz-meta-summary-language)"
    )
    submit.add_argument(
        "--profile", help="summary profile: meeting, standup ... (x-amz-meta-summary-profile)"
    )
    submit.add_argument("--max-tokens", help="summary length in tokens (x-amz-meta-summary-max-tokens)")
    status = commands.add_parser("status", help="RunPod's status of a job, as JSON")
    status.add_argument("job_id")
    wait = commands.add_parser("wait", help="wait for the summary of an uploaded KEY and print it")
    wait.add_argument("key")
    wait.add_argument("--job", help="RunPod job id, to show its status and progress while waiting")
    uploads = commands.add_parser("uploads", help="every upload in the job ledger (env LEDGER_TABLE)")
    uploads.add_argument("--state", choices=("pending", "ok", "error", "superseded"))
    uploads.add_argument("--json", action="store_true", help="one JSON document")
    backfill = commands.add_parser(
        "backfill",
        help="summarise the objects already under s3://BUCKET/PREFIX/ (as uploads: ledger, dedupe)",
        description="Dispatch every input under s3://BUCKET/PREFIX/ through the dispatcher, as if "
        "just uploaded; an object whose version already has an ok summary is counted, not sent. "
        "Needs the dispatcher's settings in the environment (RUNPOD_ENDPOINT_URL, RUNPOD_API_KEY, "
        "LEDGER_TABLE for the dedupe).",
    )
    backfill.add_argument("target", metavar="s3://BUCKET/PREFIX/")
    backfill.add_argument("--force", action="store_true", help="re-summarise even where an ok summary exists")
    backfill.add_argument(
        "--dry-run", action="store_true", help="count what would be dispatched; send nothing"
    )
    backfill.add_argument("--rate", default="5/s", help="at most this many jobs per second (default 5/s)")
    costs = commands.add_parser("costs", help="sum the metadata files' costs per day, profile and model")
    costs.add_argument("prefix", nargs="?", default="", help="below the output prefix (default: all)")
    costs.add_argument("--json", action="store_true", help="one JSON document")
    for command in (submit, wait):
        command.add_argument("--timeout", type=float, default=900.0, help="seconds (default 900)")
        command.add_argument("--interval", type=float, default=5.0, help="poll interval, seconds (default 5)")
    return parser


_CHECKS: dict[str, Callable[[str], object]] = {
    "style": check_style,
    "language": check_language,
    "profile": check_profile_name,
    "max_tokens": parse_max_tokens,
}


def upload_metadata(options: Mapping[str, str]) -> dict[str, str]:
    """The S3 user metadata that carries `options` (by name); UsageError names a bad one. A profile
    name is checked for its form only: the deployment knows its own profiles."""
    metadata = {}
    for name, value in options.items():
        try:
            _CHECKS[name](value)
        except OptionValueError as exc:
            raise UsageError(f"--{name.replace('_', '-')}: {exc}") from None
        metadata[UPLOAD_KEYS[name]] = value
    return metadata


def main(
    argv: list[str] | None = None,
    env: Mapping[str, str] | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    args = build_parser().parse_args(argv)
    env = os.environ if env is None else env
    try:
        client = Client(CliSettings.from_args(args, env), env, err, out)
        if args.command == "uploads":
            from client.uploads import show

            try:
                region = client.settings.region or "us-east-1"
                return show(env, region, client.settings.s3_endpoint_url, args.state, args.json, out)
            except ValueError as exc:
                raise UsageError(str(exc)) from exc
        if args.command == "costs":
            from client.costs import show as show_costs

            where = client.settings.output_prefix + args.prefix
            return show_costs(client.s3, client.output_bucket, where, args.json, out)
        if args.command == "backfill":
            from client.backfill import command

            return command(client, args, out)
        if args.command == "status":
            print(json.dumps(client.status(args.job_id), indent=2), file=out)
            return 0
        if args.command == "submit":
            if not args.file.is_file():
                raise UsageError(f"{args.file} is not a file")
            chosen = {name: getattr(args, name) for name in UPLOAD_KEYS}
            key = client.submit(args.file, args.key, {k: v for k, v in chosen.items() if v is not None})
            from client.uploads import submitted_job

            job_id = submitted_job(client, key, args.timeout)
            if job_id is not None and not args.wait:
                print(job_id, file=out)  # alone on stdout: `JOB=$(python -m client submit f.txt)`
            # Waits on the metadata alone, as before: a reconciler's retry is another job.
            return client.wait(key, None, args.timeout, args.interval) if args.wait else 0
        return client.wait(args.key, args.job, args.timeout, args.interval)
    except UsageError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_USAGE
    except DispatchError as exc:  # RunPod refused or was unreachable (typed by runpod_api)
        print(f"error: {exc}", file=err)
        return EXIT_FAILED
    except (BotoCoreError, ClientError) as exc:
        # No credentials, AccessDenied, NoSuchBucket: one line, not a traceback.
        print(f"error: S3: {exc}", file=err)
        return EXIT_FAILED
