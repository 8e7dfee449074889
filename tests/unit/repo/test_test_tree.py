"""The tests' own layout (tests/README.md): test files live in the folder of their unit or tier,
share code only through tests/support/, and stay readable in size. The folder-matches-markers rule
is checked at collection, in tests/conftest.py."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.paths import TESTS

MAX_TEST_FILE_LINES = 600
TIERS = ("unit", "e2e", "vllm", "real_model", "load")


def _test_files() -> list[Path]:
    return sorted(TESTS.rglob("test_*.py"))


def _imported_modules(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return names


def test_no_test_module_imports_another() -> None:
    offending = {
        f"{path.relative_to(TESTS)}: {name}"
        for path in TESTS.rglob("*.py")
        for name in _imported_modules(path)
        if name.startswith("tests.") and name.rsplit(".", 1)[-1].startswith("test_")
    }
    assert not offending, sorted(offending)


def test_no_test_file_is_over_600_lines() -> None:
    long = {
        str(p.relative_to(TESTS)): n
        for p in _test_files()
        if (n := len(p.read_text().splitlines())) > MAX_TEST_FILE_LINES
    }
    assert not long, long


def test_every_test_file_sits_in_its_tier_and_the_fast_tier_in_a_unit_folder() -> None:
    misplaced = []
    for path in _test_files():
        parts = path.relative_to(TESTS).parts
        if parts[0] not in TIERS or (parts[0] == "unit" and len(parts) != 3):
            misplaced.append(str(path.relative_to(TESTS)))
    assert not misplaced, f"move these as tests/README.md says: {misplaced}"


def test_every_test_folder_is_a_package() -> None:
    """Two units may each have a test_settings.py: packages keep their module names apart."""
    folders = {p.parent for p in _test_files()} | {TESTS / "support"}
    assert not [str(f.relative_to(TESTS)) for f in folders if not (f / "__init__.py").exists()]
