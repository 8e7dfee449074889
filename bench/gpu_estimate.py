"""A physical-floor estimate of the GPU time one summary costs on Yarn-Mistral-7b-128k on one H100.

Used to put the worker's own overhead (download, decode, counting, planning, upload) in proportion.
It is a roofline estimate, not a measurement:

- Prefill is compute-bound: FLOPs ≈ 2·params·T (the matrix multiplies) + 2·layers·d·T² (causal
  attention: QKᵀ and A·V, each T²·d/2 multiply-adds per layer), over the H100's dense bf16 matrix
  throughput (989 TFLOP/s) at an assumed 50 % utilisation.
- Decode is memory-bound: every step reads the weights once per batch and each sequence's KV cache
  (128 KiB per token for Mistral-7B's 8 KV heads in bf16), over 3.35 TB/s at an assumed 80 %.
  The batch is capped by what fits next to the weights in 80 GB (16 GiB of KV per 128K sequence),
  so long map phases decode in waves that each re-read the weights.
- The plan mirrors `worker.summarize`: one pass if the transcript fits 131,072 tokens with its
  output budget, else chunks of at most that size (map, outputs of `out_tokens` each) and one
  reduce over the joined partial summaries. Every request is assumed to use its whole output
  budget (1,024 tokens), an upper bound for summaries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

PARAMS = 7.24e9
LAYERS = 32
ATTN_DIM = 4096  # 32 query heads × 128
WEIGHT_BYTES = 14.5e9  # bf16
KV_BYTES_PER_TOKEN = 128 * 1024  # 32 layers × 8 KV heads × 128 dims × (K, V) × 2 bytes
GPU_MEMORY_BYTES = 80e9
MATRIX_FLOPS = 989e12  # H100 SXM dense bf16
MFU = 0.5
BANDWIDTH = 3.35e12  # H100 SXM HBM3
BANDWIDTH_EFFICIENCY = 0.8
MAX_MODEL_LEN = 131_072
PROMPT_OVERHEAD = 64


@dataclass(frozen=True)
class Estimate:
    requests: int
    prefill_s: float
    decode_s: float

    @property
    def total_s(self) -> float:
        return self.prefill_s + self.decode_s


def prefill_s(tokens: float) -> float:
    flops = 2 * PARAMS * tokens + 2 * LAYERS * ATTN_DIM * tokens**2
    return flops / (MATRIX_FLOPS * MFU)


def decode_s(contexts: list[float], steps: int) -> float:
    """`steps` decode steps for sequences with these context lengths, in as few waves as fit."""
    longest = max(contexts) + steps
    fit = max(1, int((GPU_MEMORY_BYTES * 0.9 - WEIGHT_BYTES) // (longest * KV_BYTES_PER_TOKEN)))
    waves = math.ceil(len(contexts) / fit)
    kv_bytes = sum(c + steps / 2 for c in contexts) * KV_BYTES_PER_TOKEN * steps
    weight_bytes = WEIGHT_BYTES * steps * waves
    return (kv_bytes + weight_bytes) / (BANDWIDTH * BANDWIDTH_EFFICIENCY)


def estimate(input_tokens: int, out_tokens: int = 1024) -> Estimate:
    room = MAX_MODEL_LEN - PROMPT_OVERHEAD - out_tokens
    if input_tokens <= room:
        return Estimate(1, prefill_s(input_tokens + PROMPT_OVERHEAD), decode_s([input_tokens], out_tokens))
    chunks = math.ceil(input_tokens / room)
    size = input_tokens / chunks + PROMPT_OVERHEAD
    map_prefill = chunks * prefill_s(size)
    map_decode = decode_s([size] * chunks, out_tokens)
    reduce_in = chunks * out_tokens + PROMPT_OVERHEAD
    return Estimate(
        chunks + 1, map_prefill + prefill_s(reduce_in), map_decode + decode_s([reduce_in], out_tokens)
    )


DERIVATION = [
    "GPU-time estimate (roofline, not measured): Yarn-Mistral-7b-128k (7.24 B params, 32 layers, "
    "bf16 weights 14.5 GB, KV 128 KiB/token) on one H100 SXM 80 GB.",
    "Prefill: (2·params·T + 2·layers·4096·T²) FLOPs over 989 TFLOP/s dense bf16 at 50 % utilisation. "
    "Decode: per step, weights (once per batch wave) + every sequence's KV cache over 3.35 TB/s at "
    "80 %; batch capped by the KV memory left next to the weights.",
    "Plan as the worker runs it: one pass up to 131,072 tokens, else map chunks + one reduce; "
    "every request decodes its full 1,024-token budget (an upper bound).",
]
