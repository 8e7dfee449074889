"""The OpenAI-compatible engine against a fake server over real HTTP (the real vLLM runs in
tests/vllm/): routing, max_tokens, counting, concurrency bounds and error translation."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from devstack.cloud import free_port
from tests.support.fake_openai_server import FakeOpenAIServer, serve
from worker.engines import (
    BYTE_BOUND_SLACK,
    COMPLETION_STOP,
    OpenAICompatEngine,
    SummaryTask,
    build_engine,
    strip_thinking,
    trim_completion,
)
from worker.errors import ConfigError, EngineError, EngineUnavailableError
from worker.settings import WorkerSettings
from worker.summarize import Summarizer


@pytest.fixture
def fake() -> Iterator[tuple[FakeOpenAIServer, str]]:
    state = FakeOpenAIServer()
    with serve(state) as server:
        yield state, server.url


def connected(url: str, **kw: Any) -> OpenAICompatEngine:
    engine = OpenAICompatEngine(url, **kw)
    engine.connect(timeout_s=5)
    return engine


def task(kind: str = "single", content: str = "Alice: hello there", max_tokens: int = 64) -> SummaryTask:
    return SummaryTask(kind=kind, content=content, max_tokens=max_tokens)  # type: ignore[arg-type]


async def run(engine: OpenAICompatEngine, coro: Any) -> Any:
    try:
        return await coro
    finally:
        await engine.aclose()


def test_connect_learns_model_and_context_from_the_server(fake) -> None:
    _, url = fake
    engine = connected(url)
    assert (engine.model, engine.max_model_len, engine.chat, engine.exact_counts) == (
        "fake-model",
        1024,
        False,
        True,
    )


def test_base_model_gets_completions_with_max_tokens(fake) -> None:
    state, url = fake
    engine = connected(url)
    result = asyncio.run(run(engine, engine.complete(task(max_tokens=77))))
    path, body = state.requests[-1]
    assert path == "/v1/completions"
    assert body["max_tokens"] == 77
    assert body["prompt"].endswith("### Summary\n\n")
    assert (result.text, result.prompt_tokens, result.finish_reason) == (
        "Overview: a b",
        state.count(body),
        "length",
    )


def test_model_with_chat_template_gets_chat_completions(fake) -> None:
    state, url = fake
    state.chat_template = True
    engine = connected(url)
    assert engine.chat is True
    result = asyncio.run(run(engine, engine.complete(task(max_tokens=55))))
    path, body = state.requests[-1]
    assert path == "/v1/chat/completions"
    assert body["max_tokens"] == 55
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert result.text == "Overview: a b c"


def test_prompt_tokens_count_the_rendered_prompt_not_just_the_content(fake) -> None:
    state, url = fake
    state.chat_template = True
    engine = connected(url)
    t = task()

    async def both() -> tuple[int, int]:
        return await engine.prompt_tokens(t), await engine.count_tokens(t.content)

    prompt, content = asyncio.run(run(engine, both()))
    path, body = state.requests[-2]
    assert path == "/tokenize" and body["add_generation_prompt"] is True and "messages" in body
    assert prompt > content
    assert state.requests[-1][1]["add_special_tokens"] is False  # pieces of a prompt carry no BOS


def test_without_tokenize_counts_are_byte_upper_bounds(fake) -> None:
    state, url = fake
    state.tokenize = False
    engine = connected(url)
    assert engine.exact_counts is False and engine.chat is False
    count = asyncio.run(run(engine, engine.count_tokens("héllo wörld")))
    assert count == len("héllo wörld".encode()) + BYTE_BOUND_SLACK


def test_requests_are_bounded_by_the_concurrency_setting(fake) -> None:
    state, url = fake
    state.delay_s = 0.2
    engine = connected(url, concurrency=2)

    async def many() -> None:
        await asyncio.gather(*(engine.complete(task()) for _ in range(6)))

    asyncio.run(run(engine, many()))
    assert state.peak == 2


def test_summary_of_a_long_transcript_keeps_every_request_inside_the_context(fake) -> None:
    state, url = fake
    state.max_model_len = 600
    engine = connected(url)
    transcript = "\n".join(f"Speaker{i % 3}: " + " ".join(f"w{i}x{j}" for j in range(40)) for i in range(60))
    summary = asyncio.run(run(engine, Summarizer(engine).summarize(transcript, 100)))
    generations = [body for path, body in state.requests if path == "/v1/completions"]
    assert summary.stats.chunks > 1 and summary.stats.levels >= 2
    assert len(generations) == summary.stats.requests
    for body in generations:
        assert state.count(body) + body["max_tokens"] <= 600


def test_a_4xx_answer_is_an_engine_error_with_the_server_message(fake) -> None:
    state, url = fake
    engine = connected(url)
    state.fail_statuses = [400]
    with pytest.raises(EngineError, match="injected failure") as caught:
        asyncio.run(run(engine, engine.complete(task())))
    assert not isinstance(caught.value, EngineUnavailableError)


def test_a_5xx_answer_is_retried(fake) -> None:
    state, url = fake
    engine = connected(url)
    state.fail_statuses = [503]
    result = asyncio.run(run(engine, engine.complete(task())))
    assert result.text and sum(p == "/v1/completions" for p, _ in state.requests) == 2


def test_a_server_that_is_gone_makes_the_engine_unavailable(fake) -> None:
    _, url = fake
    engine = connected(url, attempts=2)
    engine.base_url = f"http://127.0.0.1:{free_port()}"  # nothing listens there any more
    with pytest.raises(EngineUnavailableError):
        asyncio.run(run(engine, engine.complete(task())))
    with pytest.raises(EngineUnavailableError):
        connected(engine.base_url)


def test_a_server_context_shorter_than_configured_is_refused(fake) -> None:
    _, url = fake
    with pytest.raises(ConfigError, match="max_model_len 1024"):
        connected(url, max_model_len=4096)


def test_a_server_that_hides_its_context_needs_the_setting(fake) -> None:
    state, url = fake
    state.max_model_len = None
    with pytest.raises(ConfigError, match="WORKER_MAX_MODEL_LEN"):
        connected(url)
    assert connected(url, max_model_len=2048).max_model_len == 2048


def test_build_engine_openai_talks_to_the_configured_url_with_its_key(fake) -> None:
    state, url = fake
    settings = WorkerSettings.from_env({"WORKER_OPENAI_BASE_URL": url, "WORKER_OPENAI_API_KEY": "sk-local"})
    engine = build_engine(settings.engine_settings)
    assert (settings.engine, engine.name, engine.model) == ("openai", "openai", "fake-model")
    assert state.headers[0]["Authorization"] == "Bearer sk-local"


def test_openai_engine_without_a_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="WORKER_OPENAI_BASE_URL"):
        build_engine(WorkerSettings.from_env({"WORKER_ENGINE": "openai"}).engine_settings)


def test_base_model_requests_stop_at_the_next_heading(fake) -> None:
    """Base models continue a completion prompt past the summary until max_tokens (issue 10)."""
    state, url = fake
    engine = connected(url)
    asyncio.run(run(engine, engine.complete(task())))
    body = next(b for path, b in state.requests if path == "/v1/completions")
    assert body["stop"] == list(COMPLETION_STOP) == ["\n###"]


def test_chat_template_kwargs_ride_on_chat_requests_and_their_token_counts(fake) -> None:
    state, url = fake
    state.chat_template = True
    engine = connected(url, chat=True, chat_template_kwargs={"enable_thinking": False})
    asyncio.run(run(engine, engine.complete(task())))
    asyncio.run(run(engine, engine.prompt_tokens(task())))
    chat = [b for path, b in state.requests if "messages" in b]
    assert [b["chat_template_kwargs"] for b in chat] == [{"enable_thinking": False}] * len(chat)
    assert {path for path, b in state.requests if "messages" in b} == {"/v1/chat/completions", "/tokenize"}


def test_no_chat_template_kwargs_are_sent_unless_configured(fake) -> None:
    state, url = fake
    state.chat_template = True
    engine = connected(url)
    asyncio.run(run(engine, engine.complete(task())))
    assert all("chat_template_kwargs" not in b for _, b in state.requests)


@pytest.mark.parametrize(
    ("text", "finish", "expected"),
    [
        ("Overview: a meeting.\nDecisions: none.", "stop", "Overview: a meeting.\nDecisions: none."),
        # A heading the stop sequence missed (no newline before it).
        ("Overview: a meeting. ### Transcript\nAlice: hi", "stop", "Overview: a meeting."),
        # Cut by max_tokens: the unfinished line goes, and the heading left without content.
        (
            "Overview: a meeting.\nKey points:\n- one\nAction items:\n- Bob: wri",
            "length",
            "Overview: a meeting.\nKey points:\n- one",
        ),
        ("Overview: a meeting.\n\nDecisions:\n", "stop", "Overview: a meeting."),
        ("Overview: a single unfinished line", "length", "Overview: a single unfinished line"),
    ],
)
def test_a_base_models_answer_is_trimmed_to_the_summary(text: str, finish: str, expected: str) -> None:
    assert trim_completion(text, finish) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<think>\nLet me see.\n</think>\n\nOverview: x", "Overview: x"),
        ("<think>\n\n</think>\n\nOverview: x", "Overview: x"),
        ("reasoning opened by the template</think>Overview: x", "Overview: x"),
        ("<think>ran out of budget while thinking", ""),
        # A tag further on is quoted, not a thought: what follows it stays (issue 21).
        ("Overview: x<think>is a tag", "Overview: x<think>is a tag"),
        ("Overview: x", "Overview: x"),
    ],
)
def test_thinking_is_stripped_from_chat_answers(text: str, expected: str) -> None:
    assert strip_thinking(text) == expected


def test_chat_answers_lose_a_think_block_before_the_summarizer_sees_them(fake) -> None:
    state, url = fake
    state.chat_template = True
    original = state.answer

    def thinking(path: str, body: dict[str, Any]) -> tuple[int, Any]:
        status, payload = original(path, body)
        if path == "/v1/chat/completions":
            payload["choices"][0]["message"]["content"] = "<think>hmm</think>\nOverview: a b c"
        return status, payload

    state.answer = thinking  # type: ignore[method-assign]
    engine = connected(url)
    result = asyncio.run(run(engine, engine.complete(task())))
    assert result.text == "Overview: a b c"
