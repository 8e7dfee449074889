"""What the numbers were measured on: CPU, cores, memory, OS, Python, date, git commit.

Every result file (docs/BENCHMARKS.md, docs/EVAL.md) opens with this, because a timing without its
machine is not a result. Reads /proc and `git` only; never fails the run for a missing detail.
"""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    return "unknown"


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=5
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    commit = out.stdout.strip() or "unknown"
    return commit + (" (with uncommitted changes)" if dirty.stdout.strip() else "")


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def describe() -> list[str]:
    """Markdown bullet lines describing the machine and the run."""
    return [
        f"- Date: {now()}",
        f"- Machine: {_cpu_model()}, {os.cpu_count()} cores, {_memory_gib()} RAM, "
        + ("NVIDIA GPU present (unused here)" if Path("/dev/nvidia0").exists() else "no GPU"),
        f"- OS / Python: {platform.system()} {platform.release()}, Python {platform.python_version()}",
        f"- Code: commit {_commit()}",
        f"- Load average when the run started: {_load()} (other work on the machine skews timings)",
    ]


def _load() -> str:
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg()) + " (1 / 5 / 15 min)"
    except OSError:
        return "unknown"
