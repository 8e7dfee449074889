"""Seconds and dollars per summary, per preset and GPU: the README's cost table, computed here.

The measured figures are this project's own `make bench-floor` run on one H200
(`docs/GPU-floor.json`: random bf16 weights, plain torch, SDPA flash, CUDA graphs; docs/GPU-floor.md),
and, where that run has no figure (16K prefill and decode: the benchmark measures them since), the
reference floor of `../shared/DESIGN.md` §9, measured the same way on an H200, quoted as it is. A
later `make bench-floor ARGS="--out docs/GPU-floor.json"` replaces the quotes it covers. Everything else
is derived, and the README says which:

- a summary is one pass: the transcript's prefill, then 1,024 decode steps at its context;
- four at once: four prefills one after another (compute-bound, nothing shared), and 1,024
  decode steps of a batch of four; at 16K the batched step measured at 32K is used (an upper
  bound: less KV to read); at 128K the batched step is the single step plus three more sequences'
  KV cache read at the measured copy bandwidth (4.12 TB/s, DESIGN.md §9), an estimate;
- H100 and A100 80GB are scaled from the H200: prefill by dense bf16 FLOP/s, decode by HBM
  bandwidth (NVIDIA datasheets, SXM parts), estimates;
- whether it fits is the worker's own memory planner (`worker.engines.memory`), bf16 KV;
- dollars are RunPod's serverless flex per-second prices (runpod/docs, DESIGN.md §9).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from worker.engines import PRESETS, MemoryPlan, kv_bytes_per_token

SUMMARY_TOKENS = 1024
SHORT, LONG, BATCHED_AT = 16_384, 131_072, 32_768
H200_COPY_BYTES_S = 4.12e12  # measured in the same run


@dataclass(frozen=True)
class Gpu:
    name: str
    memory_gib: float
    price_s: float  # RunPod serverless flex, $ per second
    flops: float  # dense bf16, datasheet
    bandwidth: float  # HBM bytes/s, datasheet


GPUS = (
    Gpu("H200", 141, 0.00155, 989e12, 4.8e12),
    Gpu("H100", 80, 0.00116, 989e12, 3.35e12),
    Gpu("A100 80GB", 80, 0.00076, 312e12, 2.039e12),
)
MEASURED = GPUS[0]


MEASURED_FLOOR = Path(__file__).resolve().parent.parent / "docs" / "GPU-floor.json"


@dataclass(frozen=True)
class H200Floor:
    """One H200: prefill seconds by tokens, decode ms per step by context, a step of four at 32K."""

    prefill_s: dict[int, float]
    decode_ms: dict[int, float]  # one sequence
    batched_ms_at_32k: float | None = None  # a step of four sequences at 32K


# DESIGN.md §9's reference run, for what docs/GPU-floor.json does not measure.
QUOTED = {
    "qwen2.5-14b-instruct-1m": H200Floor({SHORT: 1.12, LONG: 22.5}, {SHORT: 11.9, LONG: 17.1}, 17.9),
    "qwen2.5-7b-instruct-1m": H200Floor({SHORT: 0.54, LONG: 9.8}, {SHORT: 6.4, LONG: 7.9}, 8.1),
    "llama-3.1-8b-instruct": H200Floor({LONG: 12.0}, {LONG: 10.3}),
    "qwen3-8b-yarn-128k": H200Floor({LONG: 12.9}, {LONG: 11.0}),
    "yarn-mistral-7b-128k": H200Floor({LONG: 12.1}, {LONG: 10.1}),
}


def measured_floors(path: Path = MEASURED_FLOOR) -> dict[str, H200Floor]:
    """The quotes, each figure replaced by this project's own H200 run where it measured one."""
    run = json.loads(path.read_text()) if path.is_file() else {"floors": []}
    own = {f["preset"]: f for f in run["floors"]} if "H200" in str(run.get("device")) else {}
    out = {}
    for name, quoted in QUOTED.items():
        mine = own.get(name, {})
        prefill = {**quoted.prefill_s, **{int(k): v for k, v in mine.get("prefill_s", {}).items()}}
        decode = {**quoted.decode_ms, **{int(k): v for k, v in mine.get("decode_ms", {}).items()}}
        batched = mine.get("batched_ms", {}).get("4", quoted.batched_ms_at_32k)
        out[name] = H200Floor(prefill, decode, batched)
    return out


FLOORS = measured_floors()


def _fits(preset_name: str, gpu: Gpu, tokens: int) -> bool:
    preset = PRESETS[preset_name]
    assert preset.shape is not None
    plan = MemoryPlan(preset.shape, "bfloat16", "auto", tokens, 1, gpu.memory_gib)
    return replace(plan, max_model_len=tokens).fits


def seconds(preset_name: str, gpu: Gpu, context: int, jobs: int) -> float | None:
    """GPU seconds per summary of a `context`-token transcript, `jobs` at once; None when unknown
    or when it does not fit."""
    floor = FLOORS[preset_name]
    if context not in floor.prefill_s or not _fits(preset_name, gpu, context * jobs):
        return None
    prefill = floor.prefill_s[context] * MEASURED.flops / gpu.flops
    if jobs == 1:
        step_ms = floor.decode_ms[context]
    elif context == SHORT:
        if floor.batched_ms_at_32k is None:
            return None
        step_ms = floor.batched_ms_at_32k
    else:
        preset = PRESETS[preset_name]
        assert preset.shape is not None
        kv_read = kv_bytes_per_token(preset.shape, "bfloat16", "auto") * context / H200_COPY_BYTES_S
        step_ms = floor.decode_ms[context] + (jobs - 1) * kv_read * 1000
    decode = SUMMARY_TOKENS * step_ms / 1000 * MEASURED.bandwidth / gpu.bandwidth
    return (jobs * prefill + decode) / jobs


def cell(preset_name: str, gpu: Gpu, context: int, jobs: int) -> str:
    value = seconds(preset_name, gpu, context, jobs)
    if value is None:
        fits = _fits(preset_name, gpu, context * jobs)
        return "does not fit" if not fits else "—"
    estimated = gpu is not MEASURED or jobs > 1
    bound = "≤ " if jobs > 1 and context == SHORT else ""
    return f"{bound}{value:.1f} s · ${value * gpu.price_s:.3f}" + (" (est.)" if estimated else "")


def render() -> str:
    lines = [
        "| preset | GPU ($/s) | 16K, one job | 16K, four at once | 128K, one job | 128K, four at once |",
        "|---|---|---|---|---|---|",
    ]
    for name in FLOORS:
        for gpu in GPUS:
            cells = [cell(name, gpu, context, jobs) for context in (SHORT, LONG) for jobs in (1, 4)]
            lines.append(f"| `{name}` | {gpu.name} (${gpu.price_s}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render())
