"""One pass or map → reduce, against a fake engine with recorded history."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.fakes import FakeEngine
from worker.errors import EngineError, TranscriptError
from worker.summarize import EMPTY_RETRY_TEMPERATURE, SAFETY_TOKENS, Summarizer


def _meeting(turns: int, words_per_turn: int = 30) -> str:
    return "\n".join(
        f"Speaker{i % 3}: " + " ".join(f"t{i}w{j}" for j in range(words_per_turn)) + "." for i in range(turns)
    )


def _run(engine: FakeEngine, text: str, max_tokens: int = 100, updates: list | None = None):  # type: ignore[no-untyped-def]
    progress = updates.append if updates is not None else None
    return asyncio.run(Summarizer(engine, progress).summarize(text, max_tokens))


def test_short_transcript_is_one_request() -> None:
    engine = FakeEngine(max_model_len=400)
    summary = _run(engine, _meeting(3))
    assert [t.kind for t in engine.history] == ["single"]
    assert summary.stats.chunks == 1 and summary.stats.levels == 1


def test_long_transcript_is_mapped_then_reduced_within_budget() -> None:
    engine = FakeEngine(max_model_len=400)
    updates: list = []
    summary = _run(engine, _meeting(60), max_tokens=100, updates=updates)
    kinds = [t.kind for t in engine.history]
    assert kinds.count("map") == summary.stats.chunks > 1
    assert kinds[-1] == "reduce"
    for task in engine.history:
        assert len(task.content.split()) + 20 + task.max_tokens + SAFETY_TOKENS <= engine.max_model_len
    assert summary.stats.max_request_tokens <= engine.max_model_len
    assert updates[-1]["done"] == updates[-1]["total"]
    assert summary.stats.tokens_per_level[0] > summary.stats.tokens_per_level[-1]


def test_map_chunks_are_whole_utterances_in_order() -> None:
    engine = FakeEngine(max_model_len=400)
    _run(engine, _meeting(40), max_tokens=100)
    maps = [t for t in engine.history if t.kind == "map"]
    lines = [line for t in maps for line in t.content.split("\n")]
    assert lines == _meeting(40).split("\n")
    assert [t.part for t in maps] == list(range(1, len(maps) + 1))
    assert {t.parts for t in maps} == {len(maps)}


def test_reduce_recurses_while_partials_do_not_fit() -> None:
    engine = FakeEngine(max_model_len=400)
    summary = _run(engine, _meeting(400), max_tokens=100)
    assert summary.stats.levels >= 3


def test_a_single_overlong_utterance_is_split_on_sentences_then_words() -> None:
    engine = FakeEngine(max_model_len=300)
    monologue = "Alice: " + " ".join(f"word{i}" for i in range(2000))
    summary = _run(engine, monologue, max_tokens=50)
    assert summary.stats.chunks > 5


def test_partials_that_do_not_shrink_fail_loudly() -> None:
    engine = FakeEngine(max_model_len=400)
    # A model that rambles to its full grant, which is larger than the chunks it summarises.
    engine.enqueue(*["x " * 200] * 50)
    with pytest.raises(EngineError, match="did not shrink"):
        _run(engine, _meeting(60), max_tokens=200)


def test_context_too_small_for_any_content_is_an_engine_error() -> None:
    # Instructions that take most of the context leave no room for the transcript beside a grant.
    with pytest.raises(EngineError, match="leaves no room"):
        _run(FakeEngine(max_model_len=150, prompt_overhead=60), _meeting(60), max_tokens=60)


def test_labels_without_speech_are_a_transcript_error() -> None:
    with pytest.raises(TranscriptError, match="no speech"):
        _run(FakeEngine(), "Alice:\nBob:")


def test_an_empty_model_answer_is_asked_again_once_at_a_warmer_temperature() -> None:
    # A base model whose first token is a `###` heading, or a thinking model that spent its budget
    # inside `<think>`, answers nothing once its answer is cleaned; a sampled retry usually does not.
    engine = FakeEngine()
    engine.enqueue("   ", "The launch moves to Friday.")
    summary = _run(engine, _meeting(2))
    assert summary.text == "The launch moves to Friday."
    first, again = engine.history
    assert (again.kind, again.content, again.max_tokens) == (first.kind, first.content, first.max_tokens)
    assert again.options.temperature >= EMPTY_RETRY_TEMPERATURE > first.options.temperature
    assert summary.stats.empty_retries == 1
    assert summary.stats.requests == 2


def test_an_empty_map_answer_is_asked_again_too() -> None:
    engine = FakeEngine(max_model_len=400)
    engine.enqueue("")
    summary = _run(engine, _meeting(60), max_tokens=100)
    assert summary.stats.empty_retries == 1
    maps = [t for t in engine.history if t.kind == "map"]
    assert len(maps) == summary.stats.chunks + 1  # the first chunk twice


def test_a_model_that_answers_nothing_twice_is_an_engine_error() -> None:
    engine = FakeEngine()
    engine.enqueue("   ", "\n")
    with pytest.raises(EngineError, match="empty summary"):
        _run(engine, _meeting(2))
    assert len(engine.history) == 2
