"""`make eval` runs end to end on tiny input, `make bench` reports what it cannot measure, and the
fixed-latency bench engine behaves as the benchmarks assume. Behaviour only: no test here looks at
a timing figure.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.transcripts import transcript
from devstack.cloud import free_port, wait_http
from tests.support.bench import run_module, write_meetings
from tests.support.paths import ROOT
from worker.engines import FIXED_LABEL as LABEL
from worker.engines import FixedLatencyEngine, SummaryTask, build_engine
from worker.errors import ConfigError
from worker.meeting import count_word_tokens
from worker.settings import WorkerSettings


@pytest.fixture
def meetings(tmp_path: Path) -> Path:
    return write_meetings(tmp_path / "meetings")


def test_eval_scores_every_system_per_domain_and_writes_the_report(meetings: Path, tmp_path: Path) -> None:
    out = tmp_path / "EVAL.md"
    done = run_module("eval.rouge", "--data", str(meetings), "--out", str(out))
    assert done.returncode == 0, done.stderr
    report = out.read_text()
    for system in ("LEAD", "LexRank", "TextRank", "extractive engine (ours)"):
        assert system in report
    assert "product(AMI) (1)" in report and "academic(ICSI) (1)" in report
    assert "Target (beat TextRank's R-1" in report
    assert "textrank: R-1" in done.stdout


def test_eval_without_data_says_where_to_put_transcripts_and_references(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    done = run_module("eval.rouge", "--data", str(missing), "--out", str(tmp_path / "EVAL.md"))
    assert done.returncode == 2
    assert f"{missing}/ES2006a.txt" in done.stderr
    assert f"{missing}/ES2006a.summary.txt" in done.stderr
    assert not (tmp_path / "EVAL.md").exists()


def test_bench_without_the_vllm_venv_reports_section_4_as_not_measured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VLLM_TEST_PYTHON", str(tmp_path / "no-such-python"))
    out = tmp_path / "BENCHMARKS.md"
    done = run_module("bench.run", "--quick", "--only", "4", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "**Not measured on this run**: the vLLM CPU venv is missing" in out.read_text()


def test_fixed_engine_is_selected_by_settings_with_its_latency() -> None:
    engine = build_engine(
        WorkerSettings.from_env(
            {"WORKER_ENGINE": "fixed", "WORKER_FIXED_LATENCY_MS": "250", "WORKER_FIXED_MAX_MODEL_LEN": "4096"}
        ).engine_settings
    )
    assert isinstance(engine, FixedLatencyEngine)
    assert (engine.latency_s, engine.max_model_len) == (0.25, 4096)


def test_fixed_engine_rejects_a_negative_latency() -> None:
    with pytest.raises(ConfigError, match="WORKER_FIXED_LATENCY_MS"):
        WorkerSettings.from_env({"WORKER_ENGINE": "fixed", "WORKER_FIXED_LATENCY_MS": "-5"})


def test_fixed_engine_answers_are_labelled_and_within_budget() -> None:
    engine = FixedLatencyEngine()
    result = asyncio.run(engine.complete(SummaryTask(kind="map", content=transcript(2000), max_tokens=100)))
    assert result.text.startswith(LABEL)
    assert result.completion_tokens == count_word_tokens(result.text) <= 100


@pytest.fixture
def openai_server() -> Iterator[str]:
    """The tests' fake OpenAI-compatible server in its own process, on a free loopback port."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.fake_openai_server", str(port)], cwd=ROOT
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/health", 30, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_eval_runs_an_openai_compatible_engine_through_the_same_harness(
    meetings: Path, tmp_path: Path, openai_server: str
) -> None:
    out = tmp_path / "EVAL-llm.md"
    done = run_module(
        "eval.rouge", "--data", str(meetings), "--systems", "lead", "--engine", "openai",
        "--url", openai_server, "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| LLM engine (OpenAI-compatible) |" in out.read_text()
