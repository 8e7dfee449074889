"""What a job cost: the seconds it held the worker, times the price per second of the GPU it ran on.

The GPU's name comes from `WORKER_GPU` when set, else `nvidia-smi` (asked once per process), else
`cpu` (a local run). The price per second is `WORKER_PRICE_PER_S` when set (your negotiated rate,
another provider), else RunPod's published serverless flex price for that GPU (`PRICES`, with the
date it was read: `PRICE_SOURCE`) times the GPUs the worker sees (RunPod bills each GPU of a
worker); a GPU not in the table (matched as a whole model name: a GH200 is no H200), and the CPU,
are priced 0 and say so.
Seconds are the job's wall time on the worker (`timings.total_s`), the time RunPod bills while the
job runs; a worker's start and idle time belong to no job and are not counted here.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from contract.metadata import Cost
from worker.engines import nvidia_smi

# RunPod serverless flex prices, USD per second (runpod docs "serverless pricing").
PRICE_SOURCE = "runpod docs serverless pricing, checked 2026-12-04"
PRICES: dict[str, float] = {
    "A6000": 0.00034,
    "L40S": 0.00053,
    "A100": 0.00076,
    "H100": 0.00116,
    "H200": 0.00155,
    "B200": 0.00240,
}
CPU = "cpu"


@dataclass(frozen=True)
class Pricing:
    gpu: str
    price_per_s: float
    source: str

    def cost(self, seconds: float) -> Cost:
        return {
            "seconds": round(seconds, 4),
            "gpu": self.gpu,
            "price_per_s": self.price_per_s,
            "price_source": self.source,
            "usd": round(seconds * self.price_per_s, 6),
        }


def pricing(
    gpu: str | None = None, price_per_s: float | None = None, names: list[str] | None = None
) -> Pricing:
    """The pricing of this worker: the settings' GPU name and price when given, else detected.

    RunPod bills a worker for each GPU it holds, so a listed price is multiplied by the number of
    GPUs the worker sees (`names`: nvidia-smi's, asked when not given). A price from the settings is
    the worker's own rate and is taken as it is."""
    seen = gpu_names() if names is None else names
    name = gpu or (seen[0] if seen else CPU)
    count = max(len(seen), 1)
    if price_per_s is not None:
        return Pricing(name, price_per_s, "WORKER_PRICE_PER_S")
    listed = next(
        (price for model, price in PRICES.items() if re.search(rf"\b{model}\b", name.upper())), None
    )
    if listed is not None:
        return Pricing(f"{count} x {name}" if count > 1 else name, listed * count, PRICE_SOURCE)
    if name == CPU:
        return Pricing(name, 0.0, "no GPU: not priced (set WORKER_PRICE_PER_S to price CPU time)")
    return Pricing(name, 0.0, f"{name!r} is not in the price table: set WORKER_PRICE_PER_S")


@functools.cache
def _detected() -> tuple[str, ...]:
    return tuple(nvidia_smi("name"))


def gpu_names() -> list[str]:
    """The name of each GPU this worker sees, as `nvidia-smi` reports it (`NVIDIA H200`), asked
    once per process; empty without one."""
    return list(_detected())
