"""What the reconciler reads and writes in S3 for one ledger entry: the metadata beside the summary
(read leniently: a file that is not JSON, not UTF-8, nested past the parser's depth or over
MAX_METADATA_BYTES is no metadata, never an exception), whether the entry's version is still the
key's current one, and the error metadata it writes itself. S3's errors come out as `DispatchError`
naming the operation and object; a missing object is an answer, not an error. Never a transcript.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from dispatcher.errors import DispatchError
from dispatcher.ledger import Entry
from dispatcher.presign import METADATA_CONTENT_TYPE

# Metadata is a few KB; a larger file is not the worker's and is not read.
MAX_METADATA_BYTES = 1 << 20


class Outputs:
    def __init__(self, s3: Any) -> None:
        self._s3 = s3

    def metadata(self, entry: Entry) -> dict[str, Any] | None:
        """The document at the entry's metadata key, or None when there is none it can read."""
        try:
            answer = self._s3_call(
                "get_object", Bucket=entry.output_bucket, Key=entry.metadata_key, missing=True
            )
        except _MissingError:
            return None
        body = answer["Body"].read(MAX_METADATA_BYTES + 1)
        if len(body) > MAX_METADATA_BYTES:
            return None
        try:
            meta = json.loads(body)
        except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested past the parser's depth
            return None
        return meta if isinstance(meta, dict) else None

    def superseded(self, entry: Entry) -> str | None:
        """Why this entry's version is no longer the key's newest, or None."""
        try:
            head = self._s3_call("head_object", Bucket=entry.bucket, Key=entry.key, missing=True)
        except _MissingError:
            if not entry.version_id:
                return None  # deleted: the job's GET decides (and reports) what happens
            # A delete marker is the current version (the worker skips such a job as superseded
            # too, worker/freshness.py); if this version is gone as well, the GET reports it.
            try:
                self._s3_call(
                    "head_object",
                    Bucket=entry.bucket,
                    Key=entry.key,
                    VersionId=entry.version_id,
                    missing=True,
                )
            except _MissingError:
                return None
            return "the object was deleted after this version was uploaded"
        newer = "a newer version of the object was uploaded"
        if entry.version_id:
            return newer if head.get("VersionId") not in (None, "null", entry.version_id) else None
        etag = str(head.get("ETag", "")).strip('"')
        return newer if entry.etag and etag and etag != entry.etag else None

    def _s3_call(self, operation: str, *, missing: bool = False, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self._s3, operation)(**kwargs)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if missing and code in ("NoSuchKey", "NoSuchVersion", "404", "NotFound"):
                raise _MissingError from exc
            raise DispatchError(
                f"S3 {operation} s3://{kwargs.get('Bucket')}/{kwargs.get('Key')}: {exc}"
            ) from exc
        except BotoCoreError as exc:
            raise DispatchError(
                f"S3 {operation} s3://{kwargs.get('Bucket')}/{kwargs.get('Key')}: {exc}"
            ) from exc

    def put_metadata(self, entry: Entry, body: bytes) -> None:
        self._s3_call(
            "put_object",
            Bucket=entry.output_bucket,
            Key=entry.metadata_key,
            Body=body,
            ContentType=METADATA_CONTENT_TYPE,
        )


class _MissingError(Exception):
    pass


def describes(meta: dict[str, Any], entry: Entry) -> bool:
    """Whether a metadata file is about this entry's version (not an older or newer upload)."""
    found = meta.get("source")
    source: dict[str, Any] = found if isinstance(found, dict) else {}
    if entry.resummarize and not _written_since(meta, entry.resummarize):
        return False  # a re-summarise: the summary it replaces describes the version too
    if entry.version_id:
        return bool(source.get("version_id") == entry.version_id)
    return source.get("key") == entry.key and (not entry.etag or source.get("etag") == entry.etag)


def _written_since(meta: dict[str, Any], asked_at: str) -> bool:
    """Whether metadata finished no earlier than `asked_at` (both ISO 8601 UTC, seconds)."""
    finished = meta.get("finished_at")
    try:
        return isinstance(finished, str) and datetime.fromisoformat(finished) >= datetime.fromisoformat(
            asked_at
        )
    except ValueError:
        return False


def from_latest_run(meta: dict[str, Any], entry: Entry) -> bool:
    """Whether error metadata was written by the entry's latest run, not an earlier one (a cancelled
    job's `job_stopped`, the `engine_unavailable` a retry is already answering). A run whose `/run`
    answer never came has no job id: metadata from a job the entry does not know is that run's."""
    job = meta.get("job_id")
    if entry.job_id is not None:
        return bool(job == entry.job_id)
    return job not in entry.job_ids
