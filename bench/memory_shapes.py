"""Benchmark 6: peak worker memory per transcript shape (issue 13's hostile shapes).

Each shape is decoded and summarised in this process with the extractive engine (the default, and
the one whose ranking holds per-sentence state) under `tracemalloc`: the figure is the peak of
Python allocations during the job, set against the budget of 4 × the input + 200 MB. Shapes: 200K
one-word speaker turns, one huge line, many speakers, Chinese prose without spaces.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import subprocess
import sys
import tempfile
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


def _clock(seconds: int, comma: bool = False) -> str:
    h, rest = divmod(seconds, 3600)
    return f"{h:02d}:{rest // 60:02d}:{rest % 60:02d}{',' if comma else '.'}000"


def _webvtt_cues(size: int, rng: random.Random) -> str:
    # One-word cues, a voice tag each (captioning tools' shape); a part restarts the clock.
    return "".join(
        f"{_clock(i)} --> {_clock(i + 1)}\n<v {'AB'[i % 2]}>{rng.choice(WORDS)}\n\n"
        for i in range(size // 45)
    )


def _srt_cues(size: int, rng: random.Random) -> str:
    return "".join(
        f"{i + 1}\n{_clock(i, True)} --> {_clock(i + 1, True)}\n{'AB'[i % 2]}: {rng.choice(WORDS)}\n\n"
        for i in range(size // 45)
    )


def _whisper_segments(size: int, rng: random.Random) -> str:
    # Whisper / WhisperX JSON: one-word segments with the fields the tools write, a speaker each.
    return "".join(
        f'{{"id": {i}, "start": {i}.0, "end": {i}.5, "text": " {rng.choice(WORDS)}",'
        f' "speaker": "SPEAKER_0{i % 2}"}}, '
        for i in range(size // 85)
    )


def _aws_items(size: int, rng: random.Random) -> str:
    # AWS Transcribe JSON: one item a word, with its alternative, confidence and speaker label.
    return "".join(
        f'{{"start_time": "{i}.0", "end_time": "{i}.5", "type": "pronunciation",'
        f' "alternatives": [{{"confidence": "0.99", "content": "{rng.choice(WORDS)}"}}],'
        f' "speaker_label": "spk_{i % 2}"}}, '
        for i in range(size // 150)
    )


def _words(size: int, rng: random.Random) -> str:
    # The inside of one huge cue or segment: words and single spaces, no line break.
    return " ".join(rng.choice(WORDS) for _ in range(size // 5))


def _minimal_segments(size: int, rng: random.Random) -> str:
    # Whisper JSON at its smallest: a text a segment, nothing else.
    return "".join(f'{{"text": " {rng.choice(WORDS)}"}}, ' for _ in range(size // 17))


# Sizes `make bench` runs (bytes); the cap is WORKER_MAX_TRANSCRIPT_BYTES, 64 MiB.
SIZES = (1_000_000, 16_000_000, 64_000_000)
# Shapes are written to disk in parts of this size, so the generator itself stays small.
_PART = 1_000_000

SHAPES: dict[str, Callable[[int, random.Random], str]] = {
    "one-word speaker turns": _tiny_turns,
    "one huge line": _one_huge_line,
    "many speakers": _many_speakers,
    "Chinese prose, no spaces": _chinese,
    "one-word WebVTT cues": _webvtt_cues,
    "one-word SRT cues": _srt_cues,
    "one-word Whisper JSON segments": _whisper_segments,
    "one-word AWS Transcribe JSON items": _aws_items,
    "one huge SRT cue": _words,
    "one huge WebVTT cue": _words,
    "one huge JSON-lines segment": _words,
    "minimal Whisper JSON segments": _minimal_segments,
}
# Shapes whose parts are words of one line, joined by a space.
_ONE_LINE = ("one huge line", "one huge SRT cue", "one huge WebVTT cue", "one huge JSON-lines segment")
# What a shape's file starts and ends with, around its parts.
_HEADER = {
    "one-word WebVTT cues": "WEBVTT\n\n",
    "one-word Whisper JSON segments": '{"segments": [',
    "one-word AWS Transcribe JSON items": '{"results": {"transcripts": [{"transcript": "x"}], "items": [',
    "one huge SRT cue": "1\n00:00:00,000 --> 00:00:05,000\nAlice: ",
    "one huge WebVTT cue": "WEBVTT\n\n00:00:00.000 --> 00:00:05.000\n<v Alice>",
    "one huge JSON-lines segment": '{"start": 0.0, "end": 5.0, "text": " hello."}\n{"start": 5.0, "text": "',
    "minimal Whisper JSON segments": '{"segments": [',
}
_FOOTER = {
    "one-word Whisper JSON segments": '{"start": 0.0, "text": " end."}]}',
    "one-word AWS Transcribe JSON items": '{"type": "punctuation", "alternatives": [{"content": "."}]}]}}',
    "one huge SRT cue": "\n",
    "one huge WebVTT cue": "\n",
    "one huge JSON-lines segment": '"}\n',
    "minimal Whisper JSON segments": '{"text": " end."}]}',
}


class _Download:
    """Transfers that hand over one body, as a finished download would, and keep no reference."""

    def __init__(self, data: bytes) -> None:
        self._data: bytes | None = data

    def check(self, url: str, what: str) -> None:
        return None

    async def download(self, url: str, max_bytes: int) -> bytes:
        data, self._data = self._data, None
        assert data is not None
        return data


def _job(data: bytes) -> dict[str, Any]:
    """One job through the worker's own path: `JobRunner` (decode, parse, summarise, structure)."""
    from worker.engines import ExtractiveEngine
    from worker.runner import JobRunner
    from worker.settings import WorkerSettings

    runner = JobRunner(WorkerSettings(), ExtractiveEngine(), _Download(data))  # type: ignore[arg-type]
    del data  # the runner's download owns the only reference, as a real download would
    raw = {
        "transcript_url": "https://bucket.s3.us-east-1.amazonaws.com/t.txt",
        "source": {"bucket": "b", "key": "t.txt"},
    }
    result = asyncio.run(runner.run("bench", raw))
    if result.get("status") != "ok":
        raise RuntimeError(f"job failed: {result}")
    return result


def peak(text: str) -> tuple[int, float, int]:
    """(peak bytes, seconds, output tokens) of one job on `text`, Python allocations under
    `tracemalloc` (the downloaded bytes included: they are made inside the traced span). Slow
    (~10×) but line by line: `tracemalloc.take_snapshot()` inside says where the memory goes."""
    _warm()
    tracemalloc.start()
    try:
        tick = time.perf_counter()
        result = _job(text.encode("utf-8"))
        return tracemalloc.get_traced_memory()[1], time.perf_counter() - tick, result["output_tokens"]
    finally:
        tracemalloc.stop()


def _warm() -> None:
    """Imports and the language model (~70 MiB, loaded once per process) outside the measure."""
    import worker.runner  # noqa: F401
    from worker.meeting import detect_language

    detect_language("warm up the language model")


def _status(field: str) -> int:
    with open("/proc/self/status") as status:
        return int(re.search(rf"^{field}:\s+(\d+) kB", status.read(), re.M).group(1)) * 1024  # type: ignore[union-attr]


def _child(path: str) -> None:
    """Peak RSS of one job over the process before it (interpreter, libraries, engine)."""
    _warm()
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # reset VmHWM to the current RSS
    base = _status("VmRSS")
    tick = time.perf_counter()
    with open(path, "rb") as f:
        result = _job(f.read())
    print(
        json.dumps(
            {
                "peak_bytes": _status("VmHWM") - base,
                "seconds": time.perf_counter() - tick,
                "output_tokens": result["output_tokens"],
                "chunks": result["chunks"],
            }
        )
    )


def rss_peak(shape: str, size: int) -> dict[str, Any]:
    """Write the shape to a file, run one job on it in a fresh process, return its figures."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "t.txt")
        with open(path, "wb") as f:
            rng = random.Random(5)
            written = f.write(_HEADER.get(shape, "").encode())
            while written < size:  # written in parts, so the generator stays small; ~`size` bytes
                part = SHAPES[shape](min(size - written, _PART), rng) + (" " if shape in _ONE_LINE else "")
                if not part.strip():
                    break  # less left than one line of the shape
                written += f.write(part.encode("utf-8"))
            f.write(_FOOTER.get(shape, "").encode())
        n = os.path.getsize(path)
        out = subprocess.run(
            [sys.executable, "-m", "bench.memory_shapes", path], check=True, capture_output=True, text=True
        ).stdout
        return {"bytes": n, **json.loads(out.strip().splitlines()[-1])}


def run(quick: bool = False, sizes: tuple[int, ...] | None = None) -> tuple[list[str], dict[str, Any]]:
    sizes = sizes or ((300_000,) if quick else SIZES)
    rows, raw = [], {}
    for size in sizes:
        for name in SHAPES:
            fig = rss_peak(name, size)
            budget = 4 * fig["bytes"] + 200 * 2**20
            raw[f"{name} @ {size / 1e6:g} MB"] = {**fig, "budget_bytes": budget}
            rows.append(
                [
                    name,
                    f"{fig['bytes'] / 1e6:.1f} MB",
                    f"{fig['peak_bytes'] / 2**20:.0f}",
                    f"{fig['peak_bytes'] / fig['bytes']:.1f}×",
                    f"{budget / 2**20:.0f}",
                    "yes" if fig["peak_bytes"] <= budget else "**no**",
                    f"{fig['seconds']:.1f}",
                ]
            )
    lines = [
        "## 6. Peak worker memory per transcript shape",
        "",
        "One job per shape and size through `JobRunner` with the extractive engine, each in a fresh"
        " process: peak RSS (`VmHWM`, reset before the download) over the RSS before it (interpreter,"
        " libraries, engine: ~60 MiB). Budget: 4 × input + 200 MB.",
        "",
        *table(["shape", "input", "peak MiB", "peak / input", "budget MiB", "within", "seconds"], rows),
    ]
    return lines, raw


if __name__ == "__main__":
    _child(sys.argv[1])
