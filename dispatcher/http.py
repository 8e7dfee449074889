"""One JSON-over-HTTP call with bounded retries, for every RunPod client (stdlib only).

The dispatcher's `/run` client and `make deploy-worker`'s management client both send a JSON body
with a Bearer key and read a JSON answer. This module is that call, once: urllib (25 ms to import;
requests is not in the Lambda runtime), an injected opener and sleep (tests hand in their own),
and typed errors that each client translates into its own tree.

Retries: 408, 425, 429, 5xx and network errors are retried with exponential backoff and full
jitter, at most `attempts` times; a caller passes `retry=False` for a request that is not
idempotent. 401/403 and other 4xx are answers, not accidents: never retried.

Redirects are never followed. urllib's default opener re-sends a request to whatever `Location`
says, headers included, so a 3xx from `/run` would hand the API key to another origin. The default
opener here refuses them (a 3xx is an `HttpRedirectError`), and an answer whose URL is not the one
asked (an injected opener that followed anyway) is refused the same way.

An answer is bounded: urllib's timeout is per socket read, so an answer dripped a byte at a time
never ended; the default opener's connections give the whole exchange `timeout_s` (past it, the
next read times out). At most `MAX_ANSWER_BYTES` are read, and a body that is not JSON (bytes that
are not UTF-8, HTML, JSON nested past the parser's depth) is an `HttpDecodeError` naming the
problem, never a stray `UnicodeDecodeError` or `RecursionError`.

HttpError
├── HttpStatusError      a status that retrying cannot change (4xx but 408/425/429): status, body, problem
├── HttpRedirectError    a 3xx: status and Location, not followed
├── HttpUnavailableError retries exhausted on network errors or retryable statuses (`.last`)
│   └── HttpTimeoutError  sent, no answer in time: not retried when the caller says a repeat is unsafe
└── HttpDecodeError      a 2xx whose body is not JSON
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import random
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

log = logging.getLogger(__name__)

RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
# RunPod's answers are a few hundred bytes; anything this large is not one.
MAX_ANSWER_BYTES = 1 << 20
Opener = Callable[..., Any]


class HttpError(Exception):
    pass


class HttpStatusError(HttpError):
    def __init__(self, status: int, body: str, problem: Mapping[str, Any] | None) -> None:
        super().__init__(f"HTTP {status}: {body[:300]}")
        self.status = status
        self.body = body  # at most 2,000 characters of the answer
        self.problem = problem  # the answer as a JSON object (RFC 9457 problem), if it was one


class HttpRedirectError(HttpError):
    def __init__(self, status: int, location: str) -> None:
        super().__init__(f"HTTP {status} redirect to {location or '(no Location)'}: not followed")
        self.status = status
        self.location = location


class HttpUnavailableError(HttpError):
    def __init__(self, message: str, last: HttpStatusError | None = None) -> None:
        super().__init__(message)
        self.last = last  # the last retryable status answer, if the last failure was one


class HttpTimeoutError(HttpUnavailableError):
    """The request was sent but no answer came in time (raised at once with `retry_timeouts=False`)."""


class HttpDecodeError(HttpError):
    pass


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """Turn every 3xx into an HTTPError instead of a second request carrying our headers."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class _DeadlineResponse(http.client.HTTPResponse):
    timer: threading.Timer | None = None

    def close(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        super().close()


class _Deadline:
    """A connection whose whole exchange ends `timeout` seconds after it connected: past it, every
    read times out at once (urllib's own timeout restarts with each byte received)."""

    _timer: threading.Timer | None = None

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        seconds = self.timeout  # type: ignore[attr-defined]
        self._timer = threading.Timer(seconds, _expire, (self.sock,))  # type: ignore[attr-defined]
        self._timer.daemon = True
        self._timer.start()

    def getresponse(self) -> http.client.HTTPResponse:
        response = super().getresponse()  # type: ignore[misc]
        response.timer = self._timer  # the response outlives this connection's socket in urllib
        return response

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        super().close()  # type: ignore[misc]


def _expire(sock: Any) -> None:
    with contextlib.suppress(OSError):  # already closed: the exchange is over
        sock.settimeout(0.001)


class _DeadlineHTTPConnection(_Deadline, http.client.HTTPConnection):
    response_class = _DeadlineResponse


class _DeadlineHTTPSConnection(_Deadline, http.client.HTTPSConnection):
    response_class = _DeadlineResponse


class _DeadlineHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: Any) -> Any:
        return self.do_open(_DeadlineHTTPConnection, req)


class _DeadlineHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, context: ssl.SSLContext | None = None) -> None:
        super().__init__(context=context)
        self._tls = context

    def https_open(self, req: Any) -> Any:
        return self.do_open(_DeadlineHTTPSConnection, req, context=self._tls)


def no_redirect_opener() -> Opener:
    return urllib.request.build_opener(_RefuseRedirects, _DeadlineHTTPHandler, _DeadlineHTTPSHandler).open


class JsonHttp:
    def __init__(
        self,
        *,
        timeout_s: float = 10.0,
        attempts: int = 4,
        backoff_s: float = 0.5,
        opener: Opener | None = None,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._timeout_s = timeout_s
        self._attempts = max(1, attempts)
        self._backoff_s = backoff_s
        self._open = opener or no_redirect_opener()
        self._sleep = sleep
        self._jitter = jitter

    def request(
        self,
        method: str,
        url: str,
        body: Any = None,
        *,
        headers: Mapping[str, str] | None = None,
        retry: bool = True,
        retry_timeouts: bool = True,
    ) -> Any:
        """Send; return the answer's JSON (None for an empty body). Raises an `HttpError`.

        `retry_timeouts=False`: a request that may have taken effect although its answer never
        came (POST /run creates a job) is not repeated: `HttpTimeoutError` at once."""
        data = json.dumps(body).encode() if body is not None else None
        attempts = self._attempts if retry else 1
        last, last_status = "", None
        for attempt in range(1, attempts + 1):
            request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 (URL from settings)
            for name, value in (headers or {}).items():
                request.add_header(name, value)
            request.add_header("Accept", "application/json")
            if data is not None:
                request.add_header("Content-Type", "application/json")
            try:
                with self._open(request, timeout=self._timeout_s) as response:
                    if response.geturl() != url:
                        raise HttpRedirectError(302, response.geturl())
                    payload = response.read(MAX_ANSWER_BYTES + 1)
            except urllib.error.HTTPError as exc:
                with exc:  # an HTTPError holds the connection open until closed
                    if 300 <= exc.code < 400:
                        raise HttpRedirectError(exc.code, exc.headers.get("Location", "")) from exc
                    text = _error_body(exc)
                status = HttpStatusError(exc.code, text, _json_object(text))
                if exc.code not in RETRY_STATUS:
                    raise status from exc
                last, last_status = f"HTTP {exc.code}", status
            except (http.client.HTTPException, OSError) as exc:  # URLError, timeouts, resets, TLS
                last, last_status = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}", None
                timed_out = isinstance(exc, TimeoutError) or isinstance(
                    getattr(exc, "reason", None), TimeoutError
                )
                if timed_out and not retry_timeouts:
                    raise HttpTimeoutError(f"no answer within {self._timeout_s}s: {last}") from exc
            else:
                return _json_answer(payload)
            if attempt < attempts:
                delay = self._backoff_s * 2 ** (attempt - 1) * (0.5 + self._jitter())
                log.warning("%s %s: %s; retry %d in %.2fs", method, url, last, attempt, delay)
                self._sleep(delay)
        plural = "s" if attempts != 1 else ""
        raise HttpUnavailableError(f"failed after {attempts} attempt{plural}: {last}", last_status)


def _error_body(exc: urllib.error.HTTPError) -> str:
    """The first 2,000 characters of an error answer; "" when even that cannot be read in time."""
    try:
        return exc.read(2000).decode("utf-8", "replace")
    except (http.client.HTTPException, OSError):
        return ""


def _json_answer(payload: bytes) -> Any:
    """A 2xx body as JSON (None when empty), or `HttpDecodeError` saying why it is not."""
    if len(payload) > MAX_ANSWER_BYTES:
        raise HttpDecodeError(f"the answer is over {MAX_ANSWER_BYTES} bytes; not read further")
    if not payload.strip():
        return None
    try:
        return json.loads(payload)
    except RecursionError as exc:
        raise HttpDecodeError("the answer is JSON nested too deeply to read") from exc
    except ValueError as exc:  # JSONDecodeError, and UnicodeDecodeError for bytes that are not text
        raise HttpDecodeError(f"the answer is not JSON: {payload[:100]!r}") from exc


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) else None
