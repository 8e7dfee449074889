"""An engine for any OpenAI-compatible server: our own supervised vLLM, or a URL someone else runs.

Token counts are exact where the server has vLLM's `/tokenize` (prompt or chat messages, so the
count covers the very prompt that is sent, chat template included). Without it (TGI, llama.cpp)
counts fall back to an upper bound, the UTF-8 byte count plus a few special tokens: a byte-level
BPE token or a byte-fallback SentencePiece token never covers less than one byte, so the budget
stays safe, only wasteful. Base models (no chat template) get `/v1/completions`, others
`/v1/chat/completions`; `max_tokens` is sent on every request, because some stacks otherwise stop
after 16 tokens. Requests run concurrently, bounded by semaphores, so vLLM batches them.

A base model does not know where a summary ends: it writes the next section, a new transcript, …
until `max_tokens`. Completion requests carry stop sequences at the document's next heading
(`prompts.COMPLETION_STOP`) and the answer is trimmed of a heading the stop missed and of the line
it was writing when the budget ran out. A chat model's `<think>…</think>` block (Qwen3 thinks by
default; presets send `chat_template_kwargs` to turn it off) is stripped if one still appears.
Both, and the reading of every answer's fields, are `worker.engines.answers`.

Start-up probing (`connect`) uses the stdlib before any event loop exists; jobs use one aiohttp
session, created in the loop that runs them. Connection failures after retries mean the server is
gone (`EngineUnavailableError`: the worker exits); an answer we cannot use is an `EngineError`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import aiohttp

from worker.engines.answers import read_completion, read_count, strip_thinking, trim_completion
from worker.engines.base import Completion, SummaryTask
from worker.engines.prompts import COMPLETION_STOP, chat_messages, completion_prompt
from worker.errors import ConfigError, EngineError, EngineUnavailableError
from worker.retry import Retry, retrying

if TYPE_CHECKING:
    from worker.engines.vllm_server import VllmServer

log = logging.getLogger(__name__)

# Special tokens (BOS, EOS) a count may be missing when it falls back to bytes.
BYTE_BOUND_SLACK = 8
# Per chat message (role markers, separators) when the template cannot be rendered server-side.
CHAT_MESSAGE_SLACK = 16
TOKENIZE_CONCURRENCY = 16


def byte_bound(text: str) -> int:
    return len(text.encode("utf-8")) + BYTE_BOUND_SLACK


class OpenAICompatEngine:
    extractive = False

    def __init__(
        self,
        base_url: str,
        *,
        name: str = "openai",
        model: str | None = None,
        max_model_len: int | None = None,
        chat: bool | None = None,
        api_key: str | None = None,
        concurrency: int = 32,
        timeout_s: float = 1800.0,
        attempts: int = 3,
        backoff_s: float = 0.5,
        server: VllmServer | None = None,
        chat_template_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.model = model or ""
        self.max_model_len = max_model_len or 0
        self.chat = chat
        self.exact_counts = True
        self.chat_template_kwargs = dict(chat_template_kwargs or {})
        self._api_key = api_key
        self._concurrency = concurrency
        self._timeout_s = timeout_s
        self._attempts = attempts
        self._backoff_s = backoff_s
        self.server = server  # the local server this engine supervises, if any
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._generate_slots: asyncio.Semaphore
        self._tokenize_slots: asyncio.Semaphore

    # ---- start-up (sync) ---------------------------------------------------------------------
    def connect(self, timeout_s: float = 60.0) -> None:
        """Learn the model name, its context, whether `/tokenize` and a chat template exist."""
        status, models = self._get_sync("/v1/models", timeout_s)
        entries = models.get("data") if status == 200 and isinstance(models, dict) else None
        if not entries:
            raise EngineUnavailableError(f"{self.base_url}/v1/models answered {status} with no model")
        entry = next((e for e in entries if e.get("id") == self.model), None)
        if entry is None and self.model:
            names = ", ".join(str(e.get("id")) for e in entries)
            raise ConfigError(f"the server at {self.base_url} serves {names}, not {self.model!r}")
        entry = entry or entries[0]
        self.model = str(entry["id"])
        reported = entry.get("max_model_len")
        if self.max_model_len and isinstance(reported, int) and reported < self.max_model_len:
            raise ConfigError(
                f"{self.model} is served with max_model_len {reported}, less than the configured "
                f"{self.max_model_len}"
            )
        self.max_model_len = self.max_model_len or (reported if isinstance(reported, int) else 0)
        if not self.max_model_len:
            raise ConfigError(f"{self.base_url} does not report max_model_len: set WORKER_MAX_MODEL_LEN")
        status, _ = self._post_sync("/tokenize", {"model": self.model, "prompt": "a"}, timeout_s)
        self.exact_counts = status == 200
        if not self.exact_counts:
            log.warning("%s has no /tokenize (%d): token counts are byte upper bounds", self.base_url, status)
        if self.chat is None:
            probe = {"model": self.model, "messages": [{"role": "user", "content": "a"}]}
            self.chat = self.exact_counts and self._post_sync("/tokenize", probe, timeout_s)[0] == 200
        log.info(
            "engine %s: model %s, max_model_len %d, %s prompts, %s counts",
            self.name,
            self.model,
            self.max_model_len,
            "chat" if self.chat else "completion",
            "exact" if self.exact_counts else "upper-bound",
        )

    def _get_sync(self, path: str, timeout_s: float) -> tuple[int, Any]:
        return self._request_sync(
            urllib.request.Request(self.base_url + path, headers=self._headers()),  # noqa: S310 (configured http(s) URL)
            timeout_s,
        )

    def _post_sync(self, path: str, body: dict[str, Any], timeout_s: float) -> tuple[int, Any]:
        data = json.dumps(body).encode()
        headers = {**self._headers(), "Content-Type": "application/json"}
        request = urllib.request.Request(  # noqa: S310 (configured http(s) URL)
            self.base_url + path, data=data, headers=headers, method="POST"
        )
        return self._request_sync(request, timeout_s)

    def _request_sync(self, request: urllib.request.Request, timeout_s: float) -> tuple[int, Any]:
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as answer:  # noqa: S310 (configured URL)
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as exc:
            exc.close()
            return exc.code, None
        except (urllib.error.URLError, OSError, ValueError, RecursionError) as exc:
            raise EngineUnavailableError(f"cannot reach {request.full_url}: {exc}") from exc

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}

    # ---- the Engine protocol ---------------------------------------------------------------------
    async def count_tokens(self, text: str) -> int:
        if not self.exact_counts:
            return byte_bound(text)
        body = {"model": self.model, "prompt": text, "add_special_tokens": False}
        return read_count(await self._post("/tokenize", body))

    async def prompt_tokens(self, task: SummaryTask) -> int:
        if self.chat:
            messages = chat_messages(task)
            if not self.exact_counts:
                return sum(byte_bound(m["content"]) + CHAT_MESSAGE_SLACK for m in messages)
            body: dict[str, Any] = {"model": self.model, "messages": messages, "add_generation_prompt": True}
            if self.chat_template_kwargs:
                body["chat_template_kwargs"] = self.chat_template_kwargs
        else:
            prompt = completion_prompt(task)
            if not self.exact_counts:
                return byte_bound(prompt)
            body = {"model": self.model, "prompt": prompt, "add_special_tokens": True}
        return read_count(await self._post("/tokenize", body))

    async def complete(self, task: SummaryTask) -> Completion:
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": task.max_tokens,
            "temperature": task.options.temperature,
        }
        if self.chat:
            body["messages"] = chat_messages(task)
            if self.chat_template_kwargs:
                body["chat_template_kwargs"] = self.chat_template_kwargs
            path = "/v1/chat/completions"
        else:
            body["prompt"] = completion_prompt(task)
            body["stop"] = list(COMPLETION_STOP)
            path = "/v1/completions"
        text, finish_reason, prompt_tokens, completion_tokens = read_completion(
            await self._post(path, body), path, bool(self.chat)
        )
        text = strip_thinking(text) if self.chat else trim_completion(text, finish_reason)
        if prompt_tokens is None:
            prompt_tokens = await self.prompt_tokens(task)
        if completion_tokens is None:
            completion_tokens = await self.count_tokens(text)
        return Completion(
            text=text,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            finish_reason=finish_reason,
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def shutdown(self) -> None:
        """Stop what this engine supervises (the local vLLM server); nothing for an external URL."""
        if self.server is not None:
            self.server.stop()

    # ---- HTTP ----------------------------------------------------------------------------------
    def _client(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._loop is not loop:
            # One session per event loop; semaphores bind to their loop as well.
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._timeout_s), headers=self._headers()
            )
            self._loop = loop
            self._generate_slots = asyncio.Semaphore(self._concurrency)
            self._tokenize_slots = asyncio.Semaphore(TOKENIZE_CONCURRENCY)
        return self._session

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        session = self._client()
        # Counting must not queue behind long generations of other jobs: separate bounds.
        slots = self._tokenize_slots if path == "/tokenize" else self._generate_slots
        url = self.base_url + path

        async def attempt() -> Any:
            try:
                async with slots, session.post(url, json=body) as answer:
                    if answer.status < 400:
                        try:
                            return await answer.json(content_type=None)
                        except RecursionError:
                            raise EngineError(f"{path} answered JSON nested too deep to read") from None
                    error = EngineError(
                        f"{path} answered {answer.status}: {_error_detail(await answer.text())}"
                    )
                    raise Retry(error) if answer.status >= 500 else error
            except (aiohttp.ClientConnectionError, ConnectionError) as exc:
                gone = f"the model server at {self.base_url} is gone: {exc}"
                why = self.server.failure() if self.server is not None else None
                raise Retry(EngineUnavailableError(f"{gone} ({why})" if why else gone)) from exc
            except TimeoutError as exc:
                raise EngineError(f"{path} did not answer within {self._timeout_s:.0f}s") from exc
            except (aiohttp.ClientError, ValueError) as exc:
                raise EngineError(f"{path} failed: {exc!r}") from exc

        return await retrying(attempt, attempts=self._attempts, backoff_s=self._backoff_s, what=path, log=log)


def _error_detail(body: str) -> str:
    """The server's own error message when it sent one (vLLM/OpenAI shape), else the raw body."""
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return body[:500]
    error = parsed.get("error", parsed) if isinstance(parsed, dict) else parsed
    message = error.get("message") if isinstance(error, dict) else error
    return str(message)[:500]
