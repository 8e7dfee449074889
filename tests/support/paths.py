"""Where the repository and the tests' fixture files are, and the real S3 events under tests/events/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
TESTS = ROOT / "tests"
EVENTS = TESTS / "events"
TRANSCRIPTS = TESTS / "transcripts"


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())  # type: ignore[no-any-return]


def fixture(name: str) -> str:
    """A real-shaped transcript from tests/transcripts/."""
    return (TRANSCRIPTS / name).read_text(encoding="utf-8")


def fixture_json(name: str) -> Any:
    return json.loads(fixture(name))
