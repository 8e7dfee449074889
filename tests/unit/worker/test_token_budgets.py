"""Token budgets at their edges. A grant larger than the model's context is capped to what the context
allows before any request; a grant too small for a summary is refused at validation, naming the
minimum (job input, the dispatcher's `SUMMARY_MAX_TOKENS`, the worker's token settings). Jobs run
through the worker's JobRunner, with the fake OpenAI-compatible server over real HTTP where a
model's context matters; metadata goes to moto.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from dispatcher.presign import Presigner
from dispatcher.settings import MIN_MAX_TOKENS as DISPATCHER_MIN_MAX_TOKENS
from dispatcher.settings import Settings, SettingsError
from tests.support.fake_openai_server import FakeOpenAIServer, serve
from tests.support.fakes import FakeEngine
from tests.support.jobs import assert_reported, run_engine_job
from tests.support.settings import DISPATCHER_BASE
from worker.engines import MIN_MAX_TOKENS, ExtractiveEngine, OpenAICompatEngine, SummaryOptions, SummaryTask
from worker.errors import ConfigError, EngineError
from worker.meeting import LANGUAGES
from worker.settings import WorkerSettings
from worker.summarize import Summarizer, output_ceiling

MEETING = "".join(
    f"{'Alice' if i % 2 else 'Bob'}: Item {i}: we decided to ship the export on day {i} after the review.\n"
    for i in range(12)
)
CONTEXT = 1024


@pytest.fixture
def fake() -> Iterator[tuple[FakeOpenAIServer, OpenAICompatEngine]]:
    state = FakeOpenAIServer(max_model_len=CONTEXT, finish_reason="stop")
    with serve(state) as server:
        engine = OpenAICompatEngine(server.url, attempts=1)
        engine.connect(timeout_s=5)
        yield state, engine


# Each was accepted, sent the whole transcript through map and reduce levels that could never end in
# a request that fits, and failed with "partial summaries did not shrink" or "did not fit after 8
# reduce levels" after burning generation requests.
OVER_THE_CONTEXT = {
    "far_over_the_context": ({"max_tokens": 16_000}, {}),
    "the_whole_context": ({"max_tokens": CONTEXT}, {}),
    "just_over_half_the_context": ({"max_tokens": CONTEXT // 2 + 1}, {}),
    "a_default_grant_over_the_context": ({}, {"WORKER_DEFAULT_MAX_TOKENS": "4096"}),
}


@pytest.mark.parametrize("length", ["short", "long"])
@pytest.mark.parametrize("name", OVER_THE_CONTEXT)
def test_a_grant_larger_than_the_context_allows_is_capped_before_any_request(
    name: str,
    length: str,
    fake: tuple[FakeOpenAIServer, OpenAICompatEngine],
    s3: Any,
    bucket: str,
    presigner: Presigner,
) -> None:
    state, engine = fake
    options, env = OVER_THE_CONTEXT[name]
    text = MEETING if length == "short" else MEETING * 20
    settings = WorkerSettings.from_env({"WORKER_ALLOW_LOOPBACK_URLS": "true", **env})
    result, meta = run_engine_job(engine, s3, bucket, presigner, {"text": text, "options": options}, settings)
    assert result["status"] == "ok", result
    assert meta["schema"] == 1
    assert meta["options"]["max_tokens_granted"] == output_ceiling(CONTEXT) == CONTEXT // 2
    generations = [body for path, body in state.requests if path.startswith("/v1/") and path != "/v1/models"]
    assert len(generations) == meta["requests"]
    assert all(state.count(body) + body["max_tokens"] <= CONTEXT for body in generations)
    if length == "short":
        assert meta["requests"] == 1


def test_the_summariser_refuses_a_grant_over_the_ceiling_before_any_request() -> None:
    engine = FakeEngine(max_model_len=400)
    with pytest.raises(
        EngineError, match=r"401 tokens is over half the model's 400-token context \(at most 200\)"
    ):
        asyncio.run(Summarizer(engine).summarize(MEETING, 401))
    assert engine.history == []


# ---- a grant too small for a summary -----------------------------------------------------------------
@pytest.mark.parametrize("max_tokens", [1, 12, 31, MIN_MAX_TOKENS - 1])
def test_a_grant_too_small_for_a_summary_is_refused_naming_the_minimum(
    max_tokens: int, s3: Any, bucket: str, presigner: Presigner
) -> None:
    """1 to 12 tokens gave `status: ok` with a fragment of the extractive label."""
    raw = {"text": MEETING, "options": {"max_tokens": max_tokens}}
    result, meta = run_engine_job(
        ExtractiveEngine(), s3, bucket, presigner, raw, WorkerSettings(allow_loopback_urls=True)
    )
    assert_reported(result, meta, f"options.max_tokens: must be at least {MIN_MAX_TOKENS}", "invalid_input")
    assert meta["schema"] == 1


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_the_minimum_grant_holds_the_extractive_frame_and_a_whole_sentence_in_every_language(
    language: str,
) -> None:
    """Why the minimum is what it is: at 64 the Japanese summary lost its last heading and the
    Korean one every whole sentence; at the minimum each keeps its label, its four headings and at
    least one whole sentence."""
    task = SummaryTask("single", MEETING, MIN_MAX_TOKENS, SummaryOptions(language=language))
    text = asyncio.run(ExtractiveEngine().complete(task)).text
    lang = LANGUAGES[language]
    assert text.startswith(lang.label) and all(heading in text for heading in lang.headings), text
    assert any(line.rstrip().endswith("review.") for line in text.splitlines()), text


def test_the_dispatcher_and_the_worker_agree_on_the_minimum() -> None:
    assert DISPATCHER_MIN_MAX_TOKENS == MIN_MAX_TOKENS


@pytest.mark.parametrize("value", ["1", "12", str(MIN_MAX_TOKENS - 1)])
def test_summary_max_tokens_below_the_minimum_is_refused_with_its_name(value: str) -> None:
    with pytest.raises(SettingsError, match=f"SUMMARY_MAX_TOKENS must be between {MIN_MAX_TOKENS} and"):
        Settings.from_env(DISPATCHER_BASE | {"SUMMARY_MAX_TOKENS": value})
    assert Settings.from_env(DISPATCHER_BASE | {"SUMMARY_MAX_TOKENS": str(MIN_MAX_TOKENS)}).max_tokens == 96


@pytest.mark.parametrize("name", ["WORKER_MAX_OUTPUT_TOKENS", "WORKER_DEFAULT_MAX_TOKENS"])
@pytest.mark.parametrize("value", ["1", "12", str(MIN_MAX_TOKENS - 1)])
def test_worker_token_settings_below_the_minimum_are_refused_with_their_name(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"{name} must be between {MIN_MAX_TOKENS} and"):
        WorkerSettings.from_env({name: value})
