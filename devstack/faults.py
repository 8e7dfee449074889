"""A fault-injecting HTTP proxy in front of an S3 endpoint (moto), for presigned GET/PUT faults.

Presign against `proxy.endpoint` instead of moto's: every request passes through unchanged except
the next ones a test has queued a fault for, matched by method (and optionally by a piece of the
object path). Faults: an HTTP status with an S3-style XML error (5xx, 403, 404), a hang longer
than the client's timeout, a delay before passing through, a body cut short of its
Content-Length, a connection closed without an answer. "5xx then success" is one queued fault
followed by pass-through.

`RawServer` is the other kind of fault: a loopback server that writes whatever bytes a test
scripts (a 206, a gzip bomb, a body dripped a byte at a time, a response that is not HTTP), for the
answers no proxy in front of a well-behaved S3 produces.

It never logs or records query strings (presigned URLs are bearer secrets): `requests` holds
method, path and the status that was answered. Binds 127.0.0.1 only.
"""

from __future__ import annotations

import http.client
import socket
import socketserver
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from devstack.httpserver import POLL_S, LoopbackServer

_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "host"})


@dataclass(frozen=True)
class Fault:
    """One injected misbehaviour. Exactly one of the fields is set (see the constructors)."""

    status: int | None = None  # answer this status with an S3 XML error, upstream untouched
    hang_s: float | None = None  # accept, say nothing for this long, then close
    truncate_to: int | None = None  # relay upstream's answer but only this many body bytes
    drop: bool = False  # close the connection without answering
    delay_s: float | None = None  # wait this long, then pass through (a slow S3, a long job)

    @classmethod
    def http(cls, status: int) -> Fault:
        return cls(status=status)

    @classmethod
    def hang(cls, seconds: float) -> Fault:
        return cls(hang_s=seconds)

    @classmethod
    def truncate(cls, keep_bytes: int) -> Fault:
        return cls(truncate_to=keep_bytes)

    @classmethod
    def close(cls) -> Fault:
        return cls(drop=True)

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        return cls(delay_s=seconds)

    def describe(self) -> str:
        if self.status is not None:
            return f"HTTP {self.status}"
        if self.hang_s is not None:
            return f"hang {self.hang_s}s"
        if self.truncate_to is not None:
            return f"truncate to {self.truncate_to} bytes"
        if self.delay_s is not None:
            return f"delay {self.delay_s}s"
        return "connection closed"


@dataclass(frozen=True)
class _Rule:
    method: str
    fault: Fault
    path_contains: str | None


class S3FaultProxy:
    """`with S3FaultProxy(moto_endpoint) as proxy:`; `proxy.inject("GET", Fault.http(503), times=2)`."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream must be an http:// endpoint, got {upstream!r}")
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.requests: list[tuple[str, str, str]] = []  # (method, path, what happened)
        self._rules: deque[_Rule] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._http: LoopbackServer | None = None

    def __enter__(self) -> S3FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> S3FaultProxy:
        proxy = self

        class Handler(_ProxyHandler):
            pass

        Handler.proxy = proxy
        self._http = LoopbackServer(Handler, name="s3-fault-proxy", server_class=_QuietServer).start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases hanging handlers
        if self._http is not None:
            self._http.stop()
            self._http = None

    @property
    def endpoint(self) -> str:
        assert self._http is not None
        return self._http.url

    def inject(self, method: str, fault: Fault, *, times: int = 1, path_contains: str | None = None) -> None:
        """Answer the next `times` matching requests with `fault`; later ones pass through."""
        with self._lock:
            for _ in range(times):
                self._rules.append(_Rule(method.upper(), fault, path_contains))

    def pending(self) -> int:
        with self._lock:
            return len(self._rules)

    def statuses(self, method: str) -> list[str]:
        """What each request with `method` got, in order (for assertions)."""
        with self._lock:
            return [outcome for m, _, outcome in self.requests if m == method.upper()]

    def _take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for rule in self._rules:
                if rule.method == method and (rule.path_contains is None or rule.path_contains in path):
                    self._rules.remove(rule)
                    return rule.fault
            return None

    def _record(self, method: str, path: str, outcome: str) -> None:
        with self._lock:
            self.requests.append((method, path, outcome))


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (its timeout, a reset) is the fault under test, not a proxy bug.
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _ProxyHandler(BaseHTTPRequestHandler):
    proxy: S3FaultProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return  # request lines carry presigned query strings

    def do_GET(self) -> None:
        self._handle("GET")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        path = urlsplit(self.path).path
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fault = self.proxy._take(method, path)
        if fault is not None and fault.status is not None:
            self.proxy._record(method, path, f"injected {fault.status}")
            return self._s3_error(fault.status)
        if fault is not None and fault.hang_s is not None:
            self.proxy._record(method, path, "injected hang")
            self.proxy._stopping.wait(fault.hang_s)
            self.close_connection = True
            return
        if fault is not None and fault.drop:
            self.proxy._record(method, path, "injected close")
            self.close_connection = True
            return
        if fault is not None and fault.delay_s is not None:
            self.proxy._stopping.wait(fault.delay_s)
        status, headers, payload = self._forward(method, body)
        if fault is not None and fault.truncate_to is not None:
            self.proxy._record(method, path, f"injected truncation ({fault.truncate_to}/{len(payload)})")
            self._relay(status, headers, payload, declared=len(payload), send=payload[: fault.truncate_to])
            self.close_connection = True
            return
        self.proxy._record(method, path, str(status))
        self._relay(status, headers, payload, declared=len(payload), send=payload)

    def _forward(self, method: str, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(self.proxy.upstream_host, self.proxy.upstream_port, timeout=30)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            headers["Host"] = f"{self.proxy.upstream_host}:{self.proxy.upstream_port}"
            conn.request(
                method, self.path, body=body if body or method in ("PUT", "POST") else None, headers=headers
            )
            response = conn.getresponse()
            payload = response.read()
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
            return response.status, kept, payload
        finally:
            conn.close()

    def _relay(
        self, status: int, headers: list[tuple[str, str]], payload: bytes, *, declared: int, send: bytes
    ) -> None:
        self.send_response(status)
        for key, value in headers:
            if key.lower() != "content-length":
                self.send_header(key, value)
        self.send_header("Content-Length", str(declared))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(send)
        self.wfile.flush()

    def _s3_error(self, status: int) -> None:
        code = {403: "AccessDenied", 404: "NoSuchKey", 500: "InternalError", 503: "SlowDown"}.get(
            status, "InjectedFault"
        )
        data = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>injected fault {status}</Message></Error>"
        ).encode()
        self.send_response(status)
        if 300 <= status < 400:
            # Off the allow-list, as a hijacked or misconfigured endpoint would send it.
            self.send_header("Location", "https://evil.example.com/collect")
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class RawServer:
    """Answers every request on 127.0.0.1 with `respond()`'s byte pieces, sent as they come, with
    `pause_s` between pieces (a drip). Stops mid-answer when the client hangs up or on `stop()`."""

    def __init__(self, respond: Callable[[], Iterable[bytes]], pause_s: float = 0.0) -> None:
        self._respond = respond
        self._pause_s = pause_s
        self._stopping = threading.Event()
        self.requests: list[str] = []  # request lines without query strings
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                sock: socket.socket = self.request
                head = b""
                while b"\r\n\r\n" not in head and len(head) < 65_536:
                    data = sock.recv(4096)
                    if not data:
                        return
                    head += data
                line = head.split(b"\r\n", 1)[0].decode("latin-1")
                outer.requests.append(line.split("?", 1)[0])
                try:
                    for piece in outer._respond():
                        if outer._stopping.is_set():
                            return
                        sock.sendall(piece)
                        if outer._pause_s:
                            time.sleep(outer._pause_s)
                except OSError:
                    return  # the client gave up: that is the behaviour under test

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(POLL_S,), daemon=True)

    def __enter__(self) -> RawServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def url(self, path: str = "/bucket/t.txt") -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}?X-Amz-Signature=secret"
