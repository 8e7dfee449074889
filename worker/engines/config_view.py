"""A config view: the model's own config.json with the keys vLLM must not see removed, for
`--hf-config-path`. Written before the server starts; never edits the model's files.

Why a view and not `--hf-overrides {"key": null}`: an override leaves the attribute on vLLM's config
object, and some checks run on the attribute's mere presence. vLLM 0.32's
`verify_dual_chunk_attention_config` is one: it then reads the repository's
`sparse_attention_config.json` (Qwen2.5-*-1M ship one) and assigns into the block, which is null,
so the server dies before it listens. vLLM reads `config.json` and `generation_config.json` (eos
ids) from `--hf-config-path`; weights, tokenizer and quantisation files still come from the model.

The files come from the model folder itself, or for a hub id from the hub cache through
`huggingface_hub` in the vLLM interpreter (the worker's own environment does not have it), with the
server's environment: the same cache, token and offline mode vLLM itself will use.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from worker.errors import EngineUnavailableError

CONFIG = "config.json"
# Read by vLLM from --hf-config-path besides config.json: its eos ids still end the answers.
GENERATION_CONFIG = "generation_config.json"
FETCH_TIMEOUT_S = 600.0
_FETCH = """
import json, sys
from huggingface_hub import hf_hub_download
from huggingface_hub.errors import EntryNotFoundError
repo, revision = sys.argv[1], sys.argv[2] or None
found = {"config.json": hf_hub_download(repo, "config.json", revision=revision)}
try:
    found["generation_config.json"] = hf_hub_download(repo, "generation_config.json", revision=revision)
except EntryNotFoundError:  # not every repository has one (nor its cached copy)
    pass
print(json.dumps(found))
"""


def write_config_view(
    model: str,
    revision: str | None,
    drop: Sequence[str],
    *,
    python: str,
    env: Mapping[str, str],
    root: Path | None = None,
) -> Path:
    """A folder holding the model's config.json without the `drop` keys, and its
    generation_config.json as published; returns the folder for `--hf-config-path`."""
    sources = _sources(model, revision, python, env)
    if CONFIG not in sources:
        raise EngineUnavailableError(f"{model} has no {CONFIG}: cannot serve it")
    try:
        config = json.loads(Path(sources[CONFIG]).read_text())
    except (OSError, ValueError) as exc:
        raise EngineUnavailableError(f"cannot read {model}'s {CONFIG}: {exc}") from exc
    for key in drop:
        config.pop(key, None)
    name = hashlib.sha256(f"{model}@{revision}".encode()).hexdigest()[:16]
    folder = (root or Path(tempfile.gettempdir())) / f"config-view-{name}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CONFIG).write_text(json.dumps(config, indent=2))
    if GENERATION_CONFIG in sources:
        (folder / GENERATION_CONFIG).write_bytes(Path(sources[GENERATION_CONFIG]).read_bytes())
    return folder


def _sources(model: str, revision: str | None, python: str, env: Mapping[str, str]) -> dict[str, str]:
    local = Path(model)
    if local.is_dir():
        return {name: str(local / name) for name in (CONFIG, GENERATION_CONFIG) if (local / name).is_file()}
    command = [python, "-c", _FETCH, model, revision or ""]
    try:
        done = subprocess.run(  # noqa: S603 (our own interpreter setting and script)
            command,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=FETCH_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise EngineUnavailableError(f"cannot fetch {model}'s {CONFIG}: {exc}") from exc
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise EngineUnavailableError(f"cannot fetch {model}'s {CONFIG}: {last}")
    try:
        found = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError) as exc:
        raise EngineUnavailableError(f"cannot fetch {model}'s {CONFIG}: {done.stdout[-200:]!r}") from exc
    return {str(k): str(v) for k, v in found.items()}
