"""JSON-lines logging with secrets scrubbed. Only entrypoints call `configure`.

Presigned URLs are bearer secrets and API keys travel in headers: every formatted line passes
through `scrub`, which drops URL query strings and Bearer tokens whatever logger produced them
(ours, aiohttp's, the runpod SDK's).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

_QUERY = re.compile(r"(?P<base>https?://[^\s?#\"'<>]+)\?[^\s\"'<>]*")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
_SIGNATURE = re.compile(r"(?i)(X-Amz-(?:Signature|Credential|Security-Token)=)[^&\s\"']+")


def scrub(text: str) -> str:
    text = _QUERY.sub(r"\g<base>?<redacted>", text)
    text = _BEARER.sub(r"\1<redacted>", text)
    return _SIGNATURE.sub(r"\1<redacted>", text)


class JsonFormatter(logging.Formatter):
    def __init__(self, component: str) -> None:
        super().__init__()
        self._component = component

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "component": self._component,
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        for extra in ("job_id", "object_key", "bucket"):
            value = getattr(record, extra, None)
            if value is not None:
                entry[extra] = scrub(str(value))
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure(component: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(component))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
