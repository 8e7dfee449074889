"""`python -m client backfill s3://bucket/prefix/`: summarise what a bucket already holds.

Every object under the prefix goes through the upload's own path: the dispatcher's filters (input
prefix and suffixes; our own outputs are skipped), its identity and ledger claim (the one dedupe),
the same job input (`Dispatcher.dispatch`, dispatcher/app.py), so whatever an upload gets, a
backfilled object gets too. Before dispatching, the object's metadata file is read: an `ok` summary
of this very version (version id, else ETag) counts as already summarised and sends nothing.

`--force` re-summarises anyway (a new model or profile): each object becomes a re-summarise
(dispatcher/upload.py `resummarize`), a new ledger claim whose job writes over the `ok` summary.
`--dry-run` lists, checks and counts, and sends nothing. `--rate N/s` paces the `/run` calls.

Progress goes to stderr: a bar redrawn in place on a terminal, one line per object otherwise. The
final count goes to stdout. The job's presigned URLs are signed with the caller's credentials: they
must outlive the job (temporary credentials end them sooner: README "Backfill").
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from client.cli import EXIT_FAILED, UsageError
from dispatcher import settings as names
from dispatcher.app import Dispatcher
from dispatcher.errors import DispatchError
from dispatcher.events import ObjectRef, skip_reason
from dispatcher.upload import Upload

if TYPE_CHECKING:
    from client.cli import Client

DISPATCHED, SUMMARISED, SKIPPED, FAILED = "dispatched", "already summarised", "skipped", "failed"
_RATE = re.compile(r"([0-9]+(?:\.[0-9]+)?)(?:/s)?")
BAR_WIDTH = 30


def parse_target(url: str) -> tuple[str, str]:
    """`s3://bucket/prefix/` → (bucket, prefix); ValueError naming the expected shape."""
    if not url.startswith("s3://") or not url[5:].split("/", 1)[0]:
        raise ValueError(f"expected s3://bucket/prefix/, got {url!r}")
    bucket, _, prefix = url[5:].partition("/")
    return bucket, prefix


def parse_rate(text: str) -> float:
    """`5/s`, `5` or `0.5/s`: dispatches per second, more than 0."""
    match = _RATE.fullmatch(text.strip())
    rate = float(match.group(1)) if match else 0.0
    if rate <= 0:
        raise ValueError(f"--rate must be a positive number per second like 5/s, got {text!r}")
    return rate


@dataclass
class Tally:
    counts: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)  # why objects were skipped or failed

    def line(self, dry_run: bool) -> str:
        verb = "would dispatch" if dry_run else DISPATCHED
        names = ((verb, DISPATCHED), (SUMMARISED, SUMMARISED), (SKIPPED, SKIPPED), (FAILED, FAILED))
        return ", ".join(f"{label} {self.counts[name]}" for label, name in names)


class Progress:
    """A bar on a terminal, plain lines elsewhere (a log, a pipe); always on stderr."""

    def __init__(self, err: TextIO, total: int) -> None:
        self._err = err
        self._total = total
        self._done = 0
        self._tty = bool(getattr(err, "isatty", lambda: False)())

    def step(self, tally: Tally, key: str, what: str) -> None:
        self._done += 1
        if not self._tty:
            print(f"[{self._done}/{self._total}] {what}: {key}", file=self._err, flush=True)
            return
        filled = BAR_WIDTH * self._done // max(self._total, 1)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        counts = " ".join(f"{name.split()[-1]}={n}" for name, n in sorted(tally.counts.items()))
        end = "\n" if self._done == self._total else ""
        self._err.write(f"\r[{bar}] {self._done}/{self._total} {counts}\x1b[K{end}")
        self._err.flush()


class Backfill:
    def __init__(
        self,
        dispatcher: Dispatcher,
        s3: Any,
        err: TextIO,
        *,
        rate: float | None = None,
        dry_run: bool = False,
        force: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._dispatcher = dispatcher
        self._s3 = s3
        self._err = err
        self._interval = 1.0 / rate if rate else 0.0
        self._dry_run = dry_run
        self._force = force
        self._sleep = sleep
        self._clock = clock
        self._next_at = 0.0

    def run(self, bucket: str, prefix: str) -> Tally:
        tally = Tally()
        listed = list(self._listing(bucket, prefix))
        progress = Progress(self._err, len(listed))
        for item in listed:
            what = self._one(bucket, item, tally)
            progress.step(tally, item["Key"], what)
        return tally

    def _listing(self, bucket: str, prefix: str) -> Iterator[dict[str, Any]]:
        pages = self._s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for page in pages:
            yield from page.get("Contents", [])

    def _one(self, bucket: str, item: dict[str, Any], tally: Tally) -> str:
        """One listed object: its outcome's name, counted in `tally`."""
        s, key = self._dispatcher.settings, item["Key"]
        reason = skip_reason(key, s.output_prefix, s.input_suffixes, s.summary_suffix, s.input_prefix)
        if reason is not None:
            return _count(tally, SKIPPED, reason)
        try:
            ref = self._version(bucket, key)
            upload = Upload.of(ref, s)
            if not self._force and self._summarised(upload):
                return _count(tally, SUMMARISED)
            if self._dry_run:
                return _count(tally, DISPATCHED, note="would dispatch")
        except DispatchError as exc:  # an output key S3 would refuse
            return _count(tally, FAILED, str(exc))
        except (BotoCoreError, ClientError) as exc:  # deleted since listed, access denied
            return _count(tally, FAILED, f"S3: {exc}")
        self._pace()
        asked = datetime.now(UTC).isoformat(timespec="seconds") if self._force else None
        outcome = self._dispatcher.dispatch(ref, resummarize=asked)
        if outcome.job_id:
            return _count(tally, DISPATCHED, note=f"dispatched as job {outcome.job_id}")
        if outcome.error:
            return _count(tally, FAILED, outcome.error)
        return _count(tally, SKIPPED, outcome.skipped or "skipped")

    def _version(self, bucket: str, key: str) -> ObjectRef:
        """The key's current version as an upload event would name it (a HEAD: the listing has no
        version id). Its LastModified stands in for the event time, so an unversioned object has
        the same identity at every backfill and the ledger claims it once."""
        head = self._s3.head_object(Bucket=bucket, Key=key)
        version = head.get("VersionId")
        return ObjectRef(
            bucket=bucket,
            key=key,
            version_id=version if version and version != "null" else None,
            etag=str(head.get("ETag", "")).strip('"') or None,
            size=head.get("ContentLength"),
            event_time=head["LastModified"].astimezone(UTC).isoformat(timespec="seconds"),
        )

    def _summarised(self, upload: Upload) -> bool:
        """Whether the output holds an `ok` summary of this version: the same version id when the
        metadata names one, else the same ETag (as `client wait` matches a result: cli.result_of)."""
        try:
            body = self._s3.get_object(Bucket=upload.output_bucket, Key=upload.metadata_key)["Body"].read()
        except self._s3.exceptions.NoSuchKey:
            return False
        try:
            meta = json.loads(body)
        except (ValueError, RecursionError):
            return False
        source = meta.get("source") if isinstance(meta, dict) else None
        if not isinstance(source, dict) or meta.get("status") != "ok":
            return False
        ref = upload.ref
        if ref.version_id and source.get("version_id"):  # both name a version (AWS, versioned)
            return bool(source["version_id"] == ref.version_id)
        # Else the same bytes (an event without a version id: moto's, an unversioned bucket).
        return bool(ref.etag) and source.get("key") == ref.key and source.get("etag") == ref.etag

    def _pace(self) -> None:
        """At most one `/run` per interval (`--rate`)."""
        now = self._clock()
        if self._next_at > now:
            self._sleep(self._next_at - now)
        self._next_at = max(now, self._next_at) + self._interval


def _count(tally: Tally, name: str, reason: str | None = None, note: str | None = None) -> str:
    tally.counts[name] += 1
    if reason is not None:
        tally.reasons[reason] += 1
    return note or (f"{name} ({reason})" if reason else name)


def command(client: Client, args: argparse.Namespace, out: TextIO) -> int:
    """`backfill`: the dispatcher built from the environment as the Lambda builds it, the flags
    (prefixes, output bucket, endpoints) over it."""
    try:
        bucket, prefix = parse_target(args.target)
        rate = parse_rate(args.rate)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    s = client.settings
    overrides = {
        names.INPUT_PREFIX: s.input_prefix,
        names.OUTPUT_PREFIX: s.output_prefix,
        names.OUTPUT_BUCKET: s.output_bucket or "",
        names.REGION: s.region or "us-east-1",
        names.S3_ENDPOINT_URL: s.s3_endpoint_url or "",
        names.RUNPOD_ENDPOINT_URL: s.runpod_endpoint_url or "",
        # moto serves DynamoDB on the S3 port: the local cloud needs one endpoint (client/uploads.py)
        names.DYNAMODB_ENDPOINT_URL: client.env.get(names.DYNAMODB_ENDPOINT_URL) or s.s3_endpoint_url or "",
    }
    try:
        dispatcher = Dispatcher.from_env({**client.env, **overrides})
    except DispatchError as exc:  # a setting missing or wrong: name it, as the Lambda would
        raise UsageError(f"the dispatcher's settings: {exc}") from exc
    if dispatcher.ledger is None:
        print(
            f"note: {names.LEDGER_TABLE} is not set: nothing stops a second job per object", file=client.err
        )
    run = Backfill(dispatcher, client.s3, client.err, rate=rate, dry_run=args.dry_run, force=args.force)
    tally = run.run(bucket, prefix)
    for reason, n in tally.reasons.most_common():
        print(f"  {n} × {reason}", file=client.err)
    print(tally.line(args.dry_run), file=out)
    return EXIT_FAILED if tally.counts[FAILED] else 0
