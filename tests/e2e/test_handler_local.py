"""`python handler.py` runs test_input.json once and exits 0, as the runpod SDK documents."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import ROOT

# Drives real worker processes or the whole local cloud: `make test-fast` leaves this tier out.
pytestmark = pytest.mark.e2e


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("RUNPOD_", "WORKER_"))}


def test_python_handler_runs_the_repo_test_input() -> None:
    run = subprocess.run(
        [sys.executable, "handler.py"],
        cwd=ROOT,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Job local_test completed successfully" in run.stdout
    assert "Extractive summary" in run.stdout


def test_invalid_test_input_reports_the_field_and_exits_non_zero(tmp_path: Path) -> None:
    bad = json.dumps({"input": {"text": "Alice: hi", "options": {"max_tokens": 0}}})
    run = subprocess.run(
        [sys.executable, str(ROOT / "handler.py"), "--test_input", bad],
        cwd=tmp_path,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "options.max_tokens" in run.stdout + run.stderr
    assert run.returncode != 0


def test_bad_worker_setting_fails_at_start_with_its_name() -> None:
    run = subprocess.run(
        [sys.executable, "handler.py"],
        cwd=ROOT,
        env={**_clean_env(), "WORKER_CONCURRENCY": "many"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2
    assert "WORKER_CONCURRENCY must be an integer" in run.stdout
