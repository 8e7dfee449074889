"""A loopback HTTP server for the local test bed: 127.0.0.1 only, a free port unless one is named,
served from a daemon thread, stopped by whoever started it.

The RunPod emulator, the S3 fault proxy and the tests' fake servers all run on it, so binding,
threading and shutdown are written once. `JsonHandler` is the request side they share: quiet logs,
a JSON body in, a JSON body out.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# How often a serving loop looks at its stop flag: `stop()` waits up to this long (the stdlib's 0.5 s
# default made every stop of a test's server cost half a second).
POLL_S = 0.02


class JsonHandler(BaseHTTPRequestHandler):
    """A handler that does not log every request and speaks JSON."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the stdlib's name)
        return

    def read_body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def read_json(self) -> Any:
        return json.loads(self.read_body() or b"{}")

    def send_json(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class LoopbackServer:
    """`with LoopbackServer(Handler) as server:` serves `server.url` until the block ends."""

    def __init__(
        self,
        handler: type[BaseHTTPRequestHandler],
        port: int = 0,
        name: str = "loopback-http",
        server_class: type[ThreadingHTTPServer] = ThreadingHTTPServer,
    ) -> None:
        self._handler = handler
        self._port = port
        self._name = name
        self._server_class = server_class
        self._server: ThreadingHTTPServer | None = None

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> LoopbackServer:
        server = self._bind()
        threading.Thread(target=server.serve_forever, args=(POLL_S,), name=self._name, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def serve_forever(self) -> None:
        """Serve in this thread (a server that is a process of its own)."""
        self._bind().serve_forever()

    def _bind(self) -> ThreadingHTTPServer:
        self._server = self._server_class(("127.0.0.1", self._port), self._handler)
        # A handler still blocked (a slow fake, a hanging fault) must not keep the process alive.
        self._server.daemon_threads = True
        return self._server

    @property
    def port(self) -> int:
        assert self._server is not None, "the server is not running"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"
