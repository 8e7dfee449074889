"""Failures you can see, checked without running the cloud: every stack output the code and docs name
exists in template.yaml, and `make up` reconciles on a schedule and prints the ledger's name. The
dropped job through the whole local cloud is tests/e2e/test_dropped_job_is_visible.py.
"""

from __future__ import annotations

import re
from pathlib import Path

from cfnlint.decode import decode_str

from devstack import background
from tests.support.paths import ROOT

# How the code and the docs point a user at a stack output.
_OUTPUT_NAMES = (
    re.compile(r"the stack's `?([A-Z][A-Za-z0-9]+)`? output"),
    re.compile(r"<([A-Z][A-Za-z0-9]+) output>"),
    re.compile(r"`([A-Z][A-Za-z0-9]+)` output"),
    re.compile(r"([A-Z][A-Za-z0-9]+) stack output"),
)


def _sources() -> list[Path]:
    code = [
        p for d in ("client", "dispatcher", "deploy", "devstack", "worker") for p in (ROOT / d).rglob("*.py")
    ]
    return [*code, ROOT / "README.md", ROOT / "Makefile", *(ROOT / "docs").glob("*.md")]


def _outputs() -> set[str]:
    document, errors = decode_str((ROOT / "template.yaml").read_text())
    assert not errors
    return set(document["Outputs"])


def test_every_stack_output_the_code_and_docs_name_exists_in_the_template() -> None:
    named: dict[str, set[str]] = {}
    for path in _sources():
        text = " ".join(path.read_text(encoding="utf-8").split())  # phrases broken across lines
        for pattern in _OUTPUT_NAMES:
            for name in pattern.findall(text):
                named.setdefault(name, set()).add(str(path.relative_to(ROOT)))
        if path.name == "DEPLOY.md":  # "Stack outputs: `UploadTo`, `SummariesAt`, …"
            listed = re.search(r"Stack outputs: (.+?)\.", text)
            assert listed is not None
            for name in re.findall(r"`([A-Z][A-Za-z0-9]+)`", listed.group(1)):
                named.setdefault(name, set()).add("docs/DEPLOY.md")
    assert "LedgerTable" in named  # client/uploads.py's error message points at it
    missing = {name: sorted(where) for name, where in named.items() if name not in _outputs()}
    assert not missing, f"stack outputs named but not in template.yaml: {missing}"


def test_make_up_reconciles_on_a_schedule_and_prints_the_ledgers_name(tmp_path: Path) -> None:
    assert background.cloud_config(tmp_path, env={}).reconcile_every_s == 30.0
    assert background.cloud_config(tmp_path, env={"RECONCILE_EVERY_S": "5"}).reconcile_every_s == 5.0
    state = {
        "s3_endpoint": "http://127.0.0.1:1",
        "bucket": "b",
        "runpod_endpoint_url": "u",
        "runpod_api_key": "k",
    }
    assert background.environment(state)["LEDGER_TABLE"] == "job-ledger"
