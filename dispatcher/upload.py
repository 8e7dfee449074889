"""One upload: which object version it is (its identity, the ledger's key) and where its outputs go.

Built once per record (`Upload.of`) and passed along: the job input (dispatcher/job.py), the ledger
claim (dispatcher/ledger.py) and the reconciler's retries all read the same identity and the same
output keys, so nothing derives them twice. Pure: no AWS calls.

The identity is the object *version*, never the ETag alone: two uploads of identical bytes share an
ETag and each must be summarised. Versioned buckets: bucket + key + versionId. Otherwise bucket +
key + ETag + the record's sequencer (S3 puts one in every ObjectCreated record), or its eventTime
where there is none (moto's notifications, hand-written events).

A re-summarise (`python -m client backfill --force`: a new model or profile) is an upload of its
own: `resummarize` holds when it was asked for, so its identity is new (the ledger claims it beside
the version's first run) and its job tells the worker to write over an `ok` summary of the version.
"""

from __future__ import annotations

from dataclasses import dataclass

from dispatcher.errors import OutputKeyError
from dispatcher.events import ObjectRef, output_keys
from dispatcher.settings import Settings

S3_MAX_KEY_BYTES = 1024


@dataclass(frozen=True)
class Upload:
    ref: ObjectRef  # the object version, as the event named it
    output_bucket: str
    summary_key: str
    metadata_key: str
    resummarize: str | None = None  # ISO time of a forced re-summarise; None for an upload

    @classmethod
    def of(cls, ref: ObjectRef, settings: Settings, resummarize: str | None = None) -> Upload:
        """The upload `ref` names, its outputs placed by `settings` (output bucket, prefix,
        suffixes). OutputKeyError when S3 would refuse the output keys: retrying cannot help."""
        s = settings
        summary_key, metadata_key = output_keys(ref.key, s.output_prefix, s.input_suffixes, s.summary_suffix)
        size = len(metadata_key.encode("utf-8"))
        if size > S3_MAX_KEY_BYTES:
            # S3 would refuse both PUTs after the GPU work, leaving no summary and no metadata.
            raise OutputKeyError(
                f"the output key would be {size} bytes, over S3's {S3_MAX_KEY_BYTES}-byte limit: "
                "shorten the transcript's key"
            )
        return cls(ref, s.output_bucket or ref.bucket, summary_key, metadata_key, resummarize)

    @property
    def id(self) -> str:
        """`s3://bucket/key#v:<versionId>`, or `…#e:<etag>:<sequencer or eventTime>` unversioned;
        a re-summarise adds `#r:<when asked>`."""
        ref = self.ref
        if ref.version_id:
            token = f"v:{ref.version_id}"
        else:
            token = f"e:{ref.etag or ''}:{ref.sequencer or ref.event_time or ''}"
        again = f"#r:{self.resummarize}" if self.resummarize else ""
        return f"s3://{ref.bucket}/{ref.key}#{token}{again}"


def parse_id(upload_id: str) -> tuple[str, str, str | None]:
    """(bucket, key, version id) from `Upload.id`'s shape; blanks when it has another shape (an
    item written by hand)."""
    if not upload_id.startswith("s3://") or "#" not in upload_id:
        return "", "", None
    if "#r:" in upload_id:  # a re-summarise's identity: the version's own, then its time
        upload_id = upload_id[: upload_id.rindex("#r:")]
        if "#" not in upload_id:
            return "", "", None
    where, token = upload_id[len("s3://") :].rsplit("#", 1)
    bucket, _, key = where.partition("/")
    version = token[2:] if token.startswith("v:") and len(token) > 2 else None
    return bucket, key, version
