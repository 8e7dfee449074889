"""Settings of `make deploy-worker`: one frozen object from an injected mapping (env + CLI flags).

Defaults come from the components they must agree with, never from a second copy: the endpoint's
execution timeout is the dispatcher's `JOB_EXECUTION_TIMEOUT_S` (same variable, same default), the
worker limits are `WorkerSettings`' defaults, and the GPU types and count follow the model preset's
memory and tensor-parallel size. The worker environment that goes into the template is parsed by
the worker's own settings classes before anything is sent, so a typo fails here, not in a worker.

RunPod REST v2 changed defaults that matter here, so each is set explicitly (runpod/docs
`api-reference-v2/openapi.json`): an endpoint's `timeout` defaults to 5 minutes (we send the job's
execution timeout), `flashboot` defaults to `OFF` in the API while the console turns FlashBoot on for
every new endpoint (`serverless/endpoints/endpoint-configurations.mdx`), so we send `FLASHBOOT`
unless `DEPLOY_FLASHBOOT` says otherwise (RunPod's docs list no charge of its own for it: a worker
is billed from start to stop, and FlashBoot shortens the start, `serverless/pricing.mdx`), and
`workers.idleTimeout` is refused with `REQUEST_COUNT` scaling (it is only set with `QUEUE_DELAY`).

The image is vLLM's, built on CUDA 13: a host whose driver is older cannot run it, and a worker
placed there crashes at start. The endpoint asks for hosts with at least that CUDA version
(`gpu.minCudaVersion`, `DEPLOY_MIN_CUDA_VERSION`); the image itself sets `RUNPOD_MIN_CUDA_VERSION`
for the worker's own fitness check. A test ties both to the Dockerfile.
A worker that is not ready within RunPod's init timeout (~7 minutes) is marked unhealthy: the
template's `RUNPOD_INIT_TIMEOUT` is the worker's vLLM start-up limit plus a margin.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from deploy.errors import DeployConfigError
from dispatcher.settings import JOB_EXECUTION_TIMEOUT_S, EnvReader
from dispatcher.settings import Settings as DispatcherSettings
from worker.engines import RECOMMENDED_PRESET

API_KEY = "RUNPOD_API_KEY"
REST_URL = "RUNPOD_REST_URL"
SERVERLESS_URL = "RUNPOD_SERVERLESS_URL"
IMAGE = "DEPLOY_IMAGE"
TEMPLATE_NAME = "DEPLOY_TEMPLATE_NAME"
ENDPOINT_NAME = "DEPLOY_ENDPOINT_NAME"
PRESET = "DEPLOY_PRESET"
GPU_POOLS = "DEPLOY_GPU_POOLS"
GPU_COUNT = "DEPLOY_GPU_COUNT"
WORKERS_MIN = "DEPLOY_WORKERS_MIN"
WORKERS_MAX = "DEPLOY_WORKERS_MAX"
IDLE_TIMEOUT_S = "DEPLOY_IDLE_TIMEOUT_S"
SCALER_TYPE = "DEPLOY_SCALER_TYPE"
SCALER_VALUE = "DEPLOY_SCALER_VALUE"
FLASHBOOT = "DEPLOY_FLASHBOOT"
MIN_CUDA_VERSION = "DEPLOY_MIN_CUDA_VERSION"
NETWORK_VOLUME_ID = "DEPLOY_NETWORK_VOLUME_ID"
DATA_CENTERS = "DEPLOY_DATA_CENTERS"
CONTAINER_DISK_GB = "DEPLOY_CONTAINER_DISK_GB"
WORKER_ENV = "DEPLOY_WORKER_ENV"  # a JSON object of extra worker variables

# The README's recommended preset (best published long-context summary score that fits one GPU).
DEFAULT_PRESET = RECOMMENDED_PRESET
# RunPod serverless GPU pool ids (v2 `gpu.pools`; runpod/docs references/gpu-types.mdx), by memory:
# the smallest class that holds the preset. Newer cards first within a class.
GPU_CLASSES: tuple[tuple[float, tuple[str, ...]], ...] = (
    (48.0, ("ADA_48_PRO", "AMPERE_48")),  # L40, L40S, 6000 Ada · A6000, A40
    (80.0, ("ADA_80_PRO", "AMPERE_80")),  # H100 · A100 80GB
    (141.0, ("HOPPER_141",)),  # H200
)
FLASHBOOT_MODES = ("OFF", "FLASHBOOT", "PRIORITY_FLASHBOOT")  # v2 `FlashBoot` enum
# The CUDA version the worker image's base (vllm/vllm-openai, Dockerfile) is built on: the lowest a
# host's driver may offer. The Dockerfile's RUNPOD_MIN_CUDA_VERSION says the same (a test checks).
IMAGE_CUDA_VERSION = "13.0"
_CUDA_VERSION = re.compile(r"^\d+\.\d+$")  # v2 `gpu.minCudaVersion`: major.minor
SCALER_TYPES = ("QUEUE_DELAY", "REQUEST_COUNT")
INIT_TIMEOUT = "RUNPOD_INIT_TIMEOUT"
# RunPod's init timeout covers the whole start: Python, the worker's settings, vLLM's start-up
# (bounded by WORKER_VLLM_STARTUP_TIMEOUT_S) and the readiness check. The margin is for the rest.
INIT_TIMEOUT_MARGIN_S = 120


def check_image(image: str) -> None:
    """RunPod pulls the image from a registry: refuse a local name before anything is sent."""
    hint = (
        "pass IMAGE=<registry host>/<name>, e.g. `make deploy-worker IMAGE=docker.io/you/transcript-worker`"
    )
    name, _, tag = image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (image, "", "")
    host = name.split("/", 1)[0] if "/" in name else ""
    if not host or not ("." in host or ":" in host or host == "localhost"):
        raise DeployConfigError(f"{IMAGE} (--image) {image!r} names no registry host: {hint}")
    if not tag:
        raise DeployConfigError(f"{IMAGE} (--image) must name a pushed image with a tag, got {image!r}")


@dataclass(frozen=True)
class DeploySettings:
    image: str
    api_key: str | None = None  # None: only a dry run of a first deployment is possible
    rest_url: str = "https://api.runpod.io/v2"
    serverless_url: str = "https://api.runpod.ai/v2"
    template_name: str = "transcript-summarizer-worker"
    endpoint_name: str = "transcript-summarizer"
    preset: str = DEFAULT_PRESET
    gpu_pools: tuple[str, ...] = GPU_CLASSES[1][1]
    gpu_count: int = 1
    workers_min: int = 0  # idle cost 0: no worker runs while nothing is queued
    workers_max: int = 2
    # Billed seconds a worker waits for the next job before stopping; None with REQUEST_COUNT
    # scaling, where v2 refuses the field.
    idle_timeout_s: int | None = 30
    execution_timeout_s: int = DispatcherSettings.job_execution_timeout_s
    scaler_type: str = "QUEUE_DELAY"
    scaler_value: int = 4
    flashboot: str = "FLASHBOOT"  # as RunPod's console does; v2's API default is OFF
    min_cuda_version: str = IMAGE_CUDA_VERSION
    network_volume_id: str | None = None
    data_center_ids: tuple[str, ...] = ()
    container_disk_gb: int = 50
    worker_env: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, teardown: bool = False) -> DeploySettings:
        """`teardown`: settings to find and delete what exists, where no image is needed."""
        read = EnvReader(env, DeployConfigError)
        image = env.get(IMAGE, "").strip()
        if not teardown:
            check_image(image)
        preset_name = env.get(PRESET, "").strip() or DEFAULT_PRESET
        gpu_memory, tensor_parallel = _preset_needs(preset_name)
        workers_min = read.integer(WORKERS_MIN, cls.workers_min, 0, 100)
        workers_max = read.integer(WORKERS_MAX, cls.workers_max, 1, 100)
        if workers_min > workers_max:
            raise DeployConfigError(f"{WORKERS_MIN} ({workers_min}) exceeds {WORKERS_MAX} ({workers_max})")
        scaler_type = read.choice(SCALER_TYPE, SCALER_TYPES, cls.scaler_type)
        idle_timeout: int | None = read.integer(IDLE_TIMEOUT_S, 0, 1, 3600)
        if scaler_type == "REQUEST_COUNT":
            if idle_timeout:
                raise DeployConfigError(
                    f"{IDLE_TIMEOUT_S} cannot be set with {SCALER_TYPE}=REQUEST_COUNT: RunPod v2 refuses "
                    "an idle timeout on a queue endpoint that scales on request count"
                )
            idle_timeout = None
        else:
            idle_timeout = idle_timeout or cls.idle_timeout_s
        settings = cls(
            image=image,
            api_key=env.get(API_KEY, "").strip() or None,
            rest_url=read.url(REST_URL, cls.rest_url),
            serverless_url=read.url(SERVERLESS_URL, cls.serverless_url),
            template_name=env.get(TEMPLATE_NAME, "").strip() or cls.template_name,
            endpoint_name=env.get(ENDPOINT_NAME, "").strip() or cls.endpoint_name,
            preset=preset_name,
            gpu_pools=read.items(GPU_POOLS) or gpu_pools_for(gpu_memory),
            gpu_count=read.integer(GPU_COUNT, tensor_parallel, 1, 8),
            workers_min=workers_min,
            workers_max=workers_max,
            idle_timeout_s=idle_timeout,
            execution_timeout_s=read.integer(
                JOB_EXECUTION_TIMEOUT_S, cls.execution_timeout_s, 5, 7 * 24 * 3600
            ),
            scaler_type=scaler_type,
            scaler_value=read.integer(SCALER_VALUE, cls.scaler_value, 1, 3600),
            flashboot=read.choice(FLASHBOOT, FLASHBOOT_MODES, cls.flashboot),
            min_cuda_version=_cuda_version(env.get(MIN_CUDA_VERSION, "").strip() or cls.min_cuda_version),
            network_volume_id=env.get(NETWORK_VOLUME_ID, "").strip() or None,
            data_center_ids=read.items(DATA_CENTERS),
            container_disk_gb=read.integer(CONTAINER_DISK_GB, cls.container_disk_gb, 10, 2000),
            worker_env=parse_worker_env(env.get(WORKER_ENV, "")),
        )
        check_worker_env(settings.template_env())
        return settings

    def template_env(self) -> dict[str, str]:
        """The worker's environment on RunPod: engine, preset, limits, concurrency, start-up
        limits (+ extras)."""
        from worker.engines import EngineSettings
        from worker.settings import (
            CONCURRENCY,
            ENGINE,
            MAX_OUTPUT_TOKENS,
            MAX_TRANSCRIPT_BYTES,
            MODEL_PRESET,
            VLLM_STARTUP_TIMEOUT_S,
            WorkerSettings,
        )

        env = {
            "RUNPOD_LOG_LEVEL": "INFO",  # the SDK logs whole job inputs (presigned URLs) at DEBUG
            ENGINE: "vllm",
            MODEL_PRESET: self.preset,
            CONCURRENCY: str(WorkerSettings.concurrency),
            MAX_OUTPUT_TOKENS: str(WorkerSettings.max_output_tokens),
            MAX_TRANSCRIPT_BYTES: str(WorkerSettings.max_transcript_bytes),
        }
        env.update(dict(self.worker_env))
        # RunPod marks a worker unhealthy when it is not ready within RUNPOD_INIT_TIMEOUT (~7 min by
        # default); a first start downloads the weights and loads vLLM, which the worker allows
        # WORKER_VLLM_STARTUP_TIMEOUT_S for. Both are written down so they cannot drift apart.
        try:
            startup_s = math.ceil(
                float(env.get(VLLM_STARTUP_TIMEOUT_S) or EngineSettings.vllm_startup_timeout_s)
            )
        except ValueError:
            return env  # check_worker_env names the malformed value
        env.setdefault(VLLM_STARTUP_TIMEOUT_S, str(startup_s))
        env.setdefault(INIT_TIMEOUT, str(startup_s + INIT_TIMEOUT_MARGIN_S))
        return env


def _cuda_version(value: str) -> str:
    if not _CUDA_VERSION.fullmatch(value):
        raise DeployConfigError(
            f"{MIN_CUDA_VERSION} must be a CUDA version as major.minor, e.g. 13.0, got {value!r}"
        )
    return value


def gpu_pools_for(memory_gib: float) -> tuple[str, ...]:
    for capacity, types in GPU_CLASSES:
        if memory_gib <= capacity:
            return types
    return GPU_CLASSES[-1][1]


def _preset_needs(name: str) -> tuple[float, int]:
    """(GPU memory GiB, GPUs per worker) of a model preset; fails on an unknown one."""
    from worker.engines import find_preset
    from worker.errors import ConfigError

    try:
        preset = find_preset(name)
    except ConfigError as exc:
        raise DeployConfigError(f"{PRESET} (--preset): {exc}") from exc
    return preset.gpu_memory_gib, preset.tensor_parallel_size


def parse_worker_env(raw: str) -> tuple[tuple[str, str], ...]:
    if not raw.strip():
        return ()
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise DeployConfigError(f"{WORKER_ENV} must be a JSON object of strings") from exc
    if not isinstance(document, dict) or not all(isinstance(v, str) for v in document.values()):
        raise DeployConfigError(f"{WORKER_ENV} must be a JSON object of strings")
    return tuple(sorted(document.items()))


def known_worker_variables() -> frozenset[str]:
    """Every `WORKER_*` name the worker reads (the constants of its one settings module)."""
    from worker import settings as worker_settings

    return frozenset(
        value
        for value in vars(worker_settings).values()
        if isinstance(value, str) and value.startswith("WORKER_") and value.isupper()
    )


def check_worker_env(env: Mapping[str, str]) -> None:
    """Refuse a worker environment the worker would refuse (or silently ignore) at start-up."""
    from worker.errors import ConfigError
    from worker.settings import WorkerSettings

    unknown = sorted(k for k in env if k.startswith("WORKER_") and k not in known_worker_variables())
    if unknown:
        raise DeployConfigError(f"unknown worker setting(s): {', '.join(unknown)} (typo?)")
    try:
        WorkerSettings.from_env(env)
    except ConfigError as exc:
        raise DeployConfigError(f"the worker would refuse this environment: {exc}") from exc
    _check_init_timeout(env)


def _check_init_timeout(env: Mapping[str, str]) -> None:
    """RUNPOD_INIT_TIMEOUT below the worker's own vLLM start-up limit would kill a healthy start."""
    from worker.settings import VLLM_STARTUP_TIMEOUT_S

    raw = env.get(INIT_TIMEOUT, "")
    try:
        init_s = int(raw)
    except ValueError as exc:
        raise DeployConfigError(f"{INIT_TIMEOUT} must be an integer (seconds), got {raw!r}") from exc
    startup_s = float(env.get(VLLM_STARTUP_TIMEOUT_S, "0") or 0)
    if init_s < startup_s:
        raise DeployConfigError(
            f"{INIT_TIMEOUT} ({init_s}s) is shorter than {VLLM_STARTUP_TIMEOUT_S} ({startup_s:g}s): "
            "RunPod would mark a worker unhealthy while vLLM is still allowed to start"
        )
