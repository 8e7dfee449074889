"""RunPod serverless API: submit (`/run`) and status, over `dispatcher.http` (retries, no redirects).

urllib (25 ms to import) rather than the runpod SDK (~1.7 s) or requests (not in the Lambda
runtime). Retries are the helper's: 408/425/429/5xx and network errors with backoff and jitter,
401/403 never. Every failure comes out as a `RunPodError` for the one record being dispatched:
a redirect (never followed: it would carry the API key to another origin) and an answer that is
JSON but not an object (`[1,2]`, `"x"`, `null`) included, so a strange answer fails its record
and the other records of the event are still tried. A job id is a short token of letters, digits,
`-` and `_` (RunPod's are UUIDs with a suffix): it goes into later request paths and the ledger,
so an id such as `../x?y`, one with a newline or a megabyte long is refused as an answer.

`/run` is not idempotent (RunPod documents no idempotency key): a read timeout means the job may
exist, so it is never repeated (`RunPodUnconfirmedError`); the ledger's reconciler recovers the
upload if no job shows up (dispatcher/reconciler.py). Status answers (429, 5xx) are still retried.

A `/run` answer whose `status` is already terminal (`FAILED`, `CANCELLED`, `TIMED_OUT`: RunPod's
job states, docs.runpod.io/serverless/references/job-states) created a job nothing will run: it is
a `RunPodJobEndedError` carrying the job id, so the caller retries now instead of waiting out the
job's whole lifetime for outputs that cannot come.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from dispatcher.errors import (
    RunPodAuthError,
    RunPodError,
    RunPodJobEndedError,
    RunPodNotFoundError,
    RunPodUnavailableError,
    RunPodUnconfirmedError,
)
from dispatcher.http import (
    HttpDecodeError,
    HttpRedirectError,
    HttpStatusError,
    HttpTimeoutError,
    HttpUnavailableError,
    JsonHttp,
    Opener,
)

_JOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
# Terminal states a job can be in without having run (COMPLETED means a worker ran it).
ENDED_UNRUN = frozenset({"FAILED", "CANCELLED", "TIMED_OUT"})


class RunPodClient:
    def __init__(
        self,
        endpoint_url: str,
        api_key: str,
        *,
        timeout_s: float = 10.0,
        attempts: int = 4,
        backoff_s: float = 0.5,
        opener: Opener | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._endpoint = endpoint_url.rstrip("/")
        self._api_key = api_key
        self._http = JsonHttp(
            timeout_s=timeout_s, attempts=attempts, backoff_s=backoff_s, opener=opener, sleep=sleep
        )

    def submit(self, job_input: dict[str, Any], policy: dict[str, int], webhook: str | None = None) -> str:
        """POST /run; returns the job id."""
        body: dict[str, Any] = {"input": job_input, "policy": policy}
        if webhook:
            body["webhook"] = webhook
        answer = self._request("POST", "/run", body, retry_timeouts=False)
        job_id = answer.get("id")
        if not isinstance(job_id, str) or not job_id:
            raise RunPodError(f"/run answered without a job id: {str(answer)[:200]}")
        if not _JOB_ID.fullmatch(job_id):
            raise RunPodError(f"/run answered with a job id that is not one: {job_id[:60]!r}")
        state = answer.get("status")
        if state in ENDED_UNRUN:
            said = answer.get("error") or answer.get("output")
            raise RunPodJobEndedError(
                f"RunPod answered /run with job {job_id} already {state}"
                + (f": {str(said)[:300]}" if said else "")
                + "; nothing will run it",
                job_id,
                str(state),
            )
        return job_id

    def health(self) -> dict[str, Any]:
        """GET /health: the endpoint's job and worker counts (any answer means RunPod answers)."""
        return self._request("GET", "/health", None)

    def status(self, job_id: str) -> dict[str, Any]:
        return self._request("GET", f"/status/{_checked(job_id)}", None)

    def cancel(self, job_id: str) -> dict[str, Any]:
        return self._request("POST", f"/cancel/{_checked(job_id)}", None)

    def _request(
        self, method: str, path: str, body: dict[str, Any] | None, *, retry_timeouts: bool = True
    ) -> dict[str, Any]:
        where = f"RunPod {method} {path}"
        headers = {"Authorization": f"Bearer {self._api_key}"}
        try:
            answer = self._http.request(
                method, self._endpoint + path, body, headers=headers, retry_timeouts=retry_timeouts
            )
        except HttpStatusError as exc:
            if exc.status == 404 and path != "/run":
                raise RunPodNotFoundError(f"{where}: RunPod has no such job (HTTP 404)") from exc
            if exc.status in (401, 403):
                raise RunPodAuthError(
                    f"RunPod rejected the API key ({exc.status}) on {method} {path}"
                ) from exc
            raise RunPodError(f"{where} failed with HTTP {exc.status}: {exc.body[:300]}") from exc
        except HttpRedirectError as exc:
            raise RunPodError(
                f"{where} answered with a redirect (HTTP {exc.status}) to {exc.location[:200]!r}; "
                "not followed, so the API key stays with RUNPOD_ENDPOINT_URL's host: "
                "check RUNPOD_ENDPOINT_URL"
            ) from exc
        except HttpTimeoutError as exc:
            raise RunPodUnconfirmedError(
                f"{where} {exc}; the job may have been created, so it is not sent again"
            ) from exc
        except HttpUnavailableError as exc:
            raise RunPodUnavailableError(f"{where} {exc}") from exc
        except HttpDecodeError as exc:
            raise RunPodError(f"{where} answered with invalid JSON: {exc}") from exc
        if not isinstance(answer, dict):
            raise RunPodError(f"{where} answered with JSON that is not an object: {str(answer)[:100]}")
        return answer


def _checked(job_id: str) -> str:
    """A job id fit for a request path (no `/`, `?`, `..` or control characters)."""
    if not _JOB_ID.fullmatch(job_id):
        raise RunPodError(f"not a RunPod job id: {job_id[:60]!r}")
    return job_id
