"""A local stand-in for RunPod's management REST API v2 (`https://api.runpod.io/v2`): templates and
serverless endpoints, over stdlib HTTP, recording every request.

It follows the v2 OpenAPI schema (runpod/docs `api-reference-v2/openapi.json`, "Runpod REST API"
2.0.0) for the fields the deploy command uses: `GET/POST /v2/templates`,
`GET/PATCH/DELETE /v2/templates/{id}`, `GET/POST /v2/serverless`, `GET/PATCH/DELETE
/v2/serverless/{id}`; lists wrapped (`{"templates": [...]}`, `{"endpoints": [...]}`); creates
answer 201, deletes 204 without a body; every error an RFC 9457 problem (`title`, `status`,
`detail`, `errors[]`, `application/problem+json`). Bodies are checked like the schema's
`unevaluatedProperties: false`: an unknown field, a wrong type, a missing required field or a value
out of range is a 422 naming it. Semantic refusals the schema describes in prose are 400s:
`workers.idleTimeout` with `REQUEST_COUNT` scaling, `workers.min` above `workers.max`, a template
name that exists, deleting a template an endpoint uses. As in v2, an endpoint copies its template's
container settings (image, env, disk) when created and keeps no link to it: later template edits do
not reach the endpoint. It never runs a worker (that is `runpod_emulator.py`'s job).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from devstack.httpserver import LoopbackServer

# A field's kind: a type name, an enum (a tuple of allowed strings) or a nested object's fields.
_STR, _INT, _NUM, _BOOL, _LIST, _ENV, _STR_OR_NULL = (
    "string",
    "integer",
    "number",
    "boolean",
    "array of strings",
    "object of strings",
    "string or null",
)
FLASHBOOT = ("OFF", "FLASHBOOT", "PRIORITY_FLASHBOOT")
Fields = dict[str, Any]
# CUDA versions as the schema writes them: `major.minor` (a pattern kind: a string that matches).
CUDA = re.compile(r"^\d+\.\d+$")
CUDA_OR_EMPTY = re.compile(r"^$|^\d+\.\d+$")  # an update's "" clears the floor


@dataclass(frozen=True)
class ListOf:
    """An array whose every item is a string matching `pattern`."""

    pattern: re.Pattern[str]


CONTAINER: Fields = {  # ContainerConfig: shared by templates and endpoints
    "args": _STR,
    "disk": _INT,
    "env": _ENV,
    "image": _STR,
    "ports": _LIST,
    "registry": _STR_OR_NULL,
}
TEMPLATE: Fields = {  # CreateTemplateRequest / UpdateTemplateRequest (mounts left out: unused)
    **CONTAINER,
    "name": _STR,
    "allowedCudaVersions": ListOf(CUDA),
    "category": ("CPU", "NVIDIA", "AMD"),
    "public": _BOOL,
    "serverless": _BOOL,
    "startJupyter": _BOOL,
    "startSsh": _BOOL,
}
WORKERS: Fields = {"min": _INT, "max": _INT, "idleTimeout": _INT}  # EndpointWorkers
GPU: Fields = {  # CreateEndpointGpuConfig (BaseEndpointGpuConfig + the CUDA constraints)
    "pools": _LIST,
    "excludedTypes": _LIST,
    "count": _INT,
    "allowedCudaVersions": ListOf(CUDA),
    "minCudaVersion": CUDA,
}
GPU_UPDATE: Fields = {**GPU, "minCudaVersion": CUDA_OR_EMPTY}  # UpdateEndpointGpuConfig
SCALING: dict[str, Fields] = {  # EndpointScaling: oneOf on `type`
    "QUEUE_DELAY": {"type": _STR, "queueDelay": _NUM},
    "REQUEST_COUNT": {"type": _STR, "requestCount": _INT},
}
ENDPOINT: Fields = {  # CreateEndpointRequest (cpu left out: unused)
    **CONTAINER,
    "name": _STR,
    "type": ("QUEUE", "LOAD_BALANCER"),
    "templateId": _STR,
    "gpu": GPU,
    "workers": WORKERS,
    "scaling": "scaling",
    "dataCenterIds": _LIST,
    "networkVolumes": _LIST,
    "timeout": _INT,
    "flashboot": FLASHBOOT,
}
# UpdateEndpointRequest
ENDPOINT_UPDATE: Fields = {**{k: v for k, v in ENDPOINT.items() if k != "type"}, "gpu": GPU_UPDATE}
# (path, lowest, highest) of the bounded numbers
BOUNDS: tuple[tuple[str, float, float | None], ...] = (
    ("$.disk", 1, None),
    ("$.workers.min", 0, None),
    ("$.workers.max", 0, None),
    ("$.workers.idleTimeout", 1, 3600),
    ("$.gpu.count", 1, None),
    ("$.scaling.queueDelay", 0.5, None),
    ("$.scaling.requestCount", 1, None),
)


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    body: Any


class RestError(Exception):
    def __init__(self, status: int, detail: str, errors: list[str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.errors = errors or []

    def problem(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "title": HTTPStatus(self.status).phrase,
            "status": self.status,
            "detail": str(self),
        }
        if self.errors:
            document["errors"] = self.errors
        return document


def _kind_ok(kind: Any, value: Any) -> bool:
    if isinstance(kind, tuple):
        return value in kind
    if isinstance(kind, re.Pattern):
        return isinstance(value, str) and kind.fullmatch(value) is not None
    if isinstance(kind, ListOf):
        return isinstance(value, list) and all(
            isinstance(v, str) and kind.pattern.fullmatch(v) for v in value
        )
    return {
        _STR: isinstance(value, str),
        _INT: isinstance(value, int) and not isinstance(value, bool),
        _NUM: isinstance(value, int | float) and not isinstance(value, bool),
        _BOOL: isinstance(value, bool),
        _LIST: isinstance(value, list) and all(isinstance(v, str) for v in value),
        _ENV: isinstance(value, dict) and all(isinstance(v, str) for v in value.values()),
        _STR_OR_NULL: value is None or isinstance(value, str),
    }[kind]


def _check(body: Any, fields: Fields, required: tuple[str, ...], at: str, errors: list[str]) -> None:
    if not isinstance(body, dict):
        errors.append(f"{at}: must be an object")
        return
    for name in required:
        if name not in body:
            errors.append(f"{at}: missing property '{name}'")
    for name, value in body.items():
        kind = fields.get(name)
        where = f"{at}.{name}"
        if kind is None:
            errors.append(f"{at}: additional properties '{name}' not allowed")
        elif kind == "scaling":
            variant = SCALING.get(str(value.get("type"))) if isinstance(value, dict) else None
            if variant is None:
                errors.append(f"{where}.type: must be one of QUEUE_DELAY, REQUEST_COUNT")
            else:
                _check(value, variant, tuple(variant), where, errors)
        elif isinstance(kind, dict):
            _check(value, kind, (), where, errors)
        elif not _kind_ok(kind, value):
            wanted = _describe(kind)
            errors.append(f"{where}: must be {wanted}")
    for path, low, high in BOUNDS:
        parent, _, leaf = path.rpartition(".")
        value = body.get(leaf) if parent == at else None
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if value < low or (high is not None and value > high):
            errors.append(f"{path}: must be ≥ {low}" + (f" and ≤ {high}" if high else ""))


def _describe(kind: Any) -> str:
    if isinstance(kind, tuple):
        return f"one of {', '.join(kind)}"
    if isinstance(kind, re.Pattern):
        return f"a string matching {kind.pattern}"
    if isinstance(kind, ListOf):
        return f"an array of strings matching {kind.pattern.pattern}"
    return str(kind)


def validate(body: Any, fields: Fields, required: tuple[str, ...]) -> dict[str, Any]:
    """The schema check: 422 with every failure in `errors`, as the real API answers; then the
    prose rule on the CUDA constraints (400: a non-empty set beside a floor)."""
    errors: list[str] = []
    _check(body, fields, required, "$", errors)
    gpu = body.get("gpu") if isinstance(body, dict) else None
    if isinstance(gpu, dict) and gpu.get("pools") == []:
        errors.append("$.gpu.pools: must have at least 1 item")
    if errors:
        raise RestError(422, "Request validation failed.", errors)
    if isinstance(gpu, dict) and gpu.get("allowedCudaVersions") and gpu.get("minCudaVersion"):
        raise RestError(400, "gpu.allowedCudaVersions and gpu.minCudaVersion are mutually exclusive")
    return body


class RunPodRestStub:
    """`with RunPodRestStub() as api:` … `api.base_url` is what `RUNPOD_REST_URL` points at."""

    def __init__(self, api_key: str = "stub-api-key") -> None:
        self.api_key = api_key
        self.requests: list[Recorded] = []
        # (method or "*", status, *errors): the next matching request gets that status, as a
        # problem carrying those validation errors, instead of an answer.
        self.fail_next: deque[tuple[Any, ...]] = deque()
        self.templates: dict[str, dict[str, Any]] = {}
        self.endpoints: dict[str, dict[str, Any]] = {}
        self._template_of: dict[str, str] = {}  # endpoint id → template it was created from
        self._lock = threading.Lock()
        self._server: LoopbackServer | None = None

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self) -> RunPodRestStub:
        stub = self

        class Handler(_Handler):
            pass

        Handler.stub = stub
        self._server = LoopbackServer(Handler, name="runpod-rest-stub").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> RunPodRestStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"{self._server.url}/v2"

    def writes(self) -> list[Recorded]:
        """Every request that could change something (all but GET)."""
        return [r for r in self.requests if r.method != "GET"]

    # ---- the API's behaviour (under the lock) ----------------------------------------------
    def _add_template(self, body: dict[str, Any]) -> dict[str, Any]:
        if any(t["name"] == body["name"] for t in self.templates.values()):
            raise RestError(400, f"a template named {body['name']!r} already exists")
        template = {
            "id": secrets.token_hex(5),
            "args": "",
            "disk": 50,
            "mounts": {},
            "ports": [],
            "env": {},
            "registry": None,
            "serverless": False,
            "public": False,
            "category": "NVIDIA",
            "startSsh": True,
            "startJupyter": True,
            "allowedCudaVersions": [],
            **body,
        }
        self.templates[template["id"]] = template
        return template

    def _add_endpoint(self, body: dict[str, Any]) -> dict[str, Any]:
        container: dict[str, Any] = {"args": "", "disk": 20, "env": {}, "ports": [], "registry": None}
        if "templateId" in body:
            template = self._get(self.templates, body["templateId"], "template")
            if not template["serverless"]:
                raise RestError(422, f"template {template['id']} is not a serverless template")
            container.update({k: template[k] for k in CONTAINER if k in template})
        elif "image" not in body:
            raise RestError(422, "Request validation failed.", ["$: missing property 'image'"])
        scaling = body["scaling"]
        workers = {"min": 0, "max": 3, "idleTimeout": 10, **body.get("workers", {})}
        self._check_workers(workers, scaling, body.get("workers", {}))
        endpoint = {
            "id": secrets.token_hex(7),
            **container,
            **{k: v for k, v in body.items() if k in CONTAINER and k != "env"},
            "env": {**container["env"], **body.get("env", {})},
            "name": body["name"],
            "type": body["type"],
            "gpu": {
                "pools": ["ADA_24"],
                "count": 1,
                "allowedCudaVersions": [],
                "minCudaVersion": None,
                **body.get("gpu", {}),
            },
            "workers": workers,
            "scaling": scaling,
            "dataCenterIds": body.get("dataCenterIds") or ["EU-RO-1", "US-TX-3"],
            "networkVolumes": body.get("networkVolumes", []),
            "timeout": body.get("timeout", 300_000),
            "flashboot": body.get("flashboot", "OFF"),
            "createdAt": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        }
        self._omit_idle_timeout(endpoint)
        self.endpoints[endpoint["id"]] = endpoint
        if "templateId" in body:
            self._template_of[endpoint["id"]] = body["templateId"]
        return endpoint

    def _update_endpoint(self, endpoint_id: str, body: dict[str, Any]) -> dict[str, Any]:
        endpoint = self._get(self.endpoints, endpoint_id, "endpoint")
        if "templateId" in body:  # applied once, as if its container fields were in the body
            template = self._get(self.templates, body["templateId"], "template")
            body = {**{k: template[k] for k in CONTAINER if k in template}, **body}
            del body["templateId"]
        scaling = body.get("scaling", endpoint["scaling"])
        workers = {**endpoint["workers"], **body.get("workers", {})}
        if "scaling" in body and scaling["type"] == "REQUEST_COUNT":
            workers.pop("idleTimeout", None)
        self._check_workers(workers, scaling, body.get("workers", {}))
        if "gpu" in body:  # "" clears the floor; setting one CUDA constraint keeps the other
            gpu = {**endpoint["gpu"], **body["gpu"]}
            gpu["minCudaVersion"] = gpu["minCudaVersion"] or None
            if gpu["allowedCudaVersions"] and gpu["minCudaVersion"]:
                raise RestError(400, "gpu.allowedCudaVersions and gpu.minCudaVersion are mutually exclusive")
        for name, value in body.items():
            if name == "gpu":
                endpoint["gpu"] = gpu
            elif name != "workers":
                endpoint[name] = value
        endpoint["workers"] = workers
        self._omit_idle_timeout(endpoint)
        return endpoint

    @staticmethod
    def _check_workers(workers: dict[str, Any], scaling: dict[str, Any], sent: dict[str, Any]) -> None:
        if scaling["type"] == "REQUEST_COUNT" and "idleTimeout" in sent:
            raise RestError(
                400, "workers.idleTimeout is not applicable to queue-based endpoints scaling on requestCount"
            )
        if workers["min"] > workers["max"]:
            raise RestError(400, f"workers.min ({workers['min']}) exceeds workers.max ({workers['max']})")

    @staticmethod
    def _omit_idle_timeout(endpoint: dict[str, Any]) -> None:
        if endpoint["scaling"]["type"] == "REQUEST_COUNT":
            endpoint["workers"].pop("idleTimeout", None)

    def _delete(self, kind: str, item_id: str) -> None:
        if kind == "templates":
            self._get(self.templates, item_id, "template")
            if item_id in self._template_of.values():
                raise RestError(400, f"template {item_id} is in use by a serverless endpoint")
            del self.templates[item_id]
        else:
            self._get(self.endpoints, item_id, "endpoint")
            del self.endpoints[item_id]
            self._template_of.pop(item_id, None)

    @staticmethod
    def _get(table: dict[str, dict[str, Any]], item_id: str, kind: str) -> dict[str, Any]:
        if item_id not in table:
            raise RestError(404, f"{kind} {item_id} not found")
        return table[item_id]

    def handle(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        with self._lock:
            self.requests.append(Recorded(method, path, body))
            if self.fail_next and self.fail_next[0][0] in (method, "*"):
                _, status, *errors = self.fail_next.popleft()
                raise RestError(status, f"injected {status}", list(errors))
            parts = [p for p in path.split("/") if p]
            if parts[:1] != ["v2"] or len(parts) not in (2, 3) or parts[1] not in ("templates", "serverless"):
                raise RestError(404, f"no such resource: {path}")
            kind, item_id = parts[1], (parts[2] if len(parts) == 3 else None)
            templates = kind == "templates"
            table = self.templates if templates else self.endpoints
            if item_id is None and method == "GET":
                return 200, {"templates" if templates else "endpoints": list(table.values())}
            if item_id is None and method == "POST":
                if templates:
                    return 201, self._add_template(validate(body, TEMPLATE, ("name", "image")))
                return 201, self._add_endpoint(validate(body, ENDPOINT, ("name", "type", "scaling")))
            if item_id is not None and method == "GET":
                return 200, self._get(table, item_id, kind)
            if item_id is not None and method == "PATCH":
                if templates:
                    template = self._get(table, item_id, "template")
                    template.update(validate(body, TEMPLATE, ()))
                    return 200, template
                return 200, self._update_endpoint(item_id, validate(body, ENDPOINT_UPDATE, ()))
            if item_id is not None and method == "DELETE":
                self._delete(kind, item_id)
                return 204, None
            raise RestError(405, f"{method} {path} is not supported")


class _Handler(BaseHTTPRequestHandler):
    stub: RunPodRestStub
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
        pass

    def _answer(self, status: int, payload: Any, content_type: str = "application/json") -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        if data:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            if self.headers.get("Authorization") != f"Bearer {self.stub.api_key}":
                raise RestError(401, "invalid bearer token")
            try:
                body = json.loads(raw) if raw else None
            except json.JSONDecodeError as exc:
                raise RestError(400, "the request body is not JSON") from exc
            status, payload = self.stub.handle(self.command, urlsplit(self.path).path, body)
        except RestError as exc:
            self._answer(exc.status, exc.problem(), "application/problem+json")
            return
        self._answer(status, payload)

    do_GET = do_POST = do_PATCH = do_DELETE = _dispatch  # noqa: N815 (stdlib naming)
