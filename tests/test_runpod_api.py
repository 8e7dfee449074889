"""The RunPod API client and its HTTP helper against real loopback servers that answer strangely:
redirects, JSON that is not an object, retryable statuses. (Issue 13 item 2, issue 9.)"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from devstack.cloud import FAKE_CREDENTIALS, REGION
from dispatcher.app import Dispatcher
from dispatcher.errors import DispatchError, RunPodAuthError, RunPodError, RunPodUnavailableError
from dispatcher.http import HttpRedirectError, HttpStatusError, HttpUnavailableError, JsonHttp
from dispatcher.presign import Presigner, make_s3_client
from dispatcher.runpod_api import RunPodClient
from dispatcher.settings import Settings
from tests.conftest import load_event


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
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
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
