"""RunPod's management REST API v2 (`https://api.runpod.io/v2`): templates and serverless endpoints.

Only what the deploy command needs: list, create, update (PATCH) and delete templates and
endpoints, over the dispatcher's one HTTP helper (`dispatcher.http`: retries, no redirects). Reads,
PATCHes and DELETEs are retried on 408/425/429/5xx/network errors (they are idempotent); a create is
not, because a lost answer could hide a created resource: the command is idempotent by name, so
running it again is the safe retry. 401/403 raise `RunPodRestAuthError` at once. v2 wraps lists
(`{"templates": [...]}`, `{"endpoints": [...]}`) and answers errors as RFC 9457 problems (`title`,
`status`, `detail`, `errors[]`): `problem_line` makes one readable line of one. The API key only
ever goes into the Authorization header; `Request.describe()` masks it and secret-looking env values.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from deploy.errors import RunPodRestAuthError, RunPodRestError
from dispatcher.http import (
    HttpDecodeError,
    HttpRedirectError,
    HttpStatusError,
    HttpUnavailableError,
    JsonHttp,
    Opener,
)

# Env values whose name says they are secrets are masked in a dry run (HF_TOKEN, *_API_KEY, …):
# whole words of the name, so WORKER_MAX_OUTPUT_TOKENS (a number) stays readable.
SECRET_NAME = re.compile(r"(^|_)(TOKEN|KEY|SECRET|PASSWORD|CREDENTIALS?)(_|$)", re.IGNORECASE)
MASK = "***"


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # relative to the API's base URL, e.g. "/templates/abc"
    body: dict[str, Any] | None = None

    def describe(self, base_url: str) -> str:
        lines = [f"{self.method} {base_url}{self.path}", f"Authorization: Bearer {MASK}"]
        if self.body is not None:
            lines += [
                "Content-Type: application/json",
                json.dumps(_masked(self.body), indent=2, sort_keys=True),
            ]
        return "\n".join(lines)


def _masked(body: Mapping[str, Any]) -> dict[str, Any]:
    shown = dict(body)
    if isinstance(shown.get("env"), dict):
        shown["env"] = {k: (MASK if SECRET_NAME.search(k) else v) for k, v in shown["env"].items()}
    return shown


def problem_line(problem: Mapping[str, Any] | None, fallback: str) -> str:
    """An RFC 9457 problem as one line: `422 Unprocessable Entity: detail ($.a: why; $.b: why)`."""
    if not problem or not any(k in problem for k in ("title", "detail", "errors")):
        return " ".join(fallback.split())[:300]
    head = " ".join(str(problem[k]) for k in ("status", "title") if problem.get(k) is not None)
    text = f"{head}: {problem['detail']}" if problem.get("detail") else head
    errors = problem.get("errors")
    if isinstance(errors, list) and errors:
        text += " (" + "; ".join(str(e) for e in errors[:10]) + ")"
    return " ".join(text.split())  # one line, whatever the server put in it


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
        self._http = JsonHttp(
            timeout_s=timeout_s, attempts=attempts, backoff_s=backoff_s, opener=opener, sleep=sleep
        )

    def list_templates(self) -> list[dict[str, Any]]:
        return self._list("/templates", "templates")

    def list_endpoints(self) -> list[dict[str, Any]]:
        return self._list("/serverless", "endpoints")

    def send(self, request: Request) -> dict[str, Any]:
        """Send a planned create, update or delete; returns the resource RunPod answered with
        (nothing for a delete: v2 answers 204 without a body)."""
        answer = self._call(request, retry=request.method != "POST")
        if request.method == "DELETE":
            return {}
        if not isinstance(answer, dict) or not isinstance(answer.get("id"), str):
            raise RunPodRestError(
                f"{request.method} {request.path} answered without an id: {str(answer)[:200]}"
            )
        return answer

    def _list(self, path: str, key: str) -> list[dict[str, Any]]:
        answer = self._call(Request("GET", path), retry=True)
        items = answer.get(key) if isinstance(answer, dict) else None
        if not isinstance(items, list):
            raise RunPodRestError(f'GET {path} did not answer with {{"{key}": [...]}}: {str(answer)[:200]}')
        return [item for item in items if isinstance(item, dict)]

    def _call(self, request: Request, *, retry: bool) -> Any:
        where = f"{request.method} {request.path}"
        headers = {"Authorization": f"Bearer {self._api_key}"}
        try:
            return self._http.request(
                request.method, self.base_url + request.path, request.body, headers=headers, retry=retry
            )
        except HttpStatusError as exc:
            if exc.status in (401, 403):
                raise RunPodRestAuthError(
                    f"RunPod rejected the API key on {where}: {problem_line(exc.problem, exc.body)}; "
                    "check RUNPOD_API_KEY (it needs read/write access to templates and serverless)"
                ) from exc
            raise RunPodRestError(f"{where} failed: {problem_line(exc.problem, exc.body)}") from exc
        except HttpUnavailableError as exc:
            last = f" ({problem_line(exc.last.problem, exc.last.body)})" if exc.last else ""
            raise RunPodRestError(f"{where} {exc}{last}") from exc
        except HttpRedirectError as exc:
            raise RunPodRestError(f"{where}: {exc} (check RUNPOD_REST_URL)") from exc
        except HttpDecodeError as exc:
            raise RunPodRestError(f"{where}: {exc}") from exc
