"""The layout's rules, checked on the source: the engine package is the one model adapter, over a
pure layer for the meeting's text.

docs/ARCHITECTURE.md states them; these tests keep the tree honest as it grows.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.support.paths import ROOT

ENGINES = ROOT / "worker" / "engines"
MEETING = ROOT / "worker" / "meeting"
PRODUCT_AND_TOOLS = ("worker", "dispatcher", "devstack", "deploy", "bench", "eval", "tests", "client")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return names


def _python_files(*folders: str) -> list[Path]:
    files = [p for folder in folders for p in (ROOT / folder).rglob("*.py") if ".venv" not in p.parts]
    return files + ([ROOT / "handler.py"] if "worker" in folders else [])


def _worker_imports(folder: Path, allowed: tuple[str, ...]) -> set[str]:
    return {
        f"{path.relative_to(ROOT)}: {name}"
        for path in folder.rglob("*.py")
        for name in _imports(path)
        if name.startswith("worker.") and not any(name == a or name.startswith(a + ".") for a in allowed)
    }


def test_engines_import_nothing_from_the_worker_but_the_meeting_layer_errors_and_retries() -> None:
    offending = _worker_imports(
        ENGINES, ("worker.engines", "worker.meeting", "worker.errors", "worker.retry")
    )
    assert not offending, sorted(offending)


def test_the_meeting_layer_imports_nothing_from_the_worker_but_its_errors() -> None:
    assert not _worker_imports(MEETING, ("worker.meeting", "worker.errors"))


def test_the_meeting_layer_does_no_io() -> None:
    io = ("aiohttp", "urllib", "socket", "subprocess", "os", "pathlib.Path", "boto3", "runpod", "http")
    offending = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in MEETING.rglob("*.py")
        for name in _imports(path)
        if any(name == module or name.startswith(module + ".") for module in io)
    }
    assert not offending, sorted(offending)


def test_the_engine_package_face_stays_small_and_has_one_name_per_function() -> None:
    import worker.engines

    assert len(worker.engines.__all__) <= 55
    for path in (ENGINES / "__init__.py", MEETING / "__init__.py"):
        tree = ast.parse(path.read_text())
        aliased = [
            a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names if a.asname
        ]
        assert not aliased, (path.name, aliased)


def test_nothing_outside_the_engine_package_imports_its_modules() -> None:
    internal = {f"worker.engines.{p.stem}" for p in ENGINES.glob("*.py") if p.stem != "__init__"}
    offending = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in _python_files(*PRODUCT_AND_TOOLS)
        if ENGINES not in path.parents
        for name in _imports(path)
        if any(name == module or name.startswith(module + ".") for module in internal)
    }
    assert not offending, sorted(offending)


def test_model_side_modules_live_in_the_engine_package() -> None:
    for name in ("prompts", "presets", "memory"):
        assert not (ROOT / "worker" / f"{name}.py").exists()
        assert (ENGINES / f"{name}.py").exists()


def test_the_meetings_text_lives_in_the_meeting_layer() -> None:
    for name in ("decoding", "turns", "formats", "languages", "structure"):
        assert (MEETING / f"{name}.py").exists()
    for old in ("worker/transcript.py", "worker/formats.py", "worker/structure.py", "worker/engines/text.py"):
        assert not (ROOT / old).exists(), old


def test_bench_never_imports_the_tests() -> None:
    offending = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in _python_files("bench", "eval", "devstack", "worker", "dispatcher", "deploy")
        for name in _imports(path)
        if name == "tests" or name.startswith("tests.")
    }
    assert not offending, sorted(offending)


def test_only_the_settings_module_reads_the_workers_environment() -> None:
    reads = re.compile(r"os\.environ\.get\(|os\.environ\[|os\.getenv\(")
    readers = {
        str(p.relative_to(ROOT)) for p in (ROOT / "worker").rglob("*.py") if reads.search(p.read_text())
    }
    # handler.py hands os.environ to WorkerSettings.from_env; a child process may inherit it whole.
    assert readers == set(), readers
