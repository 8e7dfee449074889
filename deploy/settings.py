"""Settings of `make deploy-worker`: one frozen object from an injected mapping (env + CLI flags).

Defaults come from the components they must agree with, never from a second copy: the endpoint's
execution timeout is the dispatcher's `JOB_EXECUTION_TIMEOUT_S` (same variable, same default), the
worker limits are `WorkerSettings`' defaults, and the GPU types and count follow the model preset's
memory and tensor-parallel size. The worker environment that goes into the template is parsed by
the worker's own settings classes before anything is sent, so a typo fails here, not in a worker.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from deploy.errors import DeployConfigError
from dispatcher.settings import JOB_EXECUTION_TIMEOUT_S
from dispatcher.settings import Settings as DispatcherSettings

API_KEY = "RUNPOD_API_KEY"
REST_URL = "RUNPOD_REST_URL"
SERVERLESS_URL = "RUNPOD_SERVERLESS_URL"
IMAGE = "DEPLOY_IMAGE"
TEMPLATE_NAME = "DEPLOY_TEMPLATE_NAME"
ENDPOINT_NAME = "DEPLOY_ENDPOINT_NAME"
PRESET = "DEPLOY_PRESET"
GPU_TYPES = "DEPLOY_GPU_TYPES"
GPU_COUNT = "DEPLOY_GPU_COUNT"
WORKERS_MIN = "DEPLOY_WORKERS_MIN"
WORKERS_MAX = "DEPLOY_WORKERS_MAX"
IDLE_TIMEOUT_S = "DEPLOY_IDLE_TIMEOUT_S"
SCALER_TYPE = "DEPLOY_SCALER_TYPE"
SCALER_VALUE = "DEPLOY_SCALER_VALUE"
FLASHBOOT = "DEPLOY_FLASHBOOT"
NETWORK_VOLUME_ID = "DEPLOY_NETWORK_VOLUME_ID"
DATA_CENTERS = "DEPLOY_DATA_CENTERS"
CONTAINER_DISK_GB = "DEPLOY_CONTAINER_DISK_GB"
WORKER_ENV = "DEPLOY_WORKER_ENV"  # a JSON object of extra worker variables

DEFAULT_PRESET = "yarn-mistral-7b-128k"
# RunPod GPU type ids (the REST API's enum), smallest class that holds the preset first.
GPU_CLASSES: tuple[tuple[float, tuple[str, ...]], ...] = (
    (48.0, ("NVIDIA L40S", "NVIDIA RTX 6000 Ada Generation", "NVIDIA A40", "NVIDIA RTX A6000")),
    (80.0, ("NVIDIA H100 80GB HBM3", "NVIDIA A100-SXM4-80GB", "NVIDIA A100 80GB PCIe", "NVIDIA H100 PCIe")),
    (141.0, ("NVIDIA H200",)),
)


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise DeployConfigError(f"{name} must be an integer, got {raw!r}") from exc
    if not low <= value <= high:
        raise DeployConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in env.get(name, "").split(",") if item.strip())


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("true", "1", "yes"):
        return True
    if raw in ("false", "0", "no"):
        return False
    raise DeployConfigError(f"{name} must be true or false, got {raw!r}")


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    if not value.startswith(("https://", "http://")):
        raise DeployConfigError(f"{name} must be an http(s) URL, got {value!r}")
    return value.rstrip("/")


@dataclass(frozen=True)
class DeploySettings:
    image: str
    api_key: str | None = None  # None: only a dry run of a first deployment is possible
    rest_url: str = "https://rest.runpod.io/v1"
    serverless_url: str = "https://api.runpod.ai/v2"
    template_name: str = "transcript-summarizer-worker"
    endpoint_name: str = "transcript-summarizer"
    preset: str = DEFAULT_PRESET
    gpu_type_ids: tuple[str, ...] = GPU_CLASSES[1][1]
    gpu_count: int = 1
    workers_min: int = 0  # idle cost 0: no worker runs while nothing is queued
    workers_max: int = 2
    idle_timeout_s: int = 30  # billed seconds a worker waits for the next job before stopping
    execution_timeout_s: int = DispatcherSettings.job_execution_timeout_s
    scaler_type: str = "QUEUE_DELAY"
    scaler_value: int = 4
    flashboot: bool = True
    network_volume_id: str | None = None
    data_center_ids: tuple[str, ...] = ()
    container_disk_gb: int = 50
    worker_env: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, teardown: bool = False) -> DeploySettings:
        """`teardown`: settings to find and delete what exists, where no image is needed."""
        image = env.get(IMAGE, "").strip()
        if not teardown and (not image or ":" not in image.rsplit("/", 1)[-1]):
            raise DeployConfigError(f"{IMAGE} (--image) must name a pushed image with a tag, got {image!r}")
        preset_name = env.get(PRESET, "").strip() or DEFAULT_PRESET
        gpu_memory, tensor_parallel = _preset_needs(preset_name)
        workers_min = _int(env, WORKERS_MIN, cls.workers_min, 0, 100)
        workers_max = _int(env, WORKERS_MAX, cls.workers_max, 1, 100)
        if workers_min > workers_max:
            raise DeployConfigError(f"{WORKERS_MIN} ({workers_min}) exceeds {WORKERS_MAX} ({workers_max})")
        scaler_type = env.get(SCALER_TYPE, "").strip().upper() or cls.scaler_type
        if scaler_type not in ("QUEUE_DELAY", "REQUEST_COUNT"):
            raise DeployConfigError(
                f"{SCALER_TYPE} must be QUEUE_DELAY or REQUEST_COUNT, got {scaler_type!r}"
            )
        settings = cls(
            image=image,
            api_key=env.get(API_KEY, "").strip() or None,
            rest_url=_url(env, REST_URL, cls.rest_url),
            serverless_url=_url(env, SERVERLESS_URL, cls.serverless_url),
            template_name=env.get(TEMPLATE_NAME, "").strip() or cls.template_name,
            endpoint_name=env.get(ENDPOINT_NAME, "").strip() or cls.endpoint_name,
            preset=preset_name,
            gpu_type_ids=_list(env, GPU_TYPES) or gpu_types_for(gpu_memory),
            gpu_count=_int(env, GPU_COUNT, tensor_parallel, 1, 8),
            workers_min=workers_min,
            workers_max=workers_max,
            idle_timeout_s=_int(env, IDLE_TIMEOUT_S, cls.idle_timeout_s, 1, 3600),
            execution_timeout_s=_int(env, JOB_EXECUTION_TIMEOUT_S, cls.execution_timeout_s, 5, 7 * 24 * 3600),
            scaler_type=scaler_type,
            scaler_value=_int(env, SCALER_VALUE, cls.scaler_value, 1, 3600),
            flashboot=_bool(env, FLASHBOOT, cls.flashboot),
            network_volume_id=env.get(NETWORK_VOLUME_ID, "").strip() or None,
            data_center_ids=_list(env, DATA_CENTERS),
            container_disk_gb=_int(env, CONTAINER_DISK_GB, cls.container_disk_gb, 10, 2000),
            worker_env=parse_worker_env(env.get(WORKER_ENV, "")),
        )
        check_worker_env(settings.template_env())
        return settings

    def template_env(self) -> dict[str, str]:
        """The worker's environment on RunPod: engine, preset, limits, concurrency (+ extras)."""
        from worker.settings import (
            CONCURRENCY,
            ENGINE,
            MAX_OUTPUT_TOKENS,
            MAX_TRANSCRIPT_BYTES,
            MODEL_PRESET,
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
        return env


def gpu_types_for(memory_gib: float) -> tuple[str, ...]:
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
