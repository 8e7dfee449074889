"""Benchmark 6: peak worker memory per transcript shape (issue 13's hostile shapes).

Each shape is decoded and summarised in this process with the extractive engine (the default, and
the one whose ranking holds per-sentence state) under `tracemalloc`: the figure is the peak of
Python allocations during the job, set against the budget of 4 × the input + 200 MB. Shapes: 200K
one-word speaker turns, one huge line, many speakers, Chinese prose without spaces.
"""

from __future__ import annotations

import asyncio
import random
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from bench.common import table

WORDS = [
    "yes",
    "no",
    "ok",
    "right",
    "sure",
    "budget",
    "ship",
    "friday",
    "docs",
    "bug",
    "fix",
    "plan",
    "review",
]
CHINESE = "我们决定周五发布新版本预算已经批准了李娜会在周四之前更新文档客户反馈很好需要修复支付问题"


def _tiny_turns(size: int, rng: random.Random) -> str:
    return "".join(f"{'AB'[i % 2]}: {rng.choice(WORDS)}\n" for i in range(size // 7))


def _one_huge_line(size: int, rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(size // 5))


def _many_speakers(size: int, rng: random.Random) -> str:
    return "".join(
        f"Speaker {i % 5000}: {' '.join(rng.choice(WORDS) for _ in range(6))}.\n" for i in range(size // 45)
    )


def _chinese(size: int, rng: random.Random) -> str:
    return "".join("".join(rng.choice(CHINESE) for _ in range(20)) + "。" for _ in range(size // 63))


SHAPES: dict[str, Callable[[int, random.Random], str]] = {
    "one-word speaker turns": _tiny_turns,
    "one huge line": _one_huge_line,
    "many speakers": _many_speakers,
    "Chinese prose, no spaces": _chinese,
}


def peak(text: str) -> tuple[int, float, int]:
    """(peak bytes, seconds, output tokens) of decoding and summarising `text`."""
    from worker.engines import ExtractiveEngine
    from worker.summarize import Summarizer
    from worker.transcript import decode

    data = text.encode("utf-8")
    tracemalloc.start()
    try:
        tick = time.perf_counter()
        decoded = decode(data)
        summary = asyncio.run(Summarizer(ExtractiveEngine()).summarize(decoded.text, 1024))
        return tracemalloc.get_traced_memory()[1], time.perf_counter() - tick, summary.stats.output_tokens
    finally:
        tracemalloc.stop()


def run(quick: bool = False) -> tuple[list[str], dict[str, Any]]:
    size = 100_000 if quick else 1_200_000
    rows, raw = [], {}
    for name, make in SHAPES.items():
        data = make(size, random.Random(5)).encode("utf-8")
        top, seconds, tokens = peak(data.decode("utf-8"))
        budget = 4 * len(data) + 200 * 2**20
        raw[name] = {"bytes": len(data), "peak_bytes": top, "seconds": seconds, "output_tokens": tokens}
        rows.append(
            [
                name,
                f"{len(data) / 1e6:.2f} MB",
                f"{top / 2**20:.0f}",
                f"{top / len(data):.0f}×",
                f"{budget / 2**20:.0f}",
                f"{seconds:.1f}",
            ]
        )
    lines = [
        "## 6. Peak worker memory per transcript shape",
        "",
        "Decode + summarise with the extractive engine under `tracemalloc` (Python allocations; the"
        " process adds ~60 MiB of interpreter and libraries). Budget: 4 × input + 200 MB.",
        "",
        *table(["shape", "input", "peak MiB", "peak / input", "budget MiB", "seconds"], rows),
    ]
    return lines, raw
