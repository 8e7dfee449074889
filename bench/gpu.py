"""`make bench-gpu`: each preset family at its real shape on a CUDA GPU, with dummy weights.

For each chosen preset it writes the model's published config.json (the shapes below, from each
model's Hugging Face config; no weights, no tokenizer: `--load-format dummy --skip-tokenizer-init`,
prompts are token ids), starts `vllm serve` with the preset's own flags through the worker's
supervisor, and measures: server start; prefill of 32K and 128K tokens (a request for 1 token);
decode ms per token at 4K and 128K context (256 and 64 tokens, prefill subtracted); peak GPU memory
(`nvidia-smi`) and vLLM's own weights / KV-cache figures against the memory planner's; four
concurrent 32K-token jobs. Beside each figure: its roofline floor (dense bf16 matrix throughput for
prefill, HBM bandwidth for decode) where the GPU is known. It writes docs/GPU.md. Without CUDA
(`nvidia-smi` missing or failing) it says so and exits 2. Dummy weights generate noise at the real
speed: only the shape matters to the timings.

    python -m bench.gpu [--presets a,b] [--vllm-python PY] [--out docs/GPU.md] [--write-configs DIR]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import json
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field, replace
from pathlib import Path

from bench.shapes import CONFIGS
from worker.engines import PRESETS, MemoryPlan, Preset, ServerSpec, VllmServer, kv_bytes_per_token

ROOT = Path(__file__).resolve().parent.parent
# One preset per architecture family; the others share a family's shape class.
DEFAULT_PRESETS = ("qwen2.5-7b-instruct-1m", "llama-3.1-8b-instruct", "qwen3-8b-yarn-128k")
# Dense bf16 matrix FLOP/s and HBM bytes/s by GPU name (NVIDIA datasheets, SXM parts).
PEAKS = {"H200": (989e12, 4.8e12), "H100": (989e12, 3.35e12), "A100": (312e12, 2.0e12)}
PREFILLS = (32_768, 131_072)
DECODES = ((4096, 256), (131_072, 64))
CONCURRENT = (4, 32_768, 128)


@dataclass
class Result:
    preset: str
    start_s: float = 0.0
    prefill_s: dict[int, float] = field(default_factory=dict)
    decode_ms: dict[int, float] = field(default_factory=dict)
    concurrent_s: float = 0.0
    peak_gib: float = 0.0
    vllm_weights_gib: float | None = None
    vllm_kv_gib: float | None = None
    planned_gib: float = 0.0
    error: str | None = None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default=",".join(DEFAULT_PRESETS), help="comma-separated preset names")
    parser.add_argument("--vllm-python", default=sys.executable, help="the interpreter that has vLLM")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "GPU.md")
    parser.add_argument("--utilization", type=float, default=0.90)
    parser.add_argument("--write-configs", type=Path, help="only write each preset's config.json here")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.presets.split(",") if n.strip()]
    unknown = [n for n in names if n not in CONFIGS]
    if unknown or not names:
        parser.error(f"--presets: no real-shape config for {unknown or names}; known: {', '.join(CONFIGS)}")
    args.names = names
    return args


def write_config(name: str, folder: Path) -> Preset:
    """The model's published config.json in `folder`, and the preset pointed at that folder."""
    folder.mkdir(parents=True, exist_ok=True)
    config = {**CONFIGS[name], "torch_dtype": "bfloat16"}
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    preset = PRESETS[name]
    return replace(preset, model=str(folder.resolve()))


def server_args(preset: Preset, utilization: float) -> list[str]:
    return [
        *preset.vllm_args(),
        "--load-format",
        "dummy",
        "--skip-tokenizer-init",
        "--gpu-memory-utilization",
        str(utilization),
    ]


def gpu_info() -> tuple[str, float] | None:
    """(name, total GiB) of GPU 0, or None without a working nvidia-smi."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    try:
        out = subprocess.run(
            [smi, "--query-gpu=name,memory.total", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.strip()
        name, total = out.splitlines()[0].rsplit(",", 1)
        return name.strip(), float(total) / 1024
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def used_gib() -> float:
    out = subprocess.run(
        ["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    ).stdout.split()
    return float(out[0]) / 1024 if out else 0.0


def complete(base_url: str, model: str, tokens: int, max_tokens: int) -> float:
    """Seconds for one request of `tokens` prompt token ids writing exactly `max_tokens`."""
    body = {
        "model": model,
        "prompt": [100 + i % 20_000 for i in range(tokens)],
        "max_tokens": max_tokens,
        "min_tokens": max_tokens,
        "ignore_eos": True,
        "temperature": 0.0,
    }
    request = urllib.request.Request(
        f"{base_url}/v1/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=1200) as answer:
        answer.read()
    return time.monotonic() - started


def measure(preset: Preset, name: str, python: str, utilization: float, log: Path) -> Result:
    result = Result(name)
    plan = MemoryPlan(
        shape=preset.shape,  # type: ignore[arg-type] (every bench preset has one)
        dtype=preset.dtype,
        kv_cache_dtype=preset.kv_cache_dtype,
        max_model_len=preset.max_model_len,
        tensor_parallel_size=preset.tensor_parallel_size,
        gpu_memory_gib=80.0,
        utilization=utilization,
    )
    result.planned_gib = plan.needed_gib
    peak = [0.0]
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], used_gib())
            time.sleep(0.5)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    with log.open("w") as sink:
        spec = ServerSpec(
            preset.model, server_args(preset, utilization), python=python, startup_timeout_s=600
        )
        server = VllmServer(spec, sink=sink)
        server.start()
        try:
            result.start_s = server.wait_healthy()
            model = preset.served_name
            complete(server.base_url, model, 512, 1)  # warm-up
            for tokens in PREFILLS:
                if tokens + 1 <= preset.max_model_len:
                    result.prefill_s[tokens] = complete(server.base_url, model, tokens, 1)
            for context, steps in DECODES:
                prompt = min(context, preset.max_model_len - steps)
                first = complete(server.base_url, model, prompt, 1)
                total = complete(server.base_url, model, prompt, steps + 1)
                result.decode_ms[context] = (total - first) / steps * 1000
            jobs, tokens, out = CONCURRENT
            started = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
                list(pool.map(lambda _: complete(server.base_url, model, tokens, out), range(jobs)))
            result.concurrent_s = time.monotonic() - started
        except Exception as exc:  # a failed preset is reported; the others still run
            result.error = f"{type(exc).__name__}: {exc}"
        finally:
            server.stop()
            stop.set()
    result.peak_gib = peak[0]
    text = log.read_text(errors="replace")
    if match := re.search(r"Model loading took ([\d.]+) GiB", text):
        result.vllm_weights_gib = float(match.group(1))
    if match := re.search(r"Available KV cache memory: ([\d.]+) GiB", text):
        result.vllm_kv_gib = float(match.group(1))
    return result


def floors(preset: Preset, gpu: str) -> tuple[dict[int, float], dict[int, float]]:
    """Roofline floors: prefill seconds at 100 % of dense bf16 FLOP/s, decode ms/token at 100 % of
    HBM bandwidth (weights + the sequence's KV cache read once per token)."""
    peak = next((v for k, v in PEAKS.items() if k in gpu.upper()), None)
    if peak is None or preset.shape is None:
        return {}, {}
    flops, bandwidth = peak
    config = CONFIGS[preset.name]
    params = preset.shape.weight_bytes / 2
    attn = 2 * config["num_hidden_layers"] * config["num_attention_heads"] * (config.get("head_dim") or 128)
    prefill = {t: (2 * params * t + attn * t * t) / flops for t in PREFILLS}
    per_token = kv_bytes_per_token(preset.shape, preset.dtype, preset.kv_cache_dtype)
    decode = {c: (preset.shape.weight_bytes + per_token * c) / bandwidth * 1000 for c, _ in DECODES}
    return prefill, decode


def report(results: list[Result], gpu: tuple[str, float], version: str) -> str:
    name, total = gpu
    lines = [
        "# GPU check (`make bench-gpu`)",
        "",
        f"Machine: {name}, {total:.0f} GiB; {platform.node()}. Date: {datetime.date.today()}. "
        f"vLLM {version}.",
        "Dummy weights at each preset's real shape (its published config.json), the preset's own flags, "
        "token-id prompts. Floor: the roofline (dense bf16 FLOP/s for prefill, HBM bandwidth for decode).",
        "",
        "| preset | start s | prefill 32K s (floor) | prefill 128K s (floor) | decode ms/token at 4K (floor) "
        "| at 128K (floor) | 4× 32K jobs s | peak GPU GiB | vLLM weights / KV GiB | planner needs GiB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        prefill_floor, decode_floor = floors(PRESETS[r.preset], name)

        def cell(value: float | None, floor: float | None, fmt: str = "{:.2f}") -> str:
            if value is None:
                return "—"
            return fmt.format(value) + (f" ({fmt.format(floor)})" if floor is not None else "")

        weights = "—" if r.vllm_weights_gib is None else f"{r.vllm_weights_gib:.1f}"
        kv = "—" if r.vllm_kv_gib is None else f"{r.vllm_kv_gib:.1f}"
        lines.append(
            f"| `{r.preset}` | {r.start_s:.0f} | {cell(r.prefill_s.get(32_768), prefill_floor.get(32_768))} "
            f"| {cell(r.prefill_s.get(131_072), prefill_floor.get(131_072))} "
            f"| {cell(r.decode_ms.get(4096), decode_floor.get(4096))} "
            f"| {cell(r.decode_ms.get(131_072), decode_floor.get(131_072))} | {r.concurrent_s:.1f} "
            f"| {r.peak_gib:.1f} | {weights} / {kv} | {r.planned_gib:.1f} |"
        )
        if r.error:
            lines.append(f"| ↳ `{r.preset}` failed: {r.error[:200]} |||||||||")
    lines += [
        "",
        "Peak GPU memory includes vLLM's whole KV-cache pool (`--gpu-memory-utilization`), so it sits near "
        "that share of the card; the planner's figure is what one full-length sequence needs.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.write_configs:
        for name in args.names:
            write_config(name, args.write_configs / name)
        print(f"wrote {len(args.names)} config.json under {args.write_configs}")
        return 0
    gpu = gpu_info()
    if gpu is None:
        print("bench-gpu needs a CUDA GPU (nvidia-smi found none); nothing measured", file=sys.stderr)
        return 2
    version = subprocess.run(
        [args.vllm_python, "-c", "import vllm; print(vllm.__version__)"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        for name in args.names:
            preset = write_config(name, Path(scratch) / name)
            print(f"{name}: measuring …", flush=True)
            result = measure(preset, name, args.vllm_python, args.utilization, Path(scratch) / f"{name}.log")
            print(f"{name}: {result}", flush=True)
            results.append(result)
    args.out.write_text(report(results, gpu, version or "unknown"))
    print(f"wrote {args.out}")
    return 0 if all(r.error is None for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
