"""One transcript through the worker's JobRunner (extractive engine, moto over HTTP): the result,
and the metadata document checked against the published schema. Shared by the hostile-text tests."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from dispatcher.presign import Presigner
from tests.metadata_schema import assert_valid
from worker.engines import ExtractiveEngine
from worker.job import METADATA_CONTENT_TYPE, SUMMARY_CONTENT_TYPE
from worker.runner import JobRunner
from worker.settings import WorkerSettings
from worker.transfer import Transfers, UrlPolicy

TRANSCRIPTS = Path(__file__).parent / "transcripts"
META_KEY = "summaries/m_summary.json"
SUMMARY_KEY = "summaries/m_summary.txt"


def summarise(
    s3: Any, bucket: str, presigner: Presigner, body: bytes, key: str = "m.txt", **options: Any
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """(job result, metadata valid against the schema, summary text or "")."""
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    raw = {
        "transcript_url": presigner.get(bucket, key),
        "summary_put_url": presigner.put(bucket, SUMMARY_KEY, SUMMARY_CONTENT_TYPE),
        "metadata_put_url": presigner.put(bucket, META_KEY, METADATA_CONTENT_TYPE),
        "source": {"bucket": bucket, "key": key},
        "options": options,
    }

    async def go() -> dict[str, Any]:
        transfers = Transfers(UrlPolicy(allow_http=False, allow_loopback=True), timeout_s=5, attempts=2)
        try:
            settings = WorkerSettings(allow_loopback_urls=True)
            return await JobRunner(settings, ExtractiveEngine(), transfers).run("job-hostile-text", raw)
        finally:
            await transfers.aclose()

    result = asyncio.run(go())
    meta = assert_valid(s3.get_object(Bucket=bucket, Key=META_KEY)["Body"].read())
    summary = ""
    if meta["status"] == "ok":
        summary = s3.get_object(Bucket=bucket, Key=SUMMARY_KEY)["Body"].read().decode()
    return result, meta, summary


def fixture(name: str) -> str:
    return (TRANSCRIPTS / name).read_text(encoding="utf-8")


def fixture_json(name: str) -> Any:
    return json.loads(fixture(name))
