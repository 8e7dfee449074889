"""A minimal OpenAI-compatible model server in its own process, so a test can kill it mid-job.

    python -m tests.fake_openai_server PORT [DELAY_S]

Answers `/v1/models`, `/tokenize` (a token per word, +1), `/v1/completions` and
`/v1/chat/completions` (after DELAY_S, a fixed short text), `/health`. Binds 127.0.0.1 only. The
in-process fake in test_openai_engine.py covers the protocol; this one exists to die for real.
"""

from __future__ import annotations

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_MODEL_LEN = 8192


def _answer(path: str, body: dict[str, Any], delay_s: float) -> tuple[int, Any]:
    if path == "/health":
        return 200, {}
    if path == "/v1/models":
        return 200, {"data": [{"id": "fake-model", "max_model_len": MAX_MODEL_LEN}]}
    if path == "/tokenize":
        if "messages" in body:
            return 400, {"error": {"message": "no chat template"}}
        return 200, {"count": len(str(body.get("prompt", "")).split()) + 1}
    if path in ("/v1/completions", "/v1/chat/completions"):
        print(f"generating {path}", flush=True)  # tests wait for this line before killing us
        time.sleep(delay_s)
        usage = {"prompt_tokens": len(str(body.get("prompt", "")).split()) + 1, "completion_tokens": 4}
        return 200, {
            "choices": [{"text": "Decisions: ship on Friday.", "finish_reason": "stop"}],
            "usage": usage,
        }
    return 404, {"error": {"message": f"no route {path}"}}


def main(argv: list[str]) -> None:
    port = int(argv[0])
    delay_s = float(argv[1]) if len(argv) > 1 else 0.0

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            status, payload = _answer(self.path, body, delay_s)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
