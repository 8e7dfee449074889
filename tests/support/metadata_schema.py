"""Checks a metadata document against the published schema (docs/metadata.schema.json)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.support.paths import ROOT

SCHEMA_FILE = ROOT / "docs" / "metadata.schema.json"


def validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA_FILE.read_text()))


def assert_valid(body: bytes) -> dict[str, Any]:
    """Strict JSON (no NaN or Infinity) that the published schema accepts; the document."""
    meta = json.loads(body, parse_constant=lambda c: pytest.fail(f"metadata holds {c}"))
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator().iter_errors(meta)]
    assert not problems, problems
    return meta  # type: ignore[no-any-return]
