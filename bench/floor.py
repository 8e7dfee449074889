"""`make bench-floor`: each preset's published shape as a lean torch decoder, random weights: the
floor a serving engine approaches on this GPU.

Needs only torch (vLLM cannot be installed on the lent GPU machines; torch is there). For each
preset: every layer's weights at its real shape (bf16, random), a KV cache preallocated for the
longest context, then the timings: prefill of 8K, 16K, 32K and 128K tokens in one pass (causal SDPA,
GQA, RMSNorm, SwiGLU MLP), one decode step at 16K and at 128K, batched decode steps at 32K (1, 4, 8, 16
sequences), and peak memory. Decode steps are captured in a CUDA graph when CUDA is there (eager
steps on a GPU cost 2-3x more, launch-bound). No scheduler, no sampling, no paged cache, no
quantised kernels: so a floor, not a serving figure. `--toy` runs a tiny shape at tiny contexts
on any device (the CPU test); its figures mean nothing.

    python -m bench.floor [--presets a,b] [--out docs/GPU-floor.json] [--toy]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.shapes import CONFIGS

PREFILLS = (8_192, 16_384, 32_768, 131_072)
DECODE_AT = (16_384, 131_072)
BATCHED_AT = 32_768
BATCHES = (1, 4, 8, 16)
TOY = {
    "hidden_size": 128,
    "intermediate_size": 256,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "vocab_size": 2048,
}
TOY_PREFILLS = (64, 128, 256)
TOY_DECODE_AT = (128, 256)
TOY_BATCHED_AT = 128


@dataclass
class Floor:
    preset: str
    device: str
    shape: dict[str, int]
    prefill_s: dict[int, float] = field(default_factory=dict)
    decode_ms: dict[int, float] = field(default_factory=dict)  # one sequence, by context
    batched_ms: dict[int, float] = field(default_factory=dict)  # one step, by batch size
    batched_at: int = BATCHED_AT
    peak_gib: float | None = None
    cuda_graphs: bool = False


def shape_of(name: str, toy: bool) -> dict[str, int]:
    config = {**CONFIGS[name], **(TOY if toy else {})}
    heads = int(config["num_attention_heads"])
    return {
        "hidden": int(config["hidden_size"]),
        "intermediate": int(config["intermediate_size"]),
        "layers": int(config["num_hidden_layers"]),
        "heads": heads,
        "kv_heads": int(config["num_key_value_heads"]),
        "head_dim": int(config.get("head_dim") or int(config["hidden_size"]) // heads) if not toy else 32,
        "vocab": int(config["vocab_size"]),
    }


class Decoder:
    """The published shape as plain tensors: per layer QKV, O, gate+up, down; a KV cache."""

    def __init__(self, shape: dict[str, int], max_tokens: int, batch: int, device: str) -> None:
        import torch

        self.torch = torch
        self.s = shape
        dtype = torch.bfloat16
        h, q, kv, inter = (
            shape["hidden"],
            shape["heads"] * shape["head_dim"],
            shape["kv_heads"] * shape["head_dim"],
            shape["intermediate"],
        )

        def weight(*dims: int) -> Any:
            return (torch.randn(*dims, device=device, dtype=dtype) * 0.02).contiguous()

        self.layers = [
            (weight(h, q + 2 * kv), weight(q, h), weight(h, 2 * inter), weight(inter, h))
            for _ in range(shape["layers"])
        ]
        self.embed = weight(shape["vocab"], h)
        self.head = weight(h, shape["vocab"])
        cache = (shape["layers"], batch, shape["kv_heads"], max_tokens, shape["head_dim"])
        self.k = torch.zeros(cache, device=device, dtype=dtype)
        self.v = torch.zeros(cache, device=device, dtype=dtype)

    def forward(self, tokens: Any, start: int, lengths: int | None = None) -> Any:
        """`tokens` [batch, n] at positions start.. start+n; attends to the cache up to there."""
        torch, s = self.torch, self.s
        fn = torch.nn.functional
        batch, n = tokens.shape
        x = self.embed[tokens]
        end = start + n if lengths is None else lengths
        for i, (qkv_w, o_w, up_w, down_w) in enumerate(self.layers):
            y = fn.rms_norm(x, (s["hidden"],))
            qkv = y @ qkv_w
            q_dim, kv_dim = s["heads"] * s["head_dim"], s["kv_heads"] * s["head_dim"]
            q = qkv[..., :q_dim].view(batch, n, s["heads"], s["head_dim"]).transpose(1, 2)
            k = qkv[..., q_dim : q_dim + kv_dim].view(batch, n, s["kv_heads"], s["head_dim"]).transpose(1, 2)
            v = qkv[..., q_dim + kv_dim :].view(batch, n, s["kv_heads"], s["head_dim"]).transpose(1, 2)
            self.k[i, :batch, :, start : start + n] = k
            self.v[i, :batch, :, start : start + n] = v
            keys, values = self.k[i, :batch, :, :end], self.v[i, :batch, :, :end]
            attn = fn.scaled_dot_product_attention(q, keys, values, is_causal=n > 1, enable_gqa=True)
            x = x + attn.transpose(1, 2).reshape(batch, n, q_dim) @ o_w
            gate, up = (fn.rms_norm(x, (s["hidden"],)) @ up_w).chunk(2, dim=-1)
            x = x + (fn.silu(gate) * up) @ down_w
        return fn.rms_norm(x[:, -1], (s["hidden"],)) @ self.head


def timed(torch: Any, device: str, run: Callable[[], Any], repeat: int = 1) -> float:
    def sync() -> None:
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    run()  # warm-up: kernels chosen, allocator settled
    sync()
    started = time.perf_counter()
    for _ in range(repeat):
        run()
    sync()
    return (time.perf_counter() - started) / repeat


def decode_step(torch: Any, device: str, model: Decoder, batch: int, context: int) -> tuple[float, bool]:
    """Seconds of one decode step of `batch` sequences at `context`; graph-captured on CUDA."""
    token = torch.zeros((batch, 1), dtype=torch.long, device=device)

    def step() -> Any:
        return model.forward(token, context - 1)

    if not device.startswith("cuda"):
        return timed(torch, device, step, repeat=3), False
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        step()
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        step()
    return timed(torch, device, graph.replay, repeat=20), True


def measure(name: str, device: str, toy: bool) -> Floor:
    import torch

    shape = shape_of(name, toy)
    prefills = TOY_PREFILLS if toy else PREFILLS
    decode_at, batched_at = (TOY_DECODE_AT, TOY_BATCHED_AT) if toy else (DECODE_AT, BATCHED_AT)
    floor = Floor(name, device, shape, batched_at=batched_at)
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    with torch.inference_mode():
        model = Decoder(shape, max(*prefills, *decode_at), 1, device)
        for length in prefills:
            ids = torch.zeros((1, length), dtype=torch.long, device=device)
            floor.prefill_s[length] = timed(torch, device, lambda ids=ids, m=model: m.forward(ids, 0))
        for context in decode_at:
            seconds, floor.cuda_graphs = decode_step(torch, device, model, 1, context)
            floor.decode_ms[context] = seconds * 1000
        if device.startswith("cuda"):
            floor.peak_gib = torch.cuda.max_memory_allocated() / 2**30
        del model
        batched = Decoder(shape, batched_at, max(BATCHES), device)
        for batch in BATCHES:
            floor.batched_ms[batch] = decode_step(torch, device, batched, batch, batched_at)[0] * 1000
        del batched
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    return floor


def tokens(n: int) -> str:
    return f"{n // 1024}K" if n >= 1024 else str(n)


def render(floors: list[Floor]) -> str:
    first = floors[0]
    lines = [
        f"| preset | prefill {' / '.join(tokens(t) for t in first.prefill_s)} (s) "
        f"| decode step at {' / '.join(tokens(t) for t in first.decode_ms)} (ms) "
        f"| decode steps at {tokens(first.batched_at)}, ms (batch) | peak GiB |",
        "|---|---|---|---|---|",
    ]
    for f in floors:
        prefill = " / ".join(f"{s:.3g}" for s in f.prefill_s.values())
        batched = ", ".join(f"{ms:.3g} ({b})" for b, ms in f.batched_ms.items())
        peak = f"{f.peak_gib:.1f}" if f.peak_gib is not None else "—"
        decode = " / ".join(f"{ms:.3g}" for ms in f.decode_ms.values())
        lines.append(f"| {f.preset} | {prefill} | {decode} | {batched} | {peak} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--presets", default=",".join(CONFIGS), help="comma-separated preset names")
    parser.add_argument("--out", type=Path, help="also write the figures here, as JSON")
    parser.add_argument("--toy", action="store_true", help="a tiny shape at tiny contexts: the CPU test")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.presets.split(",") if n.strip()]
    unknown = [n for n in names if n not in CONFIGS]
    if unknown or not names:
        parser.error(f"--presets: no real shape for {unknown or names}; known: {', '.join(CONFIGS)}")
    try:
        import torch
    except ImportError:
        print(
            "bench.floor needs torch (python -m bench.floor with an interpreter that has it)", file=sys.stderr
        )
        return 2
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu" and not args.toy:
        print(
            "no CUDA device: real shapes at 128K need a GPU (use --toy to check the plumbing)",
            file=sys.stderr,
        )
        return 2
    gpu = torch.cuda.get_device_name(0) if device == "cuda" else platform.processor() or "cpu"
    floors = []
    for name in names:
        floors.append(measure(name, device, args.toy))
        print(render(floors[-1:]).splitlines()[-1], flush=True)
    print(f"\n{gpu}, torch {torch.__version__}" + (" (toy shape: not results)" if args.toy else ""))
    print(render(floors))
    if args.out:
        document = {
            "device": gpu,
            "torch": torch.__version__,
            "toy": args.toy,
            "floors": [asdict(f) for f in floors],
        }
        args.out.write_text(json.dumps(document, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
