"""RunPod's management REST API (`https://rest.runpod.io/v1`) over urllib: templates and endpoints.

Only what the deploy command needs: list, create, update (PATCH) and delete templates and
endpoints. Reads, PATCHes and DELETEs are retried on 429/5xx/network errors (they are idempotent);
a create is not, because a lost answer could hide a created resource: the command is idempotent
by name, so running it again is the safe retry. 401/403 raise `RunPodRestAuthError` at once. The
API key only ever goes into the Authorization header; `describe()` renders a request with it masked.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from deploy.errors import RunPodRestAuthError, RunPodRestError

_RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
Opener = Callable[..., Any]


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # relative to the API's base URL, e.g. "/templates/abc"
    body: dict[str, Any] | None = None

    def describe(self, base_url: str) -> str:
        lines = [f"{self.method} {base_url}{self.path}", "Authorization: Bearer ***"]
        if self.body is not None:
            lines += ["Content-Type: application/json", json.dumps(self.body, indent=2, sort_keys=True)]
        return "\n".join(lines)


class RunPodRest:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout_s: float = 30.0,
        attempts: int = 3,
        backoff_s: float = 1.0,
        opener: Opener | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._timeout_s = timeout_s
        self._attempts = attempts
        self._backoff_s = backoff_s
        self._open = opener or urllib.request.urlopen
        self._sleep = sleep

    def list_templates(self) -> list[dict[str, Any]]:
        return self._list("/templates")

    def list_endpoints(self) -> list[dict[str, Any]]:
        return self._list("/endpoints")

    def send(self, request: Request) -> dict[str, Any]:
        """Send a planned create, update or delete; returns the resource RunPod answered with
        (nothing for a delete)."""
        answer = self._call(request, retry=request.method != "POST")
        if request.method == "DELETE":
            return {}
        if not isinstance(answer, dict) or not isinstance(answer.get("id"), str):
            raise RunPodRestError(
                f"{request.method} {request.path} answered without an id: {str(answer)[:200]}"
            )
        return answer

    def _list(self, path: str) -> list[dict[str, Any]]:
        answer = self._call(Request("GET", path), retry=True)
        if not isinstance(answer, list):
            raise RunPodRestError(f"GET {path} did not answer with a list: {str(answer)[:200]}")
        return [item for item in answer if isinstance(item, dict)]

    def _call(self, request: Request, *, retry: bool) -> Any:
        data = json.dumps(request.body).encode() if request.body is not None else None
        url = self.base_url + request.path
        where = f"{request.method} {request.path}"
        attempts = self._attempts if retry else 1
        last = ""
        for attempt in range(1, attempts + 1):
            http = urllib.request.Request(url, data=data, method=request.method)  # noqa: S310 (https URL from settings)
            http.add_header("Authorization", f"Bearer {self._api_key}")
            http.add_header("Accept", "application/json")
            if data is not None:
                http.add_header("Content-Type", "application/json")
            try:
                with self._open(http, timeout=self._timeout_s) as response:
                    payload = response.read()
                return json.loads(payload or b"null")
            except urllib.error.HTTPError as exc:
                detail = exc.read()[:500].decode("utf-8", "replace")
                if exc.code in (401, 403):
                    raise RunPodRestAuthError(
                        f"RunPod rejected the API key ({exc.code}) on {where}: check RUNPOD_API_KEY "
                        "(it needs read/write access to templates and endpoints)"
                    ) from exc
                if exc.code not in _RETRY_STATUS:
                    raise RunPodRestError(f"{where} failed with HTTP {exc.code}: {detail}") from exc
                last = f"HTTP {exc.code}: {detail}"
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                last = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
            except json.JSONDecodeError as exc:
                raise RunPodRestError(f"{where} answered with invalid JSON") from exc
            if attempt < attempts:
                self._sleep(self._backoff_s * 2 ** (attempt - 1))
        raise RunPodRestError(f"{where} failed after {attempts} attempt(s): {last}")
