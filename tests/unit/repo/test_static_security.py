"""The security lint stays in the gate: ruff's flake8-bandit rules (`S`, which stand in for bandit)
are selected, only `assert` is exempt, and product code passes them."""

from __future__ import annotations

import subprocess
import sys
import tomllib

from tests.support.paths import ROOT

PRODUCT = ["handler.py", "worker", "dispatcher", "devstack", "deploy"]


def test_ruff_security_rules_are_selected_and_not_ignored() -> None:
    lint = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    assert "S" in lint["select"]
    assert [rule for rule in lint.get("ignore", []) if rule.startswith("S")] == ["S101"]  # assert only


def test_product_code_passes_the_security_rules() -> None:
    paths = [p for p in PRODUCT if (ROOT / p).exists()]
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--select",
            "S",
            "--ignore",
            "S101",
            "--output-format",
            "concise",
            *paths,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout
