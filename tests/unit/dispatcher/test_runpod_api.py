"""The RunPod API client and its HTTP helper against real loopback servers that answer strangely:
redirects, JSON that is not an object, retryable statuses. (Issue 13 item 2, issue 9.)"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from devstack.cloud import FAKE_CREDENTIALS, REGION
from devstack.faults import RawServer
from devstack.httpserver import POLL_S
from dispatcher.app import Dispatcher
from dispatcher.errors import (
    DispatchError,
    RunPodAuthError,
    RunPodError,
    RunPodUnavailableError,
    RunPodUnconfirmedError,
)
from dispatcher.http import HttpRedirectError, HttpStatusError, HttpUnavailableError, JsonHttp
from dispatcher.presign import Presigner, make_s3_client
from dispatcher.runpod_api import RunPodClient
from dispatcher.settings import Settings
from tests.support.paths import load_event
from tests.support.procs import scaled


class Scripted:
    """A loopback HTTP server answering each request with the next scripted (status, headers, body)."""

    def __init__(self) -> None:
        self.answers: deque[tuple[int, dict[str, str], bytes]] = deque()
        self.seen: list[tuple[str, str, str | None]] = []  # method, path, Authorization
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
                pass

            def _answer(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                scripted.seen.append((self.command, self.path, self.headers.get("Authorization")))
                status, headers, body = (
                    scripted.answers.popleft() if scripted.answers else (200, {}, b'{"id": "job-ok"}')
                )
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer  # noqa: N815 (stdlib naming)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(POLL_S,), daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def then(self, status: int, body: Any = None, **headers: str) -> Scripted:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.answers.append((status, headers, raw))
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def server() -> Iterator[Scripted]:
    scripted = Scripted()
    yield scripted
    scripted.stop()


@pytest.fixture
def elsewhere() -> Iterator[Scripted]:
    """Another origin: a redirect's target, which must never see a request."""
    scripted = Scripted()
    yield scripted
    scripted.stop()


def _client(server: Scripted, attempts: int = 3) -> RunPodClient:
    return RunPodClient(f"{server.url}/v2/ep", "secret-key", attempts=attempts, sleep=lambda _s: None)


def test_a_redirect_from_run_is_an_error_and_the_key_never_reaches_the_other_origin(
    server: Scripted, elsewhere: Scripted
) -> None:
    server.then(302, {}, Location=f"{elsewhere.url}/steal")
    with pytest.raises(RunPodError, match=r"redirect \(HTTP 302\).*not followed"):
        _client(server).submit({"text": "hi"}, {})
    assert elsewhere.seen == []
    assert len(server.seen) == 1  # a redirect is an answer, not a failure to retry


@pytest.mark.parametrize("answer", [[1, 2], "x", None], ids=["list", "string", "null"])
def test_run_answering_json_that_is_not_an_object_is_a_runpod_error(server: Scripted, answer: Any) -> None:
    server.then(200, answer if answer is not None else b"null")
    with pytest.raises(RunPodError, match="not an object"):
        _client(server).submit({"text": "hi"}, {})


def test_status_answering_a_list_is_a_runpod_error(server: Scripted) -> None:
    server.then(200, [1, 2])
    with pytest.raises(RunPodError, match=r"GET /status/j1 answered with JSON that is not an object"):
        _client(server).status("j1")


def test_strange_answers_fail_only_their_own_records(
    server: Scripted, elsewhere: Scripted, moto_endpoint: str
) -> None:
    """Three records: a list, a redirect, then a real job id. The third is still dispatched."""
    server.then(200, [1, 2]).then(302, {}, Location=f"{elsewhere.url}/run").then(200, {"id": "job-3"})
    endpoint_url = f"{server.url}/v2/ep"
    settings = Settings.from_env(
        {"RUNPOD_API_KEY": "secret-key", "RUNPOD_ENDPOINT_URL": endpoint_url, "AWS_REGION": REGION}
    )
    presigner = Presigner(make_s3_client(REGION, moto_endpoint, FAKE_CREDENTIALS), 3600)
    dispatcher = Dispatcher(settings, presigner, _client(server))
    result = dispatcher.handle(load_event("s3_put_many_records.json"))
    assert [d["job_id"] for d in result["dispatched"]] == ["job-3"]
    errors = [f["error"] for f in result["failed"]]
    assert "not an object" in errors[0] and "redirect" in errors[1]
    assert elsewhere.seen == []
    # What Lambda sees: one typed error naming the count, not an AttributeError from deep inside.
    server.then(200, "x").then(200, {"id": "a"}).then(200, {"id": "b"})
    with pytest.raises(DispatchError, match=r"1 of 3 records failed"):
        dispatcher.run(load_event("s3_put_many_records.json"))


def test_retryable_statuses_are_retried_with_growing_jittered_backoff(server: Scripted) -> None:
    for status in (429, 425, 503):
        server.then(status, {"error": "busy"})
    delays: list[float] = []
    http = JsonHttp(attempts=4, backoff_s=1.0, sleep=delays.append, jitter=lambda: 0.5)
    assert http.request("POST", server.url + "/run", {"a": 1}) == {"id": "job-ok"}
    assert delays == [1.0, 2.0, 4.0]


def test_retries_are_bounded_and_say_what_failed_last(server: Scripted) -> None:
    server.then(502, {"title": "Bad Gateway"}).then(502, {"title": "Bad Gateway"})
    http = JsonHttp(attempts=2, sleep=lambda _s: None)
    with pytest.raises(HttpUnavailableError, match="failed after 2 attempts: HTTP 502") as caught:
        http.request("GET", server.url + "/x")
    assert caught.value.last is not None and caught.value.last.problem == {"title": "Bad Gateway"}
    assert len(server.seen) == 2


def test_a_non_idempotent_request_can_opt_out_of_retries(server: Scripted) -> None:
    server.then(503, {})
    with pytest.raises(HttpUnavailableError, match="after 1 attempt:"):
        JsonHttp(sleep=lambda _s: None).request("POST", server.url + "/x", {}, retry=False)
    assert len(server.seen) == 1


@pytest.mark.parametrize("status", [401, 403])
def test_a_rejected_key_is_not_retried(server: Scripted, status: int) -> None:
    server.then(status, {"error": "no"})
    with pytest.raises(RunPodAuthError, match=f"rejected the API key \\({status}\\)"):
        _client(server).submit({}, {})
    assert len(server.seen) == 1


def test_a_client_error_keeps_the_answer_as_a_problem_document(server: Scripted) -> None:
    problem = {"title": "Unprocessable Entity", "status": 422, "detail": "bad", "errors": ["$.x"]}
    server.then(422, problem, **{"Content-Type": "application/problem+json"})
    with pytest.raises(HttpStatusError) as caught:
        JsonHttp().request("POST", server.url + "/x", {})
    assert (caught.value.status, caught.value.problem) == (422, problem)


def test_network_errors_become_unavailable_after_retries() -> None:
    dead = Scripted()
    url = dead.url
    dead.stop()
    with pytest.raises(RunPodUnavailableError, match="failed after 2 attempts"):
        RunPodClient(url, "k", attempts=2, sleep=lambda _s: None).submit({}, {})


def test_the_default_opener_refuses_redirects_itself(server: Scripted, elsewhere: Scripted) -> None:
    server.then(307, {}, Location=f"{elsewhere.url}/x")
    with pytest.raises(HttpRedirectError) as caught:
        JsonHttp().request("POST", server.url + "/run", {"a": 1}, headers={"Authorization": "Bearer k"})
    assert caught.value.location == f"{elsewhere.url}/x" and elsewhere.seen == []


# ---- hostile answers, round three: every redirect kind, bodies that are not usable, slow answers ----
@pytest.mark.parametrize("status", [300, 301, 302, 303, 304, 305, 307, 308])
def test_every_redirect_kind_is_an_error_and_the_key_never_leaves_the_origin(
    status: int, server: Scripted, elsewhere: Scripted
) -> None:
    server.then(status, {}, Location=f"{elsewhere.url}/steal")
    with pytest.raises(RunPodError, match=rf"redirect \(HTTP {status}\).*not followed"):
        _client(server).submit({"text": "hi"}, {})
    assert elsewhere.seen == [] and len(server.seen) == 1


UNUSABLE_ANSWERS = {
    # json.loads raised RecursionError past ~1,000 levels, out of lambda_handler.
    "nested_too_deep": (200, b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    "object_nested_too_deep": (200, b'{"id": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply"),
    # Bytes that are not UTF-8 raised UnicodeDecodeError, not a RunPodError.
    "not_utf8": (200, b'{"id": "\xff\xfe"}', "not JSON"),
    "html_page": (200, b"<html><body>Bad gateway</body></html>", "not JSON"),
    "over_a_megabyte": (200, b'{"id": "job-1", "pad": "' + b"a" * (2 << 20) + b'"}', "over 1048576 bytes"),
    "empty_body": (200, b"", "not an object"),
    "no_content": (204, b"", "not an object"),
    "whitespace_body": (200, b"  \n ", "not an object"),
}


@pytest.mark.parametrize("name", UNUSABLE_ANSWERS)
def test_run_answers_that_are_not_usable_json_are_runpod_errors(name: str, server: Scripted) -> None:
    status, body, fragment = UNUSABLE_ANSWERS[name]
    server.then(status, body)
    with pytest.raises(RunPodError, match=fragment):
        _client(server).submit({"text": "hi"}, {})


@pytest.mark.parametrize(
    "answer",
    [
        {},
        {"id": None},
        {"id": 5},
        {"id": ""},
        {"id": ["job-1"]},
        {"id": "../../status/other?x=1"},
        {"id": "job\nX-Injected: 1"},
        {"id": "a" * 100_000},
        {"id": "job 1"},
    ],
    ids=["missing", "null", "integer", "empty", "list", "path", "newline", "huge", "space"],
)
def test_run_answering_without_a_usable_job_id_is_a_runpod_error(server: Scripted, answer: Any) -> None:
    server.then(200, answer)
    with pytest.raises(RunPodError, match="job id") as caught:
        _client(server).submit({"text": "hi"}, {})
    assert len(str(caught.value)) < 400


@pytest.mark.parametrize("job_id", ["../run", "j?x=1", "j/../k", "", "j\n"])
def test_status_and_cancel_refuse_an_id_that_would_change_the_path(server: Scripted, job_id: str) -> None:
    for call in (_client(server).status, _client(server).cancel):
        with pytest.raises(RunPodError, match="not a RunPod job id"):
            call(job_id)
    assert server.seen == []


def _dripped(head_only: bool) -> list[bytes]:
    body = b'{"id": "job-1"}' + b" " * 200
    if head_only:
        return [bytes([b]) for b in b"HTTP/1.1 200 OK\r\nX-Pad: " + b"a" * 200]
    head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    return [head] + [bytes([b]) for b in body]


@pytest.mark.parametrize("head_only", [False, True], ids=["body_dripped", "head_dripped"])
def test_an_answer_dripped_a_byte_at_a_time_ends_at_the_timeout_and_run_is_not_resent(
    head_only: bool,
) -> None:
    """urllib's timeout restarts with every byte: a dripped answer held /run for minutes."""
    with RawServer(lambda: _dripped(head_only), pause_s=0.2) as raw:
        client = RunPodClient(raw.url("/v2/ep"), "secret-key", timeout_s=1, attempts=3, sleep=lambda _s: None)
        tick = time.monotonic()
        with pytest.raises(RunPodUnconfirmedError, match=r"no answer within 1s"):
            client.submit({"text": "hi"}, {})
        assert time.monotonic() - tick < scaled(5)
    assert len(raw.requests) == 1


def test_unusable_answers_fail_only_their_own_records(server: Scripted, moto_endpoint: str) -> None:
    """Three records: JSON nested too deep, an id that is a path, then a real job id."""
    server.then(200, b"[" * 50_000 + b"]" * 50_000).then(200, {"id": "../x"}).then(200, {"id": "job-3"})
    settings = Settings.from_env(
        {"RUNPOD_API_KEY": "secret-key", "RUNPOD_ENDPOINT_URL": f"{server.url}/v2/ep", "AWS_REGION": REGION}
    )
    presigner = Presigner(make_s3_client(REGION, moto_endpoint, FAKE_CREDENTIALS), 3600)
    result = Dispatcher(settings, presigner, _client(server)).handle(load_event("s3_put_many_records.json"))
    assert [d["job_id"] for d in result["dispatched"]] == ["job-3"]
    assert ["nested too deeply" in f["error"] or "job id" in f["error"] for f in result["failed"]] == [
        True,
        True,
    ]
