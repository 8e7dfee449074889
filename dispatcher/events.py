"""S3 event → object references: pure, no AWS calls.

Two shapes: S3 notifications (`Records`, keys URL-encoded) and S3 → EventBridge "Object Created"
events (template.yaml ExistingBucketEvents; one object, keys as they are).

Handles every Record (an event may hold many), URL-decodes every key with `unquote_plus` (S3
encodes a space as `+`), and sorts out what must not be dispatched: `s3:TestEvent`, non-S3 events,
non-ObjectCreated records, keys under the output prefix and keys without the input suffix. The last
two are what stop the worker's own summary writes from re-triggering the dispatcher: AWS's
recursive-loop detection does not see writes made through presigned URLs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus


@dataclass(frozen=True)
class ObjectRef:
    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None
    size: int | None = None
    sequencer: str | None = None
    event_time: str | None = None  # tells two uploads apart when an event has no version/sequencer
    # EventBridge sends keys as they are, but a forwarded or hand-made event may carry them
    # URL-encoded: the decoded reading, when it differs; the dispatcher keeps the one that exists.
    decoded_key: str | None = None


@dataclass(frozen=True)
class Skipped:
    reason: str
    key: str | None = None


@dataclass(frozen=True)
class ParsedEvent:
    objects: list[ObjectRef]
    skipped: list[Skipped]


def parse_event(event: Any) -> ParsedEvent:
    """Every S3 ObjectCreated record as an ObjectRef; everything else as a reason to skip."""
    if not isinstance(event, dict):
        return ParsedEvent([], [Skipped(f"not an S3 event (a {type(event).__name__})")])
    if event.get("source") == "aws.s3" and "detail-type" in event:
        return _parse_eventbridge(event)
    if event.get("Event") == "s3:TestEvent":
        return ParsedEvent([], [Skipped("s3:TestEvent (sent by S3 when notifications are configured)")])
    records = event.get("Records")
    if not isinstance(records, list):
        return ParsedEvent([], [Skipped("not an S3 event (no Records list)")])
    objects: list[ObjectRef] = []
    skipped: list[Skipped] = []
    for index, record in enumerate(records):
        ref, reason = _parse_record(record)
        if ref is not None:
            objects.append(ref)
        else:
            skipped.append(Skipped(f"record {index}: {reason}"))
    return ParsedEvent(objects, skipped)


def _parse_record(record: Any) -> tuple[ObjectRef | None, str]:
    if not isinstance(record, dict):
        return None, "not an object"
    if record.get("eventSource") != "aws:s3":
        return None, f"not from S3 (eventSource={record.get('eventSource')!r})"
    name = str(record.get("eventName", ""))
    if not name.startswith("ObjectCreated:"):
        return None, f"not an upload (eventName={name!r})"
    s3 = record.get("s3")
    s3 = s3 if isinstance(s3, dict) else {}
    bucket_info = s3.get("bucket")
    bucket = bucket_info.get("name") if isinstance(bucket_info, dict) else None
    obj = s3.get("object")
    obj = obj if isinstance(obj, dict) else {}
    raw_key = obj.get("key")
    if not isinstance(bucket, str) or not bucket or not isinstance(raw_key, str) or not raw_key:
        return None, "missing s3.bucket.name or s3.object.key"
    size = obj.get("size")
    return (
        ObjectRef(
            bucket=bucket,
            key=unquote_plus(raw_key),
            version_id=_version(obj.get("versionId")),
            etag=(obj.get("eTag") or "").strip('"') or None,
            size=size if isinstance(size, int) and size >= 0 else None,
            sequencer=obj.get("sequencer") or None,
            event_time=record.get("eventTime") or None,
        ),
        "",
    )


def _parse_eventbridge(event: dict[str, Any]) -> ParsedEvent:
    """S3 → EventBridge (an existing bucket's "Send notifications to Amazon EventBridge"): one
    object per event, the key *not* URL-encoded, `version-id` and `etag` spelled differently."""
    kind = event.get("detail-type")
    if kind != "Object Created":
        return ParsedEvent([], [Skipped(f"not an upload (detail-type={kind!r})")])
    detail = _mapping(event.get("detail"))
    bucket = _mapping(detail.get("bucket")).get("name")
    obj = _mapping(detail.get("object"))
    key = obj.get("key")
    if not isinstance(bucket, str) or not bucket or not isinstance(key, str) or not key:
        return ParsedEvent([], [Skipped("missing detail.bucket.name or detail.object.key")])
    size = obj.get("size")
    decoded = unquote_plus(key)
    ref = ObjectRef(
        bucket=bucket,
        key=key,
        decoded_key=decoded if decoded != key else None,
        version_id=_version(obj.get("version-id")),
        etag=(obj.get("etag") or "").strip('"') or None,
        size=size if isinstance(size, int) and size >= 0 else None,
        sequencer=obj.get("sequencer") or None,
        event_time=event.get("time") or None,
    )
    return ParsedEvent([ref], [])


def _version(value: Any) -> str | None:
    """A version id, or None. `"null"` is what S3 calls the version of an object written while
    versioning was off or suspended: every such upload has it, so it tells no two uploads apart."""
    return value if isinstance(value, str) and value and value != "null" else None


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _suffix_of(key: str, input_suffixes: str | tuple[str, ...]) -> str | None:
    suffixes = (input_suffixes,) if isinstance(input_suffixes, str) else input_suffixes
    return next((x for x in suffixes if key.endswith(x)), None)


def skip_reason(
    key: str,
    output_prefix: str,
    input_suffixes: str | tuple[str, ...],
    summary_suffix: str,
    input_prefix: str = "",
) -> str | None:
    """Why this key must not be summarised, or None. The code-side twin of the template filters."""
    if key.startswith(output_prefix):
        return f"under the output prefix {output_prefix!r} (our own output)"
    if not key.startswith(input_prefix):
        return f"not under the input prefix {input_prefix!r}"
    suffix = _suffix_of(key, input_suffixes)
    if suffix is None:
        shown = input_suffixes if isinstance(input_suffixes, str) else "', '".join(input_suffixes)
        return f"does not end in '{shown}'"
    stem = key[: -len(suffix)] if suffix else key
    inner = _suffix_of(stem, input_suffixes)  # `x_summary.vtt.txt`: a summary of a non-.txt input
    if stem.endswith(summary_suffix) or (inner and stem[: -len(inner)].endswith(summary_suffix)):
        return f"looks like a summary ({summary_suffix}{suffix})"
    return None


def output_keys(
    key: str, output_prefix: str, input_suffixes: str | tuple[str, ...], summary_suffix: str
) -> tuple[str, str]:
    """`a/b/c.txt` → (`summaries/a/b/c_summary.txt`, `summaries/a/b/c_summary.json`) (the seed's rule).

    Other input suffixes keep their extension after the summary suffix, so two inputs of one
    folder never share an output: `c.vtt` → (`summaries/c_summary.vtt.txt`,
    `summaries/c_summary.vtt.json`), while `c.vtt.txt` → `summaries/c.vtt_summary.txt`.
    Folders are kept under the output prefix.
    """
    suffix = _suffix_of(key, input_suffixes) or ""
    stem = key[: -len(suffix)] if suffix else key
    tail = "" if suffix in ("", ".txt") else suffix
    base = f"{output_prefix}{stem}{summary_suffix}{tail}"
    return base + ".txt", base + ".json"
