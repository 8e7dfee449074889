"""Find a RunPod cached model on the host and run vLLM offline against it. Pure stdlib, no I/O but reads.

RunPod's cached models (the endpoint's console setting "Model") place the Hugging Face repository
on the host before the worker starts, at `/runpod-volume/huggingface-cache/hub/` in the hub's own
cache layout: `models--{org}--{name}/refs/{revision}` holds a commit hash and
`models--{org}--{name}/snapshots/{commit}/` the files (runpod/docs
`serverless/endpoints/model-caching.mdx`). When the wanted revision is there, the engine's
environment points `HF_HUB_CACHE` at it and sets `HF_HUB_OFFLINE=1`: vLLM then loads the cached
files without a download or a single call to the hub, and the hub id (and so the served model name
and the preset) stays what it was. When it is not there, nothing changes and vLLM downloads as
before. It never writes to the cache and never guesses between several snapshots: a revision it
cannot resolve exactly counts as absent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

RUNPOD_HF_CACHE = Path("/runpod-volume/huggingface-cache/hub")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class CachedModel:
    model: str  # the hub id, e.g. NousResearch/Yarn-Mistral-7b-128k
    cache_dir: Path  # the hub cache that holds it (HF_HUB_CACHE)
    snapshot: Path  # its files

    def offline_env(self) -> dict[str, str]:
        """Variables for the vLLM process: load from this cache, never ask the hub."""
        return {"HF_HUB_CACHE": str(self.cache_dir), "HF_HUB_OFFLINE": "1"}


def find_cached_model(
    model: str, revision: str | None = None, cache_dir: Path = RUNPOD_HF_CACHE
) -> CachedModel | None:
    """The cached copy of `model` at `revision` (a branch, tag or commit; None: `main`), or None."""
    if model.startswith(("/", ".")) or model.count("/") != 1:
        return None  # a local folder, or not a hub id
    repo = cache_dir / ("models--" + model.replace("/", "--"))
    wanted = revision or "main"
    if _COMMIT.match(wanted):
        commit = wanted
    else:
        try:
            commit = (repo / "refs" / wanted).read_text().strip()
        except OSError:
            return None
    snapshot = repo / "snapshots" / commit
    if not (snapshot / "config.json").is_file():
        return None  # absent, or a download that never finished
    return CachedModel(model, cache_dir, snapshot)


def cached_model_env(
    model: str, revision: str | None = None, cache_dir: Path = RUNPOD_HF_CACHE
) -> dict[str, str]:
    """The engine's extra environment: offline against the cached copy, or {} when there is none."""
    cached = find_cached_model(model, revision, cache_dir)
    return cached.offline_env() if cached else {}
