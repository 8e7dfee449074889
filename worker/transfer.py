"""Streaming GET/PUT on presigned URLs: allow-list, size cap, bounded retries, redaction.

A presigned URL is a bearer secret: it is checked against the allow-list before any connection
(scheme, host suffix, no link-local or private addresses, loopback only when configured for local
runs), redirects are never followed, and only `redact(url)` (no query string) reaches a log line or
an error message. The size cap is checked on Content-Length before reading and again while reading.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from worker.engines import Retry, retrying
from worker.errors import DownloadError, TranscriptError, UploadError, UrlNotAllowedError

log = logging.getLogger(__name__)

T = TypeVar("T")
_RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_CHUNK = 1 << 16


def redact(url: str) -> str:
    """The URL without query string or fragment: safe to log."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable url>"
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


@dataclass(frozen=True)
class UrlPolicy:
    allowed_hosts: tuple[str, ...] = (".amazonaws.com",)
    allow_http: bool = False
    allow_loopback: bool = False

    def check(self, url: str, what: str) -> None:
        """Raise UrlNotAllowedError naming the problem; never echoes the query string."""
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
        except ValueError as exc:
            raise UrlNotAllowedError(f"{what} is not a valid URL") from exc
        shown = redact(url)
        if parts.scheme not in ("https", "http"):
            raise UrlNotAllowedError(f"{what} must be https, got scheme {parts.scheme!r} ({shown})")
        if not host:
            raise UrlNotAllowedError(f"{what} has no host ({shown})")
        if parts.username or parts.password:
            raise UrlNotAllowedError(f"{what} must not carry credentials ({shown})")
        loopback = host == "localhost" or _is_loopback(host)
        if loopback:
            if not self.allow_loopback:
                raise UrlNotAllowedError(
                    f"{what} points at a loopback address, allowed only for local runs ({shown})"
                )
            return
        if parts.scheme == "http" and not self.allow_http:
            raise UrlNotAllowedError(f"{what} must be https, got http ({shown})")
        address = _ip(host)
        if address is not None:
            kind = (
                "link-local/metadata"
                if address.is_link_local
                else "private"
                if address.is_private
                else "bare"
            )
            raise UrlNotAllowedError(f"{what} points at a {kind} IP address, not an allowed host ({shown})")
        if not any(
            host == h.lstrip(".") or host.endswith(h if h.startswith(".") else "." + h)
            for h in self.allowed_hosts
        ):
            raise UrlNotAllowedError(
                f"{what} host {host!r} is not in the allow-list ({', '.join(self.allowed_hosts)})"
            )


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _is_loopback(host: str) -> bool:
    address = _ip(host)
    return address is not None and address.is_loopback


class Transfers:
    """Presigned-URL client. Inject a session for tests; one is created lazily otherwise."""

    def __init__(
        self,
        policy: UrlPolicy,
        *,
        timeout_s: float = 60.0,
        attempts: int = 3,
        backoff_s: float = 0.5,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self._policy = policy
        self._timeout = aiohttp.ClientTimeout(total=None, connect=timeout_s, sock_read=timeout_s)
        self._attempts = attempts
        self._backoff_s = backoff_s
        self._session = session

    def check(self, url: str, what: str) -> None:
        self._policy.check(url, what)

    async def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout, auto_decompress=False)
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def download(self, url: str, max_bytes: int) -> bytes:
        self._policy.check(url, "transcript_url")
        return await self._retrying("GET", url, lambda: self._get_once(url, max_bytes))

    async def upload(self, url: str, body: bytes, content_type: str, what: str) -> None:
        self._policy.check(url, what)
        await self._retrying("PUT", url, lambda: self._put_once(url, body, content_type, what))

    async def probe(
        self, method: str, url: str, what: str, max_bytes: int = 1 << 20
    ) -> tuple[int, dict[str, str], bytes]:
        """A small HEAD or GET whose status is the answer (404 included): (status, headers, body)."""
        self._policy.check(url, what)

        async def once() -> tuple[int, dict[str, str], bytes]:
            session = await self._client()
            async with session.request(method, url, allow_redirects=False) as response:
                if response.status in _RETRY_STATUS:
                    _raise_for_status(response, what, url, DownloadError)
                body = await response.content.read(max_bytes) if method == "GET" else b""
                return response.status, {k.lower(): v for k, v in response.headers.items()}, body

        return await self._retrying("GET", url, once)

    async def _get_once(self, url: str, max_bytes: int) -> bytes:
        session = await self._client()
        async with session.get(url, allow_redirects=False) as response:
            _raise_for_status(response, "download", url, DownloadError)
            declared = response.content_length
            if declared is not None and declared > max_bytes:
                raise TranscriptError(f"transcript is {declared} bytes, over the {max_bytes}-byte limit")
            buffer = bytearray()
            async for block in response.content.iter_chunked(_CHUNK):
                buffer += block
                if len(buffer) > max_bytes:
                    raise TranscriptError(f"transcript is over the {max_bytes}-byte limit")
            if declared is not None and len(buffer) != declared:
                raise Retry(
                    DownloadError(
                        f"download truncated: got {len(buffer)} of {declared} bytes from {redact(url)}"
                    )
                )
            return bytes(buffer)

    async def _put_once(self, url: str, body: bytes, content_type: str, what: str) -> None:
        session = await self._client()
        # The Content-Type must be exactly what the URL was presigned with, or S3 answers 403.
        headers = {"Content-Type": content_type}
        async with session.put(url, data=body, headers=headers, allow_redirects=False) as response:
            _raise_for_status(response, f"upload of {what}", url, UploadError)
            await response.read()

    async def _retrying(self, method: str, url: str, once: Callable[[], Awaitable[T]]) -> T:
        error_type = DownloadError if method == "GET" else UploadError

        async def attempt() -> T:
            try:
                return await once()
            except (TimeoutError, aiohttp.ClientError) as exc:
                message = f"{method} {redact(url)} failed: {type(exc).__name__}: {_safe(exc)}"
                raise Retry(error_type(message)) from exc

        return await retrying(
            attempt,
            attempts=self._attempts,
            backoff_s=self._backoff_s,
            what=f"{method} {redact(url)}",
            log=log,
        )


def _raise_for_status(
    response: aiohttp.ClientResponse, what: str, url: str, error_type: type[Exception]
) -> None:
    status = response.status
    if status < 300:
        return
    if 300 <= status < 400:
        raise error_type(f"{what} was redirected ({status}); redirects are not followed ({redact(url)})")
    message = f"{what} failed with HTTP {status} ({redact(url)})"
    if status == 403:
        message += ": the presigned URL is expired, or was signed for other headers"
    elif status == 404:
        message += ": the object does not exist (deleted after upload?)"
    if status in _RETRY_STATUS:
        raise Retry(error_type(message))
    raise error_type(message)


def _safe(exc: BaseException) -> str:
    """aiohttp errors can embed the full URL: keep only the text outside any query string."""
    text = str(exc)
    return text.split("?", 1)[0]
