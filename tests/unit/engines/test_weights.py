"""RunPod cached models: the worker finds the platform's copy and runs the hub offline against it."""

from __future__ import annotations

from pathlib import Path

from worker.engines import (
    RUNPOD_HF_CACHE,
    EngineSettings,
    cached_model_env,
    find_cached_model,
    find_preset,
    server_spec,
)

MODEL = "NousResearch/Yarn-Mistral-7b-128k"
COMMIT = "a" * 40


def _cache(root: Path, model: str = MODEL, commit: str = COMMIT, ref: str | None = "main") -> Path:
    """The layout RunPod (and huggingface_hub) writes: refs/<ref> → snapshots/<commit>/config.json."""
    repo = root / ("models--" + model.replace("/", "--"))
    (repo / "snapshots" / commit).mkdir(parents=True)
    (repo / "snapshots" / commit / "config.json").write_text("{}")
    if ref is not None:
        (repo / "refs").mkdir()
        (repo / "refs" / ref).write_text(commit + "\n")
    return root


def test_the_default_cache_is_runpods_documented_path() -> None:
    assert Path("/runpod-volume/huggingface-cache/hub") == RUNPOD_HF_CACHE


def test_a_cached_main_is_found_and_loaded_offline(tmp_path: Path) -> None:
    cached = find_cached_model(MODEL, None, _cache(tmp_path))
    assert cached is not None
    assert cached.snapshot == tmp_path / "models--NousResearch--Yarn-Mistral-7b-128k" / "snapshots" / COMMIT
    assert cached.offline_env() == {"HF_HUB_CACHE": str(tmp_path), "HF_HUB_OFFLINE": "1"}


def test_a_pinned_commit_is_found_only_if_that_snapshot_is_cached(tmp_path: Path) -> None:
    _cache(tmp_path)
    assert find_cached_model(MODEL, COMMIT, tmp_path) is not None
    assert find_cached_model(MODEL, "b" * 40, tmp_path) is None  # another revision: download it


def test_a_branch_or_tag_resolves_through_its_ref(tmp_path: Path) -> None:
    _cache(tmp_path, ref="v1.0")
    assert find_cached_model(MODEL, "v1.0", tmp_path) is not None
    assert find_cached_model(MODEL, None, tmp_path) is None  # no refs/main: no guessing


def test_no_cache_changes_nothing(tmp_path: Path) -> None:
    assert cached_model_env(MODEL, None, tmp_path / "absent") == {}


def test_an_unfinished_download_is_not_used(tmp_path: Path) -> None:
    _cache(tmp_path)
    (tmp_path / "models--NousResearch--Yarn-Mistral-7b-128k" / "snapshots" / COMMIT / "config.json").unlink()
    assert cached_model_env(MODEL, None, tmp_path) == {}


def test_local_folders_are_not_looked_up(tmp_path: Path) -> None:
    assert cached_model_env("/models/tiny", None, tmp_path) == {}
    assert cached_model_env("./tiny", None, tmp_path) == {}


def test_the_model_id_maps_to_the_hub_folder_name(tmp_path: Path) -> None:
    _cache(tmp_path, model="Qwen/Qwen2.5-0.5B-Instruct")
    assert cached_model_env("Qwen/Qwen2.5-0.5B-Instruct", None, tmp_path)["HF_HUB_OFFLINE"] == "1"
    assert cached_model_env(MODEL, None, tmp_path) == {}


def test_the_vllm_server_of_a_preset_runs_offline_on_the_hosts_cached_copy(tmp_path: Path) -> None:
    preset = find_preset("yarn-mistral-7b-128k")
    _cache(tmp_path)
    spec = server_spec(preset, EngineSettings(), hf_cache=tmp_path)
    assert spec.env == {"HF_HUB_CACHE": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    assert spec.model == preset.model  # same hub id, so the same served name and preset
    assert server_spec(preset, EngineSettings(), hf_cache=tmp_path / "empty").env == {}
