"""The worker loads what reading a meeting needs before it takes its first job.

Without it, a fresh worker's first job paid for py3langid decompressing its model (the first
detection), the caption parsers' imports and the patterns' compiles; the next jobs did not."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from tests.support.paths import ROOT

PROBE = """
import sys
from worker.meeting import warm
warm()
import py3langid.langid
print(py3langid.langid.IDENTIFIER is not None, "webvtt" in sys.modules, "srt" in sys.modules)
"""


def test_warm_loads_the_language_model_and_the_caption_parsers_in_a_fresh_process() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True", "True"], out.stderr


def test_the_handler_warms_the_meeting_layer_after_the_engine_and_before_serving(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import handler

    order: list[str] = []
    real_build = handler.build_engine

    def build(*args: Any, **kwargs: Any) -> Any:
        order.append("engine")
        return real_build(*args, **kwargs)

    monkeypatch.setattr(handler, "build_engine", build)
    monkeypatch.setattr(handler, "warm", lambda: order.append("warm"))
    monkeypatch.setattr(handler, "_serve", lambda settings, engine: order.append("serve"))
    # main()'s process-wide set-up stays out of the test process.
    monkeypatch.setattr(handler.signal, "signal", lambda *args: None)
    monkeypatch.setattr(handler.atexit, "register", lambda *args: None)
    monkeypatch.setattr(handler.logs, "configure", lambda *args: None)
    monkeypatch.setenv("WORKER_ENGINE", "extractive")
    handler.main()
    assert order == ["engine", "warm", "serve"]
