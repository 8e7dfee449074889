"""`python -m client costs [prefix]`: what the summaries cost, summed from their metadata files.

Reads every metadata file (`*.json`) under the output prefix (and `prefix` below it) and sums its
`cost.usd` and `cost.seconds` per day (`finished_at`), per profile (`options.profile`; `meeting`,
the default, where the metadata names none) and per model. Files without a cost (the reconciler's
error metadata: no worker ran the job to its end) are counted, not priced.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any, TextIO

DEFAULT_PROFILE = "meeting"


def sums(documents: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """{"day"|"profile"|"model": {value: {"jobs", "seconds", "usd"}}}; unpriced files count as jobs."""
    table: dict[str, dict[str, dict[str, float]]] = {
        "day": defaultdict(lambda: {"jobs": 0, "seconds": 0.0, "usd": 0.0}),
        "profile": defaultdict(lambda: {"jobs": 0, "seconds": 0.0, "usd": 0.0}),
        "model": defaultdict(lambda: {"jobs": 0, "seconds": 0.0, "usd": 0.0}),
    }
    for meta in documents:
        cost = _mapping(meta.get("cost"))
        options = _mapping(meta.get("options"))
        keys = {
            "day": str(meta.get("finished_at") or "?")[:10],
            "profile": str(options.get("profile") or DEFAULT_PROFILE),
            "model": str(meta.get("model") or "?"),
        }
        for group, value in keys.items():
            row = table[group][value]
            row["jobs"] += 1
            row["seconds"] += _number(cost.get("seconds"))
            row["usd"] += _number(cost.get("usd"))
    return {group: dict(rows) for group, rows in table.items()}


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def read_all(s3: Any, bucket: str, prefix: str) -> list[dict[str, Any]]:
    documents = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            if not item["Key"].endswith(".json"):
                continue
            try:
                meta = json.loads(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
            except (ValueError, RecursionError):
                continue  # not ours (a transcript in JSON under the output prefix would be odd)
            if isinstance(meta, dict) and "schema" in meta and "status" in meta:
                documents.append(meta)
    return documents


def show(s3: Any, bucket: str, prefix: str, as_json: bool, out: TextIO) -> int:
    table = sums(read_all(s3, bucket, prefix))
    if as_json:
        print(json.dumps(table, indent=2, sort_keys=True), file=out)
        return 0
    for group, rows in table.items():
        print(f"per {group}:", file=out)
        for value, row in sorted(rows.items()):
            print(
                f"  {value:30} jobs={int(row['jobs']):5d} "
                f"seconds={row['seconds']:10.1f} usd={row['usd']:.4f}",
                file=out,
            )
    total = sum(row["usd"] for row in table["day"].values())
    print(f"total usd={total:.4f}", file=out)
    return 0
