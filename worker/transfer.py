"""Streaming GET/PUT on presigned URLs: allow-list, size cap, bounded retries, redaction.

A presigned URL is a bearer secret: it is checked against the allow-list before any connection
(scheme; S3 endpoint hostnames on port 443 by default, or the configured host suffixes; no
link-local or private addresses; loopback only when configured for local runs), redirects are never
followed, and only `redact(url)` (no query string) reaches a log line or an error message. The
size cap is checked on Content-Length before reading and again while reading.

A presigned URL is requested byte for byte as signed (`yarl.URL(url, encoded=True)`): a key with
dot segments (`notes/../q3.txt`) must not be normalised into another object's path. A download
has a total deadline as well as per-read timeouts (a body dripped a byte at a time never ends
otherwise); only `200` is a whole object (`206 Partial Content` is refused); `Content-Encoding:
gzip`/`deflate` is stream-decoded, every member of a multi-member gzip body, and the size cap
applies to the decoded bytes (a decompression bomb stops at the cap); a `200` carrying
`Content-Range` is a part too. Uploads and the freshness probes have the same total deadline. A
body whose connection is gone before it ended fails the read at once (`_body`): aiohttp's C parser
can close the connection on a malformed chunk without ending the body stream. Error messages name
the problem, never the response's bytes: aiohttp's parser errors quote the raw body, so their text
is dropped.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from yarl import URL

from worker.errors import DownloadError, TranscriptError, UploadError, UrlNotAllowedError
from worker.retry import Retry, retrying

if TYPE_CHECKING:
    from worker.settings import WorkerSettings

log = logging.getLogger(__name__)

T = TypeVar("T")
_RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
# How long a body read waits before it checks that the connection under it is still there.
_STALL_CHECK_S = 1.0


def redact(url: str) -> str:
    """The URL without query string or fragment: safe to log."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable url>"
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


# S3's own endpoints, path- and virtual-hosted, global, regional (dot and legacy dash forms) and
# dual-stack, in the AWS and China partitions. `.amazonaws.com` alone would admit API Gateway,
# Lambda URLs, SQS and every other service on any port.
# ASCII only: `\d` would admit other scripts' digits (`us-east-١`), which pass the check and then
# fail inside the HTTP client instead of being refused here.
_REGION = r"[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}"
_S3_HOST = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9.-]{0,61}[a-z0-9])?\.)?"  # bucket (virtual-hosted style)
    rf"s3(?:-fips)?(?:\.{_REGION}|-{_REGION}|\.dualstack\.{_REGION})?"
    r"\.amazonaws\.com(?:\.cn)?",
    re.ASCII,
)

_PRINTABLE_ASCII = re.compile(r"[\x21-\x7e]+")
_HOSTNAME = re.compile(
    r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*", re.ASCII
)


@dataclass(frozen=True)
class UrlPolicy:
    """Empty `allowed_hosts` means S3 endpoints only, on the scheme's default port; otherwise any
    host under one of the given suffixes (`WORKER_ALLOWED_HOSTS`), on any port."""

    allowed_hosts: tuple[str, ...] = ()
    allow_http: bool = False
    allow_loopback: bool = False

    def check(self, url: str, what: str) -> None:
        """Raise UrlNotAllowedError naming the problem; never echoes the query string."""
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
            port = parts.port
        except ValueError as exc:
            raise UrlNotAllowedError(f"{what} is not a valid URL") from exc
        shown = redact(url)
        if parts.scheme not in ("https", "http"):
            raise UrlNotAllowedError(f"{what} must be https, got scheme {parts.scheme!r} ({shown})")
        if not _PRINTABLE_ASCII.fullmatch(url):
            # A presigned URL is percent-encoded ASCII. Anything else (a space, a control
            # character, a lone surrogate, a raw non-ASCII letter) the HTTP client would send
            # another way than signed: drop it, re-encode it, or fail outside our error types.
            raise UrlNotAllowedError(
                f"{what} must be percent-encoded printable ASCII, without spaces or control characters"
            )
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
        if host.endswith("."):
            raise UrlNotAllowedError(f"{what} host {host!r} ends with a dot ({shown})")
        if not _HOSTNAME.fullmatch(host):
            # A backslash, a non-ASCII letter or a stray character: the HTTP client would read
            # such a host another way (or fail), so what was checked is not what it connects to.
            raise UrlNotAllowedError(f"{what} host {host[:80]!r} is not a plain ASCII hostname ({shown})")
        if port == 0:
            raise UrlNotAllowedError(f"{what} port 0 is not a port ({shown})")
        if self.allowed_hosts:
            if not any(
                host == h.lstrip(".") or host.endswith(h if h.startswith(".") else "." + h)
                for h in self.allowed_hosts
            ):
                raise UrlNotAllowedError(
                    f"{what} host {host!r} is not in the allow-list ({', '.join(self.allowed_hosts)})"
                )
            return
        if not _S3_HOST.fullmatch(host):
            raise UrlNotAllowedError(
                f"{what} host {host!r} is not an S3 endpoint (set WORKER_ALLOWED_HOSTS to allow other hosts)"
            )
        if port not in (None, 443 if parts.scheme == "https" else 80):
            raise UrlNotAllowedError(f"{what} port {port} is not allowed: S3 answers on 443 ({shown})")


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
        download_deadline_s: float = 600.0,
        attempts: int = 3,
        backoff_s: float = 0.5,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self._policy = policy
        self._timeout = aiohttp.ClientTimeout(total=None, connect=timeout_s, sock_read=timeout_s)
        self._deadline_s = download_deadline_s
        self._attempts = attempts
        self._backoff_s = backoff_s
        self._session = session

    @classmethod
    def from_settings(cls, settings: WorkerSettings) -> Transfers:
        """The worker's transfers as its settings describe them (allow-list, timeouts, attempts)."""
        return cls(
            UrlPolicy(settings.allowed_hosts, settings.allow_http, settings.allow_loopback_urls),
            timeout_s=settings.http_timeout_s,
            download_deadline_s=settings.download_deadline_s,
            attempts=settings.transfer_attempts,
        )

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
        return await self._within_deadline(
            "download", url, self._retrying("GET", url, lambda: self._get_once(url, max_bytes))
        )

    async def upload(self, url: str, body: bytes, content_type: str, what: str) -> None:
        self._policy.check(url, what)
        await self._within_deadline(
            f"upload of {what}",
            url,
            self._retrying("PUT", url, lambda: self._put_once(url, body, content_type, what)),
        )

    async def _within_deadline(self, what: str, url: str, transfer: Awaitable[T]) -> T:
        """Every transfer, attempts included, ends by the deadline: per-read timeouts restart with
        each byte, so an answer (or a PUT's response) dripped a byte at a time never ends."""
        error_type = UploadError if what.startswith("upload") else DownloadError
        try:
            async with asyncio.timeout(self._deadline_s):
                return await transfer
        except TimeoutError:
            raise error_type(
                f"{what} did not finish within its {self._deadline_s:g} s deadline ({redact(url)})"
            ) from None

    async def probe(
        self, method: str, url: str, what: str, max_bytes: int = 1 << 20
    ) -> tuple[int, dict[str, str], bytes]:
        """A small HEAD or GET whose status is the answer (404 included): (status, headers, body)."""
        self._policy.check(url, what)

        async def once() -> tuple[int, dict[str, str], bytes]:
            session = await self._client()
            async with session.request(method, as_signed(url), allow_redirects=False) as response:
                if response.status in _RETRY_STATUS:
                    _raise_for_status(response, what, url, DownloadError)
                body = b""
                if method == "GET":
                    async for block in _body(response):
                        body += block
                        if len(body) >= max_bytes:
                            break
                body = body[:max_bytes]
                return response.status, {k.lower(): v for k, v in response.headers.items()}, body

        return await self._within_deadline(what, url, self._retrying("GET", url, once))

    async def _get_once(self, url: str, max_bytes: int) -> bytes:
        session = await self._client()
        async with session.get(as_signed(url), allow_redirects=False) as response:
            _raise_for_status(response, "download", url, DownloadError)
            if response.status != 200:
                # 206 is a range of the object, 203/204 are not it at all: never summarise a part.
                reason = "Partial Content: only part of the object" if response.status == 206 else "not 200"
                raise DownloadError(f"download answered HTTP {response.status} ({reason}) ({redact(url)})")
            if "Content-Range" in response.headers:
                # S3 sends a whole object without one; a 200 with a range is a part dressed as whole.
                raise DownloadError(
                    "download answered HTTP 200 with a Content-Range: only part of the object "
                    f"({redact(url)})"
                )
            declared = response.content_length
            if declared is not None and declared > max_bytes:
                raise TranscriptError(f"transcript is {declared} bytes, over the {max_bytes}-byte limit")
            decoder = _decoder(response.headers.get("Content-Encoding", ""))
            buffer = bytearray()
            received = 0
            async for block in _body(response):
                received += len(block)
                if decoder is None:
                    buffer += block
                else:
                    # At most one byte past the cap is ever inflated: a bomb stops here.
                    buffer += _inflate(decoder, block, max_bytes + 1 - len(buffer))
                if len(buffer) > max_bytes:
                    raise TranscriptError(f"transcript is over the {max_bytes}-byte limit")
            if declared is not None and received != declared:
                raise Retry(
                    DownloadError(
                        f"download truncated: got {received} of {declared} bytes from {redact(url)}"
                    )
                )
            if decoder is not None:
                buffer += _inflate(decoder, b"", max_bytes + 1 - len(buffer))
                if len(buffer) > max_bytes:
                    raise TranscriptError(f"transcript is over the {max_bytes}-byte limit")
                if not decoder.eof:
                    raise Retry(
                        DownloadError(f"download truncated: the compressed body ends early ({redact(url)})")
                    )
            return bytes(buffer)

    async def _put_once(self, url: str, body: bytes, content_type: str, what: str) -> None:
        session = await self._client()
        # The Content-Type must be exactly what the URL was presigned with, or S3 answers 403.
        headers = {"Content-Type": content_type}
        async with session.put(as_signed(url), data=body, headers=headers, allow_redirects=False) as response:
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


async def _body(response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    """The response body block by block; `ClientPayloadError` when its connection is gone first.

    On a malformed chunked body (a chunk size that is not hex, chunk data longer than declared),
    aiohttp's C parser closes the connection and drops the read timeout but never ends or fails the
    body stream, so a plain read waits for ever (for a job: until its download deadline). A read
    that waits checks every `_STALL_CHECK_S` whether a connection is still under it.
    """
    while True:
        try:
            async with asyncio.timeout(_STALL_CHECK_S):
                block = await response.content.readany()
        except TimeoutError:
            connection = response.connection
            if connection is None or connection.transport is None:
                raise aiohttp.ClientPayloadError("the connection closed before the body ended") from None
            continue
        if not block:
            return
        yield block


def as_signed(url: str) -> URL:
    """The URL exactly as presigned: no dot-segment removal, no re-quoting (either changes the
    object addressed, and on S3 breaks the signature)."""
    return URL(url, encoded=True)


_GZIP_MAGIC = b"\x1f\x8b"


class _Inflater:
    """A stream decoder for a `gzip` body of one or more members, or a `deflate` body.

    RFC 1952 §2.2: "A gzip file consists of a series of members", and gzip(1) and Python's gzip
    module read them all (NUL padding between or after members is skipped, as Python's does); a
    decoder that stops at the end of the first member loses the rest of the transcript. What
    follows a member must be another member: anything else is refused, never dropped. A `deflate`
    body is one stream, zlib-wrapped (RFC 9110) or raw (some servers), with nothing after it.
    """

    def __init__(self, gzip: bool) -> None:
        self._gzip = gzip
        self._inner: zlib._Decompress | None = None
        self._members = 0
        # Bytes after a member's end: too few yet to tell whether another member begins.
        self._pending = b""

    def decompress(self, data: bytes, max_length: int) -> bytes:
        out = bytearray()
        while len(out) < max_length:
            if self._inner is None or self._inner.eof:
                data = self._next_member(data)
                if not data:
                    break
                self._inner = zlib.decompressobj(self._wbits(data))
            out += self._inner.decompress(data, max_length - len(out))
            if not self._inner.eof:
                break  # every byte taken, or the room filled (the caller stops there)
            self._members += 1
            data = self._inner.unused_data
        return bytes(out)

    def _wbits(self, data: bytes) -> int:
        if self._gzip:
            return zlib.MAX_WBITS | 16
        # RFC 9110 `deflate` is zlib-wrapped, but some servers send raw deflate.
        return -zlib.MAX_WBITS if len(data) >= 2 and not _zlib_header(data) else zlib.MAX_WBITS

    def _next_member(self, data: bytes) -> bytes:
        """What starts the next member (b"" while it cannot be told yet); refuses anything else."""
        if self._inner is None:
            return data
        if not self._gzip:
            if data:
                raise TranscriptError(
                    "transcript's compressed body has data after the end of the deflate stream"
                )
            return b""
        pending = (self._pending + data).lstrip(b"\x00")
        if pending and not _GZIP_MAGIC.startswith(pending[:2]):
            raise TranscriptError(
                f"transcript's gzip body has data after member {self._members} that is not a gzip member"
            )
        if len(pending) < len(_GZIP_MAGIC):
            self._pending = pending
            return b""
        self._pending = b""
        return pending

    @property
    def eof(self) -> bool:
        """The body ended where a member (or the deflate stream) did."""
        return self._inner is not None and self._inner.eof and not self._pending


def _decoder(header: str) -> _Inflater | None:
    encoding = header.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise TranscriptError(
            f"transcript was sent with Content-Encoding {encoding[:40]!r}; only gzip and deflate are decoded"
        )
    return _Inflater(gzip=encoding != "deflate")


def _inflate(decoder: _Inflater, block: bytes, room: int) -> bytes:
    """Inflate at most `room` bytes (the caller's cap + 1: reaching it means over the cap)."""
    try:
        return decoder.decompress(block, max(room, 1))
    except zlib.error as exc:
        raise TranscriptError(f"transcript's compressed body is corrupt ({exc})") from None


def _zlib_header(data: bytes) -> bool:
    return data[0] & 0x0F == 8 and ((data[0] << 8) | data[1]) % 31 == 0


def _safe(exc: BaseException) -> str:
    """What went wrong, never the response's bytes or the URL's query string.

    aiohttp's parser errors (a malformed status line, header or chunk) quote the raw response,
    which is the transcript: only connection errors, whose text names a host and an OS error,
    keep theirs.
    """
    if isinstance(exc, aiohttp.ClientConnectorError):
        return str(exc).split("?", 1)[0]
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        # Its text is the partly parsed response (headers included), which may be transcript bytes.
        return "the server closed the connection before the response ended"
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return "timed out"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return "the response body was malformed or cut short"
    if isinstance(exc, aiohttp.ClientResponseError):
        return "the response was not valid HTTP"
    return "the request failed"
