"""The tests' one fake OpenAI-compatible model server, in process or in a process of its own.

In process (`FakeOpenAIServer` + `serve(state)`), a test reads what was asked and changes how it
answers (context length, tokenize on/off, chat template, delay, injected failures). As a process,
so a test can kill it mid-job for real:

    python -m tests.support.fake_openai_server PORT [DELAY_S]

or as `vllm.entrypoints.openai.api_server` itself (`vllm_main`, with vLLM's flags), so a worker's
real supervisor starts, watches and stops it; `FAKE_OPENAI_DIE_ON=WORD` makes that process die the
moment a generation request holds WORD (a transcript that crashes the engine),
`FAKE_OPENAI_HOLD_UNTIL_DEATH=PATH` holds every other generation until a death has happened (the
dying process creates PATH), and `FAKE_OPENAI_DELAY_S` slows them.

It answers `/health`, `/v1/models`, `/tokenize` (a token per whitespace word, +1 BOS; a chat
template adds 3 per message + 1), `/v1/completions` and `/v1/chat/completions` (after the delay, a
fixed short text, or the raw bytes a test put under `raw` for that path). Binds 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devstack.httpserver import JsonHandler, LoopbackServer


@dataclass
class FakeOpenAIServer:
    """What the fake answers, and what it was asked."""

    max_model_len: int | None = 1024
    model_id: str = "fake-model"
    # A generation request holding this word ends the process at once (exit 70), as a crashed
    # engine would: the worker's supervisor sees its server gone.
    die_on: str | None = None
    # With `die_on`: a file the dying process creates; other generations wait for it (up to 120 s),
    # so a test knows they were on the engine when it died. Once it exists they answer at once.
    hold_until_death: str | None = None
    tokenize: bool = True
    chat_template: bool = False
    delay_s: float = 0.0
    completion_text: str = "Overview: a b"
    chat_text: str = "Overview: a b c"
    finish_reason: str = "length"
    completion_tokens: int = 3
    # Printed before each generation: a test that kills the process waits for this line.
    announce: bool = False
    fail_statuses: list[int] = field(default_factory=list)
    # A path's answer as these bytes (HTTP 200, JSON content type) instead of the one built here:
    # what no well-behaved server sends (JSON nested too deep to read, counts as strings, ...).
    raw: dict[str, bytes] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    in_flight: int = 0
    peak: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, body: dict[str, Any]) -> int:
        if "messages" in body:
            return sum(len(m["content"].split()) + 3 for m in body["messages"]) + 1
        return len(body["prompt"].split()) + (1 if body.get("add_special_tokens", True) else 0)

    def answer(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        if path == "/health":
            return 200, {}
        if path == "/v1/models":
            entry: dict[str, Any] = {"id": self.model_id}
            if self.max_model_len:
                entry["max_model_len"] = self.max_model_len
            return 200, {"data": [entry]}
        if path == "/tokenize":
            if not self.tokenize:
                return 404, {"detail": "Not Found"}
            if "messages" in body and not self.chat_template:
                return 400, {"error": {"message": "no chat template"}}
            return 200, {"count": self.count(body)}
        if path not in ("/v1/completions", "/v1/chat/completions"):
            return 404, {"error": {"message": f"no route {path}"}}
        if self.fail_statuses:
            return self.fail_statuses.pop(0), {"error": {"message": "injected failure"}}
        if "max_tokens" not in body:
            return 400, {"error": {"message": "max_tokens missing"}}
        usage = {"prompt_tokens": self.count(body), "completion_tokens": self.completion_tokens}
        if path == "/v1/chat/completions":
            message = {"role": "assistant", "content": self.chat_text}
            choice: dict[str, Any] = {"message": message, "finish_reason": "stop"}
        else:
            choice = {"text": self.completion_text, "finish_reason": self.finish_reason}
        return 200, {"choices": [choice], "usage": usage}


def serve(state: FakeOpenAIServer, port: int = 0) -> LoopbackServer:
    """A loopback server (not started) that answers from `state` and records every request."""

    class Handler(JsonHandler):
        def _serve(self) -> None:
            body = self.read_json()
            generating = self.path.startswith("/v1/") and self.path != "/v1/models"
            with state.lock:
                state.requests.append((self.path, body))
                state.headers.append(dict(self.headers))
                if generating:
                    state.in_flight += 1
                    state.peak = max(state.peak, state.in_flight)
            try:
                if generating:
                    if state.die_on and state.die_on in json.dumps(body):
                        print(f"fake engine: {state.die_on!r} in the prompt, dying", flush=True)
                        if state.hold_until_death:
                            Path(state.hold_until_death).touch()
                        os._exit(70)
                    if state.announce:
                        print(f"generating {self.path}", flush=True)
                    held = time.monotonic() + 120
                    while state.hold_until_death and not Path(state.hold_until_death).exists():
                        if time.monotonic() > held:
                            break
                        time.sleep(0.05)
                    time.sleep(state.delay_s)
                raw = state.raw.get(self.path)
                if raw is None:
                    status, payload = state.answer(self.path, body)
            finally:
                if generating:
                    with state.lock:
                        state.in_flight -= 1
            if raw is not None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)
                return
            self.send_json(status, payload)

        do_GET = do_POST = _serve  # noqa: N815

    return LoopbackServer(Handler, port, name="fake-openai")


def main(argv: list[str]) -> None:
    port = int(argv[0])
    delay_s = float(argv[1]) if len(argv) > 1 else 0.0
    state = FakeOpenAIServer(
        max_model_len=8192,
        delay_s=delay_s,
        completion_text="Decisions: ship on Friday.",
        finish_reason="stop",
        completion_tokens=4,
        announce=True,
    )
    serve(state, port).serve_forever()


def vllm_main(argv: list[str]) -> None:
    """Stand in for `python -m vllm.entrypoints.openai.api_server` (its flags; the rest ignored)."""
    parser = argparse.ArgumentParser()
    for name in ("--model", "--served-model-name"):
        parser.add_argument(name)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--max-model-len", type=int, default=4096)
    args, _ = parser.parse_known_args(argv)
    state = FakeOpenAIServer(
        max_model_len=args.max_model_len,
        model_id=args.served_model_name or args.model,
        die_on=os.environ.get("FAKE_OPENAI_DIE_ON") or None,
        delay_s=float(os.environ.get("FAKE_OPENAI_DELAY_S") or 0),
        hold_until_death=os.environ.get("FAKE_OPENAI_HOLD_UNTIL_DEATH") or None,
        completion_text="Decisions: ship on Friday.",
        finish_reason="stop",
        completion_tokens=4,
        announce=True,
    )
    serve(state, args.port).serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
