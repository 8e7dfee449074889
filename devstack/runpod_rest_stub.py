"""A local stand-in for RunPod's management REST API (`https://rest.runpod.io/v1`): templates and
serverless endpoints, over stdlib HTTP, recording every request.

It answers like the API's OpenAPI description (v0.1.0): `GET/POST /templates`,
`GET/PATCH/DELETE /templates/{id}` (+ `POST /templates/{id}/update`), `GET/POST /endpoints`,
`GET/PATCH/DELETE /endpoints/{id}` (+ `POST /endpoints/{id}/update`), Bearer auth, 400 on an
unknown field or a wrong type, unique template names, an endpoint's `templateId` must exist and a
template in use cannot be deleted. It is stricter than the real API where that catches our
mistakes (unknown fields are rejected, not ignored) and, like the real one, does not echo
`flashboot` back on an endpoint. A template change bumps the `version` of the endpoints using it
(RunPod's rolling release). It never runs a worker: the queue and the worker protocol are
`runpod_emulator.py`'s job.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

_STR, _INT, _BOOL, _LIST, _ENV = "string", "integer", "boolean", "array of strings", "object of strings"
TEMPLATE_FIELDS = {
    "name": _STR,
    "imageName": _STR,
    "category": _STR,
    "containerDiskInGb": _INT,
    "containerRegistryAuthId": _STR,
    "dockerEntrypoint": _LIST,
    "dockerStartCmd": _LIST,
    "env": _ENV,
    "isPublic": _BOOL,
    "isServerless": _BOOL,
    "ports": _LIST,
    "readme": _STR,
    "volumeInGb": _INT,
    "volumeMountPath": _STR,
}
TEMPLATE_UPDATE_FIELDS = {k: v for k, v in TEMPLATE_FIELDS.items() if k not in ("category", "isServerless")}
ENDPOINT_FIELDS = {
    "templateId": _STR,
    "name": _STR,
    "allowedCudaVersions": _LIST,
    "computeType": _STR,
    "cpuFlavorIds": _LIST,
    "dataCenterIds": _LIST,
    "executionTimeoutMs": _INT,
    "flashboot": _BOOL,
    "gpuCount": _INT,
    "gpuTypeIds": _LIST,
    "idleTimeout": _INT,
    "networkVolumeId": _STR,
    "scalerType": _STR,
    "scalerValue": _INT,
    "vcpuCount": _INT,
    "workersMax": _INT,
    "workersMin": _INT,
}
_NOT_ECHOED = ("flashboot",)


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    body: Any


class RestError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _check_type(name: str, kind: str, value: Any) -> None:
    ok = {
        _STR: isinstance(value, str),
        _INT: isinstance(value, int) and not isinstance(value, bool),
        _BOOL: isinstance(value, bool),
        _LIST: isinstance(value, list) and all(isinstance(v, str) for v in value),
        _ENV: isinstance(value, dict) and all(isinstance(v, str) for v in value.values()),
    }[kind]
    if not ok:
        raise RestError(400, f"{name} must be {kind}")


def _validate(body: Any, allowed: dict[str, str], required: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise RestError(400, "body must be a JSON object")
    for name, value in body.items():
        if name not in allowed:
            raise RestError(400, f"unknown field {name!r}")
        _check_type(name, allowed[name], value)
    for name in required:
        if not body.get(name):
            raise RestError(400, f"{name} is required")
    for name, low, high in (("idleTimeout", 1, 3600), ("workersMin", 0, 1000), ("workersMax", 0, 1000)):
        if name in body and not low <= body[name] <= high:
            raise RestError(400, f"{name} must be between {low} and {high}")
    if body.get("scalerType", "QUEUE_DELAY") not in ("QUEUE_DELAY", "REQUEST_COUNT"):
        raise RestError(400, "scalerType must be QUEUE_DELAY or REQUEST_COUNT")
    return body


class RunPodRestStub:
    """`with RunPodRestStub() as api:` … `api.base_url` is what `RUNPOD_REST_URL` points at."""

    def __init__(self, api_key: str = "stub-api-key") -> None:
        self.api_key = api_key
        self.requests: list[Recorded] = []
        # (method or "*", status): the next matching request gets that status instead of an answer.
        self.fail_next: deque[tuple[str, int]] = deque()
        self.templates: dict[str, dict[str, Any]] = {}
        self.endpoints: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        # GET /templates also lists RunPod's own public templates; a name match must skip them.
        self._add_template(
            {"name": "runpod-worker-vllm", "imageName": "runpod/worker-v1-vllm:stable", "isServerless": True},
            is_runpod=True,
        )

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self) -> RunPodRestStub:
        stub = self

        class Handler(_Handler):
            pass

        Handler.stub = stub
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="runpod-rest-stub", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> RunPodRestStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def writes(self) -> list[Recorded]:
        """Every request that could change something (all but GET)."""
        return [r for r in self.requests if r.method != "GET"]

    # ---- the API's behaviour (under the lock) ----------------------------------------------
    def _add_template(self, body: dict[str, Any], is_runpod: bool = False) -> dict[str, Any]:
        if any(t["name"] == body["name"] and not t["isRunpod"] for t in self.templates.values()):
            raise RestError(400, f"Template name must be unique: {body['name']!r} exists")
        template = {
            "id": secrets.token_hex(5),
            "category": "NVIDIA",
            "containerDiskInGb": 50,
            "dockerEntrypoint": [],
            "dockerStartCmd": [],
            "env": {},
            "isPublic": False,
            "isServerless": False,
            "ports": [],
            "readme": "",
            "volumeInGb": 20,
            "volumeMountPath": "/workspace",
            **body,
            "isRunpod": is_runpod,
            "earned": 0,
        }
        self.templates[template["id"]] = template
        return template

    def _update_template(self, template_id: str, body: dict[str, Any]) -> dict[str, Any]:
        template = self._get(self.templates, template_id, "template")
        template.update(body)
        for endpoint in self.endpoints.values():
            if endpoint["templateId"] == template_id:
                endpoint["version"] += 1
        return template

    def _add_endpoint(self, body: dict[str, Any]) -> dict[str, Any]:
        self._get(self.templates, body["templateId"], "template")
        endpoint = {
            "id": secrets.token_hex(7),
            "name": "",
            "userId": "user_stub",
            "computeType": "GPU",
            "createdAt": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "dataCenterIds": ["EU-RO-1", "US-TX-3"],
            "env": {},
            "executionTimeoutMs": 600_000,
            "gpuCount": 1,
            "gpuTypeIds": ["NVIDIA GeForce RTX 4090"],
            "idleTimeout": 5,
            "scalerType": "QUEUE_DELAY",
            "scalerValue": 4,
            "workersMax": 3,
            "workersMin": 0,
            "version": 0,
            **{k: v for k, v in body.items() if k not in _NOT_ECHOED},
        }
        self.endpoints[endpoint["id"]] = endpoint
        return endpoint

    def _update_endpoint(self, endpoint_id: str, body: dict[str, Any]) -> dict[str, Any]:
        endpoint = self._get(self.endpoints, endpoint_id, "endpoint")
        if "templateId" in body:
            self._get(self.templates, body["templateId"], "template")
            endpoint["version"] += 1
        endpoint.update({k: v for k, v in body.items() if k not in _NOT_ECHOED})
        return endpoint

    def _delete(self, kind: str, item_id: str) -> None:
        table = self.templates if kind == "templates" else self.endpoints
        self._get(table, item_id, kind)
        if kind == "templates" and any(e["templateId"] == item_id for e in self.endpoints.values()):
            raise RestError(400, f"template {item_id} is in use by an endpoint")
        del table[item_id]

    @staticmethod
    def _get(table: dict[str, dict[str, Any]], item_id: str, kind: str) -> dict[str, Any]:
        if item_id not in table:
            raise RestError(404, f"{kind} {item_id} not found")
        return table[item_id]

    def handle(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        with self._lock:
            self.requests.append(Recorded(method, path, body))
            if self.fail_next and self.fail_next[0][0] in (method, "*"):
                _, status = self.fail_next.popleft()
                return status, {"error": f"injected {status}"}
            parts = [p for p in path.split("/") if p]
            if parts[:1] != ["v1"]:
                raise RestError(404, "not found")
            parts = parts[1:]
            if parts[-1:] == ["update"] and method == "POST":
                method, parts = "PATCH", parts[:-1]
            kind = parts[0] if parts else ""
            if kind not in ("templates", "endpoints"):
                raise RestError(404, "not found")
            if len(parts) == 1 and method == "GET":
                table = self.templates if kind == "templates" else self.endpoints
                return 200, list(table.values())
            if len(parts) == 1 and method == "POST":
                if kind == "templates":
                    return 200, self._add_template(_validate(body, TEMPLATE_FIELDS, ("name", "imageName")))
                return 200, self._add_endpoint(_validate(body, ENDPOINT_FIELDS, ("templateId",)))
            if len(parts) == 2 and method == "GET":
                return 200, self._get(
                    self.templates if kind == "templates" else self.endpoints, parts[1], kind
                )
            if len(parts) == 2 and method == "PATCH":
                if kind == "templates":
                    return 200, self._update_template(parts[1], _validate(body, TEMPLATE_UPDATE_FIELDS, ()))
                update_fields = {k: v for k, v in ENDPOINT_FIELDS.items() if k != "computeType"}
                return 200, self._update_endpoint(parts[1], _validate(body, update_fields, ()))
            if len(parts) == 2 and method == "DELETE":
                self._delete(kind, parts[1])
                return 200, None
            raise RestError(405, f"{method} {path} is not supported")


class _Handler(BaseHTTPRequestHandler):
    stub: RunPodRestStub
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
        pass

    def _answer(self, status: int, payload: Any) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.headers.get("Authorization") != f"Bearer {self.stub.api_key}":
            self._answer(401, {"error": "Unauthorized"})
            return
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            self._answer(400, {"error": "invalid JSON"})
            return
        try:
            status, payload = self.stub.handle(self.command, urlsplit(self.path).path, body)
        except RestError as exc:
            status, payload = exc.status, {"error": str(exc)}
        self._answer(status, payload)

    do_GET = do_POST = do_PATCH = do_DELETE = _dispatch  # noqa: N815 (stdlib naming)
