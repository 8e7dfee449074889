"""Benchmark 5: the extractive engine's speed on real meetings, side by side with sumy's LexRank and
TextRank, on every QMSum meeting and on a ~120K-token transcript made by joining meetings.

Every system gets the same sentences and the same length target as in `make eval`
(`eval.systems`), so this times exactly what docs/EVAL.md scores. The joined transcript runs
each system in a fresh process (`python -m bench.extractive_speed SYSTEM`) with a time cap, because
sumy builds a dense sentence × sentence matrix in Python loops (quadratic time and memory), while
the engine's ranking is linear with a bounded selection pool.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import median, table
from eval.machine import ROOT

SYSTEMS = ("extractive", "textrank", "lexrank")
JOINED_TOKENS = 120_000
SUMMARY_WORDS = 150
CAP_S = 420


def _system(name: str) -> Any:
    from eval.systems import extractive, sumy_system

    return extractive() if name == "extractive" else sumy_system(name)


def joined(data: Path, tokens: int = JOINED_TOKENS) -> tuple[str, int, int]:
    """Meetings in name order, joined until `tokens`; returns text, tokens, meetings used."""
    from eval.data import load
    from worker.meeting import count_word_tokens

    parts, total = [], 0
    for meeting in load(data):
        parts.append(meeting.transcript)
        total += count_word_tokens(meeting.transcript)
        if total >= tokens:
            break
    return "\n".join(parts), total, len(parts)


def per_meeting(data: Path) -> dict[str, list[float]]:
    from eval.data import load

    meetings = load(data)
    systems = {name: _system(name) for name in SYSTEMS}
    seconds: dict[str, list[float]] = {name: [] for name in SYSTEMS}
    for meeting in meetings:
        for name, system in systems.items():
            tick = time.perf_counter()
            system(meeting.transcript, meeting.reference_words)
            seconds[name].append(time.perf_counter() - tick)
    return seconds


def big_run(name: str, data: Path) -> dict[str, Any]:
    """Time one system on the joined transcript in a fresh process, killed at CAP_S."""
    tick = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench.extractive_speed", name, str(data)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=CAP_S,
            check=True,
        )
    except subprocess.TimeoutExpired:
        return {"system": name, "seconds": None, "capped_at_s": CAP_S, "wall_s": time.perf_counter() - tick}
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def run(data: Path) -> tuple[list[str], dict[str, Any]]:
    from eval.systems import units

    seconds = per_meeting(data)
    text, tokens, used = joined(data)
    sentences = len(units(text))
    big = {name: big_run(name, data) for name in SYSTEMS}
    rows = []
    for name in SYSTEMS:
        values = seconds[name]
        b = big[name]
        shown = f"**{b['seconds']:.2f}**" if b["seconds"] is not None else f"> {b['capped_at_s']} (stopped)"
        rss = f"{b['rss_peak_mib']:.0f}" if b.get("rss_peak_mib") else "n/a"
        rows.append(
            [
                name if name != "extractive" else "**extractive engine (ours)**",
                f"{sum(values) / len(values):.3f}",
                f"{median(values):.3f}",
                f"{max(values):.3f}",
                shown,
                rss,
            ]
        )
    lines = [
        "## 5. Extractive engine vs sumy: time per transcript",
        "",
        f"Every system on every QMSum meeting ({len(seconds['extractive'])} meetings, 1.3K–24K words),"
        " same sentences and length target as `make eval`; then once on a transcript of"
        f" {tokens:,} tokens ({used} meetings joined, {sentences:,} sentences, {SUMMARY_WORDS}-word"
        f" target) in a fresh process each, stopped after {CAP_S} s.",
        "",
        *table(
            [
                "system",
                "mean s / meeting",
                "median s",
                "max s",
                f"s on {tokens // 1000}K tokens",
                "peak RSS MiB (joined)",
            ],
            rows,
        ),
    ]
    return lines, {"per_meeting_s": seconds, "joined": big, "joined_tokens": tokens}


def _main() -> None:
    name, data = sys.argv[1], Path(sys.argv[2])
    text, _, _ = joined(data)
    system = _system(name)
    tick = time.perf_counter()
    system(text, SUMMARY_WORDS)
    seconds = time.perf_counter() - tick
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    json.dump({"system": name, "seconds": seconds, "rss_peak_mib": rss}, sys.stdout)


if __name__ == "__main__":
    _main()
