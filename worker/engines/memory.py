"""GPU memory planner: does a model at a given context fit, and if not, what would make it fit.

From the model's shape (layers, KV heads, head dim, weight bytes), the KV-cache dtype,
`max_model_len`, `tensor_parallel_size` and one GPU's memory × vLLM's `gpu_memory_utilization`,
it computes what vLLM must hold per GPU: the weights' share, the KV cache of one full-length
sequence (vLLM refuses to start without room for at least that), and a fixed allowance for
activations and the CUDA runtime. When that does not fit it proposes, in order: fp8 KV cache, the
longest context that fits, and the fewest GPUs (tensor parallel) that fit.

It never talks to a GPU itself: `detect_gpu_memory_gib` asks `nvidia-smi`, and callers pass the
figure in (or a setting does), so the arithmetic is pure and tested against the published configs' figures.
Units: GiB = 2**30 bytes; "an 80 GB GPU" is an 80 GiB H100/A100 as `nvidia-smi` reports it.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, replace

GIB = 1024**3
KIB = 1024
# Activations (chunked prefill), the CUDA context and allocator slack: a deliberate round figure.
RUNTIME_OVERHEAD_GIB = 2.0
DEFAULT_UTILIZATION = 0.90
CONTEXT_STEP = 1024
_DTYPE_BYTES = {"bfloat16": 2, "float16": 2, "half": 2, "float32": 4, "float": 4, "auto": 2}
_FP8 = ("fp8", "fp8_e4m3", "fp8_e5m2", "fp8_inc", "fp8_ds_mla")


@dataclass(frozen=True)
class ModelShape:
    """What the KV cache and weights cost: read from the checkpoint's config.json and file sizes."""

    layers: int
    kv_heads: int
    head_dim: int
    weight_bytes: int


def kv_bytes_per_element(dtype: str, kv_cache_dtype: str) -> int:
    if kv_cache_dtype in _FP8:
        return 1
    if kv_cache_dtype not in ("auto", *_DTYPE_BYTES):
        raise ValueError(f"unknown kv_cache_dtype {kv_cache_dtype!r}")
    return _DTYPE_BYTES[dtype if kv_cache_dtype == "auto" else kv_cache_dtype]


def kv_bytes_per_token(
    shape: ModelShape, dtype: str, kv_cache_dtype: str, tensor_parallel_size: int = 1
) -> int:
    """K and V for every layer, on one GPU. KV heads split across GPUs (replicated when fewer)."""
    heads = max(shape.kv_heads // tensor_parallel_size, 1) if tensor_parallel_size > 1 else shape.kv_heads
    return 2 * shape.layers * heads * shape.head_dim * kv_bytes_per_element(dtype, kv_cache_dtype)


@dataclass(frozen=True)
class MemoryPlan:
    shape: ModelShape
    dtype: str
    kv_cache_dtype: str
    max_model_len: int
    tensor_parallel_size: int
    gpu_memory_gib: float
    utilization: float = DEFAULT_UTILIZATION
    overhead_gib: float = RUNTIME_OVERHEAD_GIB

    @property
    def kv_per_token(self) -> int:
        return kv_bytes_per_token(self.shape, self.dtype, self.kv_cache_dtype, self.tensor_parallel_size)

    @property
    def kv_cache_gib(self) -> float:
        """KV cache of one `max_model_len` sequence on one GPU."""
        return self.kv_per_token * self.max_model_len / GIB

    @property
    def weights_gib(self) -> float:
        return self.shape.weight_bytes / self.tensor_parallel_size / GIB

    @property
    def needed_gib(self) -> float:
        return self.weights_gib + self.kv_cache_gib + self.overhead_gib

    @property
    def usable_gib(self) -> float:
        return self.gpu_memory_gib * self.utilization

    @property
    def fits(self) -> bool:
        return self.needed_gib <= self.usable_gib

    def longest_context(self) -> int:
        """The longest `max_model_len` (a multiple of 1,024) that fits as configured; 0 if none."""
        room = (self.usable_gib - self.weights_gib - self.overhead_gib) * GIB
        tokens = int(room // self.kv_per_token) if room > 0 else 0
        return min(tokens - tokens % CONTEXT_STEP, self.max_model_len)

    def describe(self) -> str:
        per_token = self.kv_per_token / KIB
        return (
            f"weights {self.weights_gib:.1f} GiB + KV cache {self.kv_cache_gib:.1f} GiB "
            f"({self.max_model_len:,} tokens × {per_token:g} KiB/token, kv_cache_dtype="
            f"{self.kv_cache_dtype}) + overhead {self.overhead_gib:.1f} GiB = {self.needed_gib:.1f} GiB "
            f"per GPU; usable {self.usable_gib:.1f} GiB ({self.utilization:.0%} of "
            f"{self.gpu_memory_gib:g} GiB) × {self.tensor_parallel_size} GPU(s)"
        )

    def suggestions(self) -> list[str]:
        """What would make it fit, each checked with the same arithmetic; empty when it fits."""
        if self.fits:
            return []
        out = []
        if self.kv_cache_dtype not in _FP8:
            fp8 = replace(self, kv_cache_dtype="fp8")
            if fp8.fits:
                total = f"{fp8.needed_gib:.1f} GiB in all"
                out.append(f"kv_cache_dtype=fp8 (KV cache {fp8.kv_cache_gib:.1f} GiB, {total})")
        longest = self.longest_context()
        if longest >= CONTEXT_STEP:
            out.append(f"max_model_len={longest} (the longest context that fits)")
        for tp in (2, 4, 8):
            if tp > self.tensor_parallel_size and replace(self, tensor_parallel_size=tp).fits:
                out.append(f"tensor_parallel_size={tp} ({tp} GPUs of {self.gpu_memory_gib:g} GiB)")
                break
        if not out:
            out.append("a larger GPU or a smaller model")
        return out

    def message(self, name: str) -> str:
        if self.fits:
            return f"{name} fits: {self.describe()}"
        return f"{name} does not fit: {self.describe()}. To fit, set one of: " + "; ".join(self.suggestions())


def nvidia_smi(field: str, units: bool = True) -> list[str]:
    """One `nvidia-smi --query-gpu` field, a line per GPU; empty without NVIDIA GPUs or an answer."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    fmt = "csv,noheader" if units else "csv,noheader,nounits"
    try:
        out = subprocess.run(  # noqa: S603 (fixed arguments)
            [smi, f"--query-gpu={field}", f"--format={fmt}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


def detect_gpu_memory_gib() -> float | None:
    """The smallest GPU's total memory as `nvidia-smi` reports it, or None without NVIDIA GPUs."""
    sizes = [
        float(line) for line in nvidia_smi("memory.total", units=False) if line.replace(".", "", 1).isdigit()
    ]
    return min(sizes) / 1024 if sizes else None
