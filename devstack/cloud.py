"""Start and stop the whole local cloud: S3, SQS and DynamoDB (moto server), the S3→dispatcher
bridge, the RunPod emulator and a real worker process running the runpod SDK's production loop.

Production wiring is mirrored where it matters: the bucket notifies on `ObjectCreated:*` with the
same suffix filters as `template.yaml` (one per input suffix), the bridge hands each event to the
dispatcher exactly as Lambda would (an exception leaves the message for redelivery, like Lambda's
async retry), and the dispatcher presigns against moto with the same code as in AWS. moto checks
neither signatures nor expiry: tests/unit/dispatcher/test_sigv4.py runs the same presigned URLs
against a server that does (nanio).

Child processes (moto, workers) start in sessions of their own, so a Ctrl-C at the terminal reaches
only the parent, which stops them in order; `stop()` also kills each worker's process group, where
the SDK's heartbeat process lives.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from devstack.runpod_emulator import RunPodEmulator
from dispatcher.app import Dispatcher
from dispatcher.errors import DispatchError
from dispatcher.settings import Settings

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
LEDGER_TABLE = "job-ledger"


def dispatcher_env(
    runpod_endpoint_url: str, api_key: str | None, s3_endpoint_url: str, **extra: str
) -> dict[str, str]:
    """The dispatcher's environment against local servers: RunPod (the emulator), S3 (moto), the
    region and fake AWS credentials, plus `extra`. `api_key=None` leaves RUNPOD_API_KEY out, for a
    key read from Secrets Manager or SSM."""
    env = {
        "RUNPOD_ENDPOINT_URL": runpod_endpoint_url,
        "AWS_REGION": REGION,
        "S3_ENDPOINT_URL": s3_endpoint_url,
        **FAKE_CREDENTIALS,
    }
    if api_key is not None:
        env["RUNPOD_API_KEY"] = api_key
    return env | extra


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout_s: float, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 (loopback)
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout_s}s")


@dataclass
class CloudConfig:
    bucket: str = "transcripts"
    output_prefix: str = "summaries/"
    worker_concurrency: int = 4
    worker_env: Mapping[str, str] = field(default_factory=dict)
    start_worker: bool = True
    log_dir: Path | None = None
    # As template.yaml deploys it: the job ledger (dispatcher/ledger.py: one dispatch per object
    # version) and, every `reconcile_every_s` seconds, the reconciler (the template's
    # ReconcileSchedule), so nothing stays pending for ever. None: on demand only
    # (`cloud.reconciler().run()`), as the tests that move its clock want.
    ledger: bool = True
    reconcile_every_s: float | None = None
    dispatcher_env: Mapping[str, str] = field(default_factory=dict)  # extra dispatcher settings
    # The notification's prefix filter (template.yaml's InputPrefix is `incoming/`; `make up` and
    # `make demo` use that). Empty: the whole bucket, as the tests upload at the root.
    input_prefix: str = ""


class LocalCloud:
    """`with LocalCloud() as cloud:` starts everything; leaving the block stops everything."""

    def __init__(self, config: CloudConfig | None = None) -> None:
        self.config = config or CloudConfig()
        self._tmp = tempfile.TemporaryDirectory(prefix="devstack-")
        self.log_dir = self.config.log_dir or Path(self._tmp.name)
        self.emulator = RunPodEmulator(poll_s=1.0)
        self._moto: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self._worker_groups: list[int] = []
        self._bridge: threading.Thread | None = None
        self._schedule: threading.Thread | None = None
        self.reconcile_errors: list[str] = []
        self._stop = threading.Event()
        self.bridge_errors: list[str] = []
        self._log_files: list[IO[bytes]] = []
        self.s3_endpoint = ""
        self.s3: Any = None
        self.sqs: Any = None
        self.queue_url = ""
        self.dispatcher: Dispatcher | None = None

    # ---- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> LocalCloud:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def moto_pid(self) -> int | None:
        """The pid of moto's server while it runs (the load test measures its memory)."""
        return self._moto.pid if self._moto is not None else None

    def start(self) -> None:
        self._start_moto()
        self._create_resources()
        self.emulator.start()
        self.dispatcher = Dispatcher.from_env(self.dispatcher_env())
        self._bridge = threading.Thread(target=self._run_bridge, name="s3-bridge", daemon=True)
        self._bridge.start()
        if self.config.ledger and self.config.reconcile_every_s is not None:
            self._schedule = threading.Thread(target=self._run_schedule, name="reconciler", daemon=True)
            self._schedule.start()
        if self.config.start_worker:
            self.start_worker()

    def stop(self) -> None:
        self._stop.set()
        for thread in (self._bridge, self._schedule):
            if thread is not None:
                thread.join(timeout=30)
        self.stop_worker()
        for group in self._worker_groups:  # what a killed worker left behind (the SDK's heartbeat)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGKILL)
        self._worker_groups.clear()
        self.emulator.stop()
        if self._moto is not None:
            terminate(self._moto)
            self._moto = None
        for handle in self._log_files:
            handle.close()
        self._tmp.cleanup()

    # ---- pieces ----------------------------------------------------------------------------
    def _start_moto(self) -> None:
        port = free_port()
        self.s3_endpoint = f"http://127.0.0.1:{port}"
        log_file = self._open_log("moto.log")
        self._moto = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "devstack.moto_server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, **FAKE_CREDENTIALS},
            start_new_session=True,
        )
        wait_http(f"{self.s3_endpoint}/moto-api/", 30, self._moto)

    def _create_resources(self) -> None:
        import boto3

        kwargs = {
            "region_name": REGION,
            "endpoint_url": self.s3_endpoint,
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
        }
        self.s3 = boto3.client("s3", **kwargs)
        self.sqs = boto3.client("sqs", **kwargs)
        if self.config.ledger:
            from dispatcher.ledger import table_definition as ledger_table

            boto3.client("dynamodb", **kwargs).create_table(**ledger_table(LEDGER_TABLE))
        self.s3.create_bucket(Bucket=self.config.bucket)
        self.s3.put_bucket_versioning(
            Bucket=self.config.bucket, VersioningConfiguration={"Status": "Enabled"}
        )
        self.queue_url = self.sqs.create_queue(QueueName="s3-events", Attributes={"VisibilityTimeout": "5"})[
            "QueueUrl"
        ]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        # The same filters as template.yaml: ObjectCreated, one configuration per input suffix.
        prefix = [{"Name": "prefix", "Value": self.config.input_prefix}] if self.config.input_prefix else []
        self.s3.put_bucket_notification_configuration(
            Bucket=self.config.bucket,
            NotificationConfiguration={
                "QueueConfigurations": [
                    {
                        "QueueArn": arn,
                        "Events": ["s3:ObjectCreated:*"],
                        "Filter": {"Key": {"FilterRules": [*prefix, {"Name": "suffix", "Value": suffix}]}},
                    }
                    for suffix in Settings.input_suffixes
                ]
            },
        )

    def dispatcher_env(self) -> dict[str, str]:
        ledger = {"LEDGER_TABLE": LEDGER_TABLE} if self.config.ledger else {}
        return dispatcher_env(
            self.emulator.endpoint_url,
            self.emulator.api_key,
            self.s3_endpoint,
            OUTPUT_PREFIX=self.config.output_prefix,
            RUNPOD_ATTEMPTS="3",
            DYNAMODB_ENDPOINT_URL=self.s3_endpoint,
            **ledger,
        ) | dict(self.config.dispatcher_env)

    def reconciler(self, clock: Any = None, **extra: str) -> Any:
        """The scheduled reconciler (dispatcher/reconciler.py) on this cloud's ledger; call `.run()`.
        `clock`: a stand-in for time.time (a test jumps past the deadline without waiting)."""
        from dispatcher.reconciler import Reconciler

        return Reconciler.from_env(self.dispatcher_env() | extra, clock=clock)

    def worker_process_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNPOD_", "WORKER_"))}
        env.update(self.emulator.worker_env())
        env["RUNPOD_WEBHOOK_PING"] = self.emulator.ping_url()  # RunPod sets it; unset, the SDK logs ERROR
        env.update(
            {
                "WORKER_ALLOW_LOOPBACK_URLS": "true",  # presigned URLs point at moto on 127.0.0.1
                "WORKER_CONCURRENCY": str(self.config.worker_concurrency),
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.config.worker_env)
        return env

    def start_worker(self) -> subprocess.Popen[bytes]:
        log_file = self._open_log("worker.log")
        self.worker = subprocess.Popen(  # noqa: S603
            [sys.executable, str(ROOT / "handler.py")],
            cwd=ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=self.worker_process_env(),
            start_new_session=True,
        )
        self._worker_groups.append(self.worker.pid)
        return self.worker

    @contextlib.contextmanager
    def replaced_workers(self, check_s: float = 0.2) -> Iterator[list[int]]:
        """A worker that is replaced whenever it exits, as RunPod replaces a worker that exits
        (issue 12: a worker that loses its engine exits 3). Yields the exit codes of the workers
        replaced so far; the last one is stopped when the block ends."""
        exits: list[int] = []
        done = threading.Event()

        def replace() -> None:
            while not done.wait(check_s):
                worker = self.worker
                if worker is not None and worker.poll() is not None:
                    exits.append(worker.returncode)
                    self.start_worker()

        self.start_worker()
        watcher = threading.Thread(target=replace, name="worker-replacer", daemon=True)
        watcher.start()
        try:
            yield exits
        finally:
            done.set()
            watcher.join(timeout=5)
            self.stop_worker()

    def _open_log(self, name: str) -> IO[bytes]:
        handle = (self.log_dir / name).open("ab")
        self._log_files.append(handle)
        return handle

    def stop_worker(self) -> None:
        if self.worker is not None:
            terminate(self.worker)
            self.worker = None

    def _run_schedule(self) -> None:
        """The reconciler every `reconcile_every_s`, standing in for the template's schedule."""
        every = self.config.reconcile_every_s
        assert every is not None
        reconciler = self.reconciler()
        while not self._stop.wait(every):
            try:
                reconciler.run()
            except Exception as exc:  # a pass that fails is logged; the next one tries again
                if not self._stop.is_set():
                    log.exception("scheduled reconcile failed")
                    self.reconcile_errors.append(repr(exc))

    def _run_bridge(self) -> None:
        """SQS → dispatcher, standing in for the S3 → Lambda trigger."""
        assert self.dispatcher is not None
        while not self._stop.is_set():
            try:
                answer = self.sqs.receive_message(
                    QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
                )
            except Exception as exc:  # moto going down during stop
                if not self._stop.is_set():
                    self.bridge_errors.append(f"receive: {exc}")
                    time.sleep(0.2)
                continue
            for message in answer.get("Messages", []):
                event = json.loads(message["Body"])
                try:
                    self.dispatcher.run(event)
                except DispatchError as exc:
                    # Left in the queue: redelivered after the visibility timeout, like a Lambda retry.
                    self.bridge_errors.append(str(exc))
                    continue
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    # ---- helpers for callers ---------------------------------------------------------------
    def upload(self, key: str, body: bytes) -> None:
        self.s3.put_object(Bucket=self.config.bucket, Key=key, Body=body)

    def output_keys(self, key: str) -> tuple[str, str]:
        from dispatcher.events import output_keys

        return output_keys(key, self.config.output_prefix, Settings.input_suffixes, "_summary")

    def wait_for_metadata(self, key: str, timeout_s: float) -> dict[str, Any]:
        """Poll S3 for the metadata file of `key` (written last by the worker); return it."""
        _, metadata_key = self.output_keys(key)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.worker is not None and self.worker.poll() is not None:
                raise RuntimeError(
                    f"worker exited with {self.worker.returncode}; see {self.log_dir / 'worker.log'}"
                )
            try:
                body = self.s3.get_object(Bucket=self.config.bucket, Key=metadata_key)["Body"].read()
                return json.loads(body)
            except self.s3.exceptions.NoSuchKey:
                time.sleep(0.2)
        raise TimeoutError(f"no metadata for {key} after {timeout_s}s")

    def read(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=self.config.bucket, Key=key)["Body"].read()


def terminate(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 10 s: for processes this code started, by their handle."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
