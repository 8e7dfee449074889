"""A RunPod serverless emulator: the public API and the worker protocol, over stdlib HTTP.

Public API (Bearer auth): `POST /v2/{ep}/run`, `GET /v2/{ep}/status/{id}`, `POST /v2/{ep}/cancel/{id}`,
`GET /v2/{ep}/health`. Worker protocol, as the runpod SDK's production loop uses it:
`GET /v2/{ep}/job-take/{worker}` and `/job-take-batch/{worker}?batch_size=N` (long-poll, 204 when
idle), `GET /v2/{ep}/job-stop/{worker}` (long-poll for cancelled or timed-out jobs), and
`POST /v2/{ep}/job-done/{worker}/{job}` (result, or `status: IN_PROGRESS` progress).

It honours `policy.ttl` and `policy.executionTimeout`, caps `/run` bodies at 10 MB, keeps results
for `result_ttl_s` (30 minutes on RunPod), posts webhooks, and lets tests inject faults (`faults`).
As RunPod documents it, a job still queued past its `policy.ttl` is deleted: `/status` answers 404
and no webhook is sent (`expired` keeps the ids, for tests).
The SDK's own `--rp_serve_api` cannot stand in: it runs `/run` jobs only when `/status` is POSTed.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from devstack.httpserver import JsonHandler, LoopbackServer

log = logging.getLogger(__name__)

MAX_RUN_BODY = 10 * 1024 * 1024
TERMINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"})


@dataclass
class Job:
    id: str
    input: Any
    policy: dict[str, Any]
    webhook: str | None
    status: str = "IN_QUEUE"
    output: Any = None
    error: Any = None
    progress: Any = None
    worker_id: str | None = None
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    attempts: int = 0

    def view(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "status": self.status}
        if self.started:
            body["delayTime"] = int((self.started - self.created) * 1000)
        if self.started and self.finished:
            body["executionTime"] = int((self.finished - self.started) * 1000)
        if self.status == "IN_PROGRESS" and self.progress is not None:
            body["output"] = self.progress
        if self.status in TERMINAL and self.output is not None:
            body["output"] = self.output
        if self.error is not None:
            body["error"] = self.error
        if self.worker_id:
            body["workerId"] = self.worker_id
        return body


@dataclass
class Faults:
    """Faults to inject. `run_statuses`: answers to force on the next /run calls (e.g. [429, 503]),
    consumed in order; `run_delay_s`: how long every /run takes to answer (a slow API, a race
    window); `take_statuses`: answers to force on the next job-take calls (the worker's side);
    `status_statuses` and `status_delay_s`: the same for `/status` (an API that errors or hangs);
    `health_statuses` and `health_delay_s`: the same for `/health` (with the `/status` ones: an outage);
    `run_ended`: statuses the next /run answers carry, their jobs ended at once (RunPod's `/run` can
    answer `FAILED`, `CANCELLED` or `TIMED_OUT`); `job_status`: a job id whose every `/status` is
    answered with this (status, body) instead (one job's answers broken, the others fine)."""

    run_statuses: deque[int] = field(default_factory=deque)
    run_delay_s: float = 0.0
    take_statuses: deque[int] = field(default_factory=deque)
    status_statuses: deque[int] = field(default_factory=deque)
    status_delay_s: float = 0.0
    health_statuses: deque[int] = field(default_factory=deque)
    health_delay_s: float = 0.0
    run_ended: deque[str] = field(default_factory=deque)
    job_status: dict[str, tuple[int, bytes]] = field(default_factory=dict)


class RunPodEmulator:
    def __init__(
        self,
        endpoint_id: str = "local-endpoint",
        api_key: str = "local-api-key",
        worker_token: str = "local-worker-token",  # noqa: S107 (local emulator)
        *,
        poll_s: float = 2.0,
        result_ttl_s: float = 1800.0,
        worker_lost_s: float | None = None,
        max_attempts: int = 2,
    ) -> None:
        self.endpoint_id = endpoint_id
        self.api_key = api_key
        self.worker_token = worker_token
        self.poll_s = poll_s
        self.result_ttl_s = result_ttl_s
        # A worker silent this long (no job-take, job-stop or job-done call: killed, OOM, node lost)
        # is gone: its jobs go back to the queue, up to `max_attempts` runs, then FAILED.
        # None: jobs wait for policy.executionTimeout instead.
        self.worker_lost_s = worker_lost_s
        self.max_attempts = max_attempts
        self.last_seen: dict[str, float] = {}
        self.faults = Faults()
        self.jobs: dict[str, Job] = {}
        self.pings = 0  # worker heartbeats answered (GET .../ping/<worker>)
        self.run_requests = 0  # accepted-auth POST /run calls, faults included
        self.api_requests = 0  # every public API call, rejected ones included
        self.status_requests = 0  # accepted-auth GET /status calls, faults included
        self.expired: set[str] = set()  # ids deleted at policy.ttl (RunPod: /status 404, no webhook)
        self._queue: deque[str] = deque()
        self._stops: dict[str, set[str]] = {}
        self._cond = threading.Condition()
        self._http: LoopbackServer | None = None

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self, port: int = 0) -> RunPodEmulator:
        emulator = self

        class Handler(_Handler):
            pass

        Handler.emulator = emulator
        self._http = LoopbackServer(Handler, port, name="runpod-emulator").start()
        return self

    def stop(self) -> None:
        if self._http is not None:
            with self._cond:
                self._cond.notify_all()
            self._http.stop()
            self._http = None

    @property
    def base_url(self) -> str:
        assert self._http is not None
        return self._http.url

    @property
    def endpoint_url(self) -> str:
        """What the dispatcher calls RUNPOD_ENDPOINT_URL."""
        return f"{self.base_url}/v2/{self.endpoint_id}"

    def worker_env(self) -> dict[str, str]:
        """Env for a worker process running the runpod SDK's production loop against us."""
        base = f"{self.endpoint_url}"
        token = f"?token={self.worker_token}"
        return {
            "RUNPOD_WEBHOOK_GET_JOB": f"{base}/job-take/$ID{token}",
            "RUNPOD_WEBHOOK_POST_OUTPUT": f"{base}/job-done/$RUNPOD_POD_ID/$ID{token}",
            "RUNPOD_WEBHOOK_POST_STREAM": f"{base}/job-stream/$RUNPOD_POD_ID/$ID{token}",
            "RUNPOD_POD_ID": "local-worker-" + uuid.uuid4().hex[:6],
            "RUNPOD_ENDPOINT_ID": self.endpoint_id,
            "RUNPOD_AI_API_KEY": self.worker_token,
            "RUNPOD_SKIP_AUTO_SYSTEM_CHECKS": "true",
            "RUNPOD_SKIP_GPU_CHECK": "true",
            "RUNPOD_LOG_LEVEL": "INFO",
        }

    def ping_url(self) -> str:
        """RUNPOD_WEBHOOK_PING for a worker: without it the SDK logs "Ping URL not set" at ERROR.
        Pings are answered but do not count as a sign of life (`seen`): the SDK pings from a
        child process, which a SIGKILLed worker leaves behind, and that orphan must not keep the
        dead worker's jobs from being requeued."""
        return f"{self.endpoint_url}/ping/$RUNPOD_POD_ID?token={self.worker_token}"

    # ---- state transitions (all under the condition's lock) --------------------------------
    def submit(self, body: dict[str, Any]) -> Job:
        job = Job(
            id=f"{uuid.uuid4()}-e1",
            input=body["input"],
            policy=dict(body.get("policy") or {}),
            webhook=body.get("webhook"),
        )
        with self._cond:
            self.jobs[job.id] = job
            self._queue.append(job.id)
            self._cond.notify_all()
        return job

    def end(self, job_id: str, status: str) -> None:
        """End a job as RunPod does without a worker (a `/run` answered FAILED, an expired worker)."""
        with self._cond:
            job = self.jobs[job_id]
            job.status, job.finished = status, time.time()
            job.error = f"injected: the job ended {status} before any worker took it"
            self._cond.notify_all()

    def take(self, worker_id: str, count: int) -> list[Job]:
        deadline = time.monotonic() + self.poll_s
        with self._cond:
            while True:
                self._expire()
                taken: list[Job] = []
                while self._queue and len(taken) < count:
                    job = self.jobs.get(self._queue.popleft())
                    if job is None or job.status != "IN_QUEUE":  # expired (deleted) or cancelled
                        continue
                    job.status, job.worker_id, job.started = "IN_PROGRESS", worker_id, time.time()
                    job.attempts += 1
                    taken.append(job)
                remaining = deadline - time.monotonic()
                if taken or remaining <= 0 or self._http is None:
                    return taken
                self._cond.wait(remaining)

    def finish(self, job_id: str, body: dict[str, Any]) -> None:
        with self._cond:
            job = self.jobs.get(job_id)
            if job is None or job.status in TERMINAL:
                return  # late answer for a cancelled or timed-out job
            if body.get("status") == "IN_PROGRESS":
                job.progress = body.get("output")
                return
            job.finished = time.time()
            job.output = body.get("output")
            job.error = body.get("error")
            job.status = "FAILED" if job.error else "COMPLETED"
            self._cond.notify_all()
        self._post_webhook(job)

    def cancel(self, job_id: str) -> Job | None:
        with self._cond:
            job = self.jobs.get(job_id)
            if job is None:
                return None
            if job.status == "IN_PROGRESS" and job.worker_id:
                self._stops.setdefault(job.worker_id, set()).add(job.id)
            if job.status not in TERMINAL:
                job.status, job.finished = "CANCELLED", time.time()
            self._cond.notify_all()
            return job

    def stops(self, worker_id: str) -> list[str]:
        deadline = time.monotonic() + self.poll_s
        with self._cond:
            while True:
                self._expire()
                pending = self._stops.pop(worker_id, set())
                remaining = deadline - time.monotonic()
                if pending or remaining <= 0 or self._http is None:
                    return sorted(pending)
                self._cond.wait(remaining)

    def wait(self, job_id: str, timeout_s: float) -> Job:
        """Block until the job is terminal (for tests and the demo)."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while self.jobs[job_id].status not in TERMINAL:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(min(remaining, 0.5))
                self._expire()
            return self.jobs[job_id]

    def queue_first(self, job_id: str) -> None:
        """Move a queued job to the head of the queue (tests: make jobs finish out of order)."""
        with self._cond:
            self._queue.remove(job_id)
            self._queue.appendleft(job_id)

    def counts(self) -> dict[str, int]:
        with self._cond:
            out: dict[str, int] = {}
            for job in self.jobs.values():
                out[job.status] = out.get(job.status, 0) + 1
            return out

    def seen(self, worker_id: str) -> None:
        with self._cond:
            self.last_seen[worker_id] = time.monotonic()

    def refresh(self) -> None:
        """Apply timeouts and lost workers now (the status route, tests)."""
        with self._cond:
            self._expire()

    def _requeue_lost(self) -> None:
        if self.worker_lost_s is None:
            return
        now = time.monotonic()
        for job in self.jobs.values():
            if job.status != "IN_PROGRESS" or job.worker_id is None:
                continue
            if now - self.last_seen.get(job.worker_id, now) <= self.worker_lost_s:
                continue
            if job.attempts < self.max_attempts:
                job.status, job.worker_id, job.started = "IN_QUEUE", None, None
                self._queue.append(job.id)
            else:
                job.status, job.finished = "FAILED", time.time()
                job.error = f"worker lost {job.attempts} times (no heartbeat for {self.worker_lost_s}s)"
            self._cond.notify_all()

    def _expire(self) -> None:
        self._requeue_lost()
        now = time.time()
        for job in self.jobs.values():
            ttl = job.policy.get("ttl")
            timeout = job.policy.get("executionTimeout")
            if job.status == "IN_QUEUE" and ttl and now - job.created > ttl / 1000:
                self.expired.add(job.id)  # deleted below: RunPod forgets an expired job
            elif (
                job.status == "IN_PROGRESS" and job.started and timeout and now - job.started > timeout / 1000
            ):
                job.status, job.finished = "TIMED_OUT", now
                job.error = "job exceeded policy.executionTimeout"
                if job.worker_id:
                    self._stops.setdefault(job.worker_id, set()).add(job.id)
        for job_id in [
            j.id
            for j in self.jobs.values()
            if (j.status in TERMINAL and j.finished and now - j.finished > self.result_ttl_s)
            or j.id in self.expired
        ]:
            del self.jobs[job_id]

    def _post_webhook(self, job: Job) -> None:
        if not job.webhook:
            return
        data = json.dumps(job.view()).encode()

        def send() -> None:
            request = urllib.request.Request(job.webhook or "", data=data, method="POST")  # noqa: S310
            request.add_header("Content-Type", "application/json")
            try:
                urllib.request.urlopen(request, timeout=5).close()  # noqa: S310
            except OSError as exc:
                log.warning("webhook for %s failed: %s", job.id, exc)

        threading.Thread(target=send, daemon=True).start()


class _Handler(JsonHandler):
    # JsonHandler writes no access log: request lines carry worker tokens; tests read state instead.
    emulator: RunPodEmulator
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (http.server calls it by this name)
        self._route("GET")

    def do_POST(self) -> None:  # noqa: N802 (http.server calls it by this name)
        self._route("POST")

    def _injected_fault(self, delay_s: float, statuses: deque[int]) -> bool:
        """A test's injected fault for this request: its delay, then the next injected status
        answered in place of the real one. True when that answer was sent."""
        if delay_s:
            time.sleep(delay_s)
        if not statuses:
            return False
        status = statuses.popleft()
        self.send_json(status, {"error": f"injected fault {status}"})
        return True

    def _route(self, method: str) -> None:
        parts = urlsplit(self.path)
        segments = [s for s in parts.path.split("/") if s]
        query = parse_qs(parts.query)
        length = int(self.headers.get("Content-Length") or 0)
        em = self.emulator
        if len(segments) < 3 or segments[0] != "v2" or segments[1] != em.endpoint_id:
            self.rfile.read(length)
            return self.send_json(404, {"error": "unknown endpoint"})
        action, rest = segments[2], segments[3:]
        if action in ("job-take", "job-take-batch", "job-stop", "job-done", "job-stream", "ping"):
            body = self.rfile.read(length)
            if query.get("token", [""])[0] != em.worker_token:
                return self.send_json(401, {"error": "bad worker token"})
            if action == "ping":
                em.pings += 1
                return self.send_json(200, {})
            if rest:
                em.seen(rest[0])
            return self._worker(method, action, rest, query, body)
        em.api_requests += 1
        if self.headers.get("Authorization", "") != f"Bearer {em.api_key}":
            self.rfile.read(length)
            return self.send_json(401, {"error": "Unauthorized"})
        if action == "run" and method == "POST":
            if length > MAX_RUN_BODY:
                self.rfile.read(length)
                return self.send_json(413, {"error": f"request body over {MAX_RUN_BODY} bytes"})
            body = self.rfile.read(length)
            em.run_requests += 1
            if self._injected_fault(em.faults.run_delay_s, em.faults.run_statuses):
                return None
            try:
                payload = json.loads(body)
            except json.JSONDecodeError:
                return self.send_json(400, {"error": "body is not JSON"})
            if not isinstance(payload, dict) or "input" not in payload:
                return self.send_json(400, {"error": "body must be an object with 'input'"})
            created = em.submit(payload)
            if em.faults.run_ended:
                em.end(created.id, em.faults.run_ended.popleft())
            return self.send_json(200, created.view())
        self.rfile.read(length)
        if action == "status" and rest:
            em.status_requests += 1
            if self._injected_fault(em.faults.status_delay_s, em.faults.status_statuses):
                return None
            broken = em.faults.job_status.get(rest[0])
            if broken is not None:
                return self._raw(*broken)
            em.refresh()
            found = em.jobs.get(rest[0])
            return (
                self.send_json(200, found.view())
                if found
                else self.send_json(404, {"error": "job not found"})
            )
        if action == "cancel" and rest and method == "POST":
            cancelled = em.cancel(rest[0])
            if cancelled is None:
                return self.send_json(404, {"error": "job not found"})
            return self.send_json(200, cancelled.view())
        if action == "health":
            if self._injected_fault(em.faults.health_delay_s, em.faults.health_statuses):
                return None
            counts = em.counts()
            return self.send_json(
                200,
                {
                    "jobs": {
                        "inQueue": counts.get("IN_QUEUE", 0),
                        "inProgress": counts.get("IN_PROGRESS", 0),
                        "completed": counts.get("COMPLETED", 0),
                        "failed": counts.get("FAILED", 0),
                    },
                    "workers": {"running": 1, "idle": 0},
                },
            )
        return self.send_json(404, {"error": f"no route for {method} {action}"})

    def _worker(
        self, method: str, action: str, rest: list[str], query: dict[str, list[str]], body: bytes
    ) -> None:
        em = self.emulator
        if action in ("job-take", "job-take-batch") and rest:
            if self._injected_fault(0.0, em.faults.take_statuses):
                return None
            count = int(query.get("batch_size", ["1"])[0]) if action == "job-take-batch" else 1
            jobs = em.take(rest[0], max(count, 1))
            if not jobs:
                return self._empty(204)
            views = [{"id": j.id, "input": j.input} for j in jobs]
            return self.send_json(200, views if action == "job-take-batch" else views[0])
        if action == "job-stop" and rest:
            ids = em.stops(rest[0])
            return self.send_json(200, {"jobsToStop": ids}) if ids else self._empty(204)
        if action in ("job-done", "job-stream") and len(rest) >= 2 and method == "POST":
            try:
                payload = json.loads(body or b"{}")
            except json.JSONDecodeError:
                return self.send_json(400, {"error": "result is not JSON"})
            if action == "job-done":
                em.finish(rest[1], payload)
            return self.send_json(200, {})
        return self.send_json(404, {"error": f"no worker route {action}"})

    def _raw(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _empty(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()
