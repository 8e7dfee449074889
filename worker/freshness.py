"""Before any model work and before writing: is this job still the one that should write?

Two checks over presigned URLs the dispatcher adds to the job (the worker has no AWS credentials):
- **Superseded** (`current_source_url`, a HEAD of the key's current version): when the key now
  holds another version (a newer upload), this job writes nothing: the newer version's job owns
  the outputs, so whatever order jobs finish in, the summary and metadata describe the newest
  version. Checked before the download and again right before the PUTs.
- **Already done** (`metadata_get_url`, a GET of the existing metadata): when it already says
  `status: "ok"` for this very version (a redelivery without a ledger, a RunPod retry
  of a job whose first run finished, a reconciler retry that crossed a slow job), the job ends at
  once without model work and without writing. A re-summarise (`resummarize`, from
  `client backfill --force`) is asked for exactly that: it skips this check.

Versions are compared by S3 version id when the job has one, else by ETag. A check that cannot be
made (no URL, a network error) lets the job go on: these checks save work and order writes, they
never stop a job that would otherwise succeed. What is left: the milliseconds between the last
HEAD and the PUTs (docs/RELIABILITY.md).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from worker.errors import WorkerError
from worker.job import JobInput
from worker.transfer import Transfers

log = logging.getLogger(__name__)

SUPERSEDED = "superseded"
DUPLICATE = "duplicate"


@dataclass(frozen=True)
class Skip:
    status: str  # SUPERSEDED or DUPLICATE
    reason: str


class Freshness:
    def __init__(self, transfers: Transfers) -> None:
        self._transfers = transfers

    async def before_work(self, job: JobInput) -> Skip | None:
        return await self.superseded(job) or await self._already_done(job)

    async def superseded(self, job: JobInput) -> Skip | None:
        if job.current_source_url is None or job.source is None:
            return None
        try:
            status, headers, _ = await self._transfers.probe(
                "HEAD", job.current_source_url, "current_source_url"
            )
        except WorkerError as exc:
            log.warning("freshness check skipped: %s", exc)
            return None
        src = job.source
        if status == 404 and src.version_id:
            # A delete marker is the key's current version: this version is no longer the newest,
            # and writing its summary could overwrite a newer (since deleted) version's.
            return Skip(SUPERSEDED, f"the object was deleted after version {src.version_id}")
        if status != 200:
            return None  # unversioned and deleted, or unreadable: the GET decides and reports
        if src.version_id:
            current = headers.get("x-amz-version-id")
            if current and current != src.version_id:
                return Skip(SUPERSEDED, f"version {src.version_id} was replaced by {current}")
            return None
        etag = headers.get("etag", "").strip('"')
        if src.etag and etag and etag != src.etag:
            return Skip(SUPERSEDED, f"the object changed (ETag {src.etag} → {etag})")
        return None

    async def _already_done(self, job: JobInput) -> Skip | None:
        if job.metadata_get_url is None or job.source is None or job.resummarize:
            return None
        try:
            status, _, body = await self._transfers.probe("GET", job.metadata_get_url, "metadata_get_url")
        except WorkerError as exc:
            log.warning("duplicate check skipped: %s", exc)
            return None
        if status != 200:
            return None
        try:
            meta: Any = json.loads(body)
        except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested past the parser
            return None
        if (
            not isinstance(meta, dict)
            or meta.get("status") != "ok"
            or not isinstance(meta.get("source"), dict)
        ):
            return None
        done, src = meta["source"], job.source
        same = (
            done.get("version_id") == src.version_id
            if src.version_id
            else (done.get("key") == src.key and bool(src.etag) and done.get("etag") == src.etag)
        )
        if same:
            return Skip(DUPLICATE, f"this version was already summarised by job {meta.get('job_id')}")
        return None
