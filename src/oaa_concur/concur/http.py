"""How to talk to Concur: one async httpx client, one place that classifies every failure.

::

    HttpClient.send     -> one attempt -> classify():
        2xx + JSON object       -> JsonResponse (with its x-api-warn/Sunset Deprecation)
        2xx, not a JSON object  -> MalformedResponse (retriable, a few times)
        429, 5xx                -> RetriableError (Retry-After kept)
        400 "request limit"     -> RetriableError, like a 429 (see ``classify``)
        timeout, dropped or refused connection, temporary DNS failure -> RetriableError
        no such host (DNS), certificate or TLS failure -> UnreachableHost (not retried)
        401, 403 "token expired or revoked" -> TokenRejected (a ClientError)
        other 4xx               -> ClientError (a ConcurError sentence with the correlation id)
    HttpClient.request  -> send under the one retry policy (oaa_concur.retry): RetriableError
                           is retried (``transient``), anything else passes through
    ConcurApi.get/post  -> every attempt takes the CURRENT access token from the TokenSource;
                           one TokenRejected per call -> one refresh + one resend (design.md
                           §3.4); the first deprecation notice of each endpoint is logged once

TLS verification stays on; ``HTTPS_PROXY``/``NO_PROXY`` are honoured through httpx's
``trust_env`` (design.md §3.6).

Trust and bounds (design.md §3.1, issue 11): a request goes only to a host ``hosts.TrustedHosts``
trusts (``UntrustedHost`` otherwise, before a byte is sent). Every body is streamed and stopped at
``Bounds.max_response_bytes`` (decoded bytes, so a gzip bomb stops too); every attempt runs
under a wall-clock deadline (httpx's timeouts are per read: a body dripping one byte every few
seconds never trips them) and, if set, the run's. A breach is ``ResponseRefused`` (an
``IncompleteDiscovery``): not retried, the page fails and so does the run.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import re
import ssl
import uuid
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import httpx
import orjson

from oaa_concur import netfail
from oaa_concur.concur.hosts import TrustedHosts
from oaa_concur.config import (
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_REQUEST_DEADLINE_S,
    MIB,
)
from oaa_concur.errors import (
    ClientError,
    ConcurError,
    ConfigError,
    IncompleteDiscovery,
    MalformedResponse,
    RetriableError,
    UnreachableHost,
)
from oaa_concur.models import Deprecation, RunStats
from oaa_concur.retry import Retrier, RetryPolicy, Transient
from oaa_concur.runtime import Clock, Runtime

T = TypeVar("T")
CONCUR_POLICY = RetryPolicy()
LOG = logging.getLogger(__name__)

USER_AGENT = "oaa-concur/0.1 (+https://github.com/oaa-concur)"


class ResponseRefused(IncompleteDiscovery):
    """A response over a bound (too large, too slow, past the run's deadline): not retried."""


@dataclass(frozen=True, slots=True)
class Bounds:
    """What one Concur answer may cost (settings ``max_response_bytes``,
    ``request_deadline_s``, ``run_deadline_s``)."""

    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    request_deadline_s: float = DEFAULT_REQUEST_DEADLINE_S
    run_deadline_s: float | None = None


class _Deadline:
    """The time one attempt may take: the request deadline, or less if the run's ends first."""

    def __init__(self, bounds: Bounds, clock: Clock) -> None:
        self.bounds = bounds
        self.clock = clock
        run = bounds.run_deadline_s
        self.run_ends = clock() + run if run is not None else None

    def limit(self, what: str) -> tuple[float, bool]:
        """(seconds, whether the run's deadline is what binds); refused once it has passed."""
        request = self.bounds.request_deadline_s
        if self.run_ends is None:
            return request, False
        left = self.run_ends - self.clock()
        if left <= 0:
            raise self.breach(what, by_run=True)
        return (left, True) if left < request else (request, False)

    def breach(self, what: str, *, by_run: bool) -> ResponseRefused:
        if by_run:
            return ResponseRefused(
                f"The run passed its deadline of {self.bounds.run_deadline_s:g} s during {what}",
                "nothing was pushed; raise --run-deadline (run-deadline-s) or find out why Concur "
                "is slow",
            )
        return ResponseRefused(
            f"Concur did not finish answering {what} within {self.bounds.request_deadline_s:g} s",
            "nothing was pushed; run again later (a server that trickles its answer is refused)",
        )


def _too_large(what: str, cap: int) -> ResponseRefused:
    size = f"{cap // MIB} MiB" if cap % MIB == 0 else f"{cap} bytes"
    return ResponseRefused(
        f"Concur's answer to {what} is larger than {size} and was cut off",
        "nothing was pushed; raise max-response-bytes only if Concur's pages are really that large",
    )


async def _capped_body(response: httpx.Response, cap: int, what: str) -> bytes:
    """The decoded body, refused as soon as it passes ``cap`` bytes (or says it will)."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise _too_large(what, cap)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > cap:
            raise _too_large(what, cap)
        chunks.append(chunk)
    return b"".join(chunks)


def _with_body(streamed: httpx.Response, body: bytes) -> httpx.Response:
    """A read response for ``classify``: the decoded body, minus the encoding it had."""
    headers = streamed.headers
    if "content-encoding" in headers:
        headers = httpx.Headers(
            [(k, v) for k, v in headers.raw if k.lower() != b"content-encoding"]
        )
    return httpx.Response(
        streamed.status_code, headers=headers, content=body, request=streamed.request
    )


def tls_verify(ca_bundle: Path | None) -> ssl.SSLContext | bool:
    """TLS verification is always on; a CA bundle adds trust for a private CA or TLS proxy."""
    if ca_bundle is None:
        return True
    try:
        return ssl.create_default_context(cafile=str(ca_bundle))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"The CA bundle {ca_bundle} cannot be loaded ({exc})",
            "give a PEM file of CA certificates",
        ) from None


@dataclass(frozen=True, slots=True)
class JsonResponse:
    status: int
    body: dict[str, Any]
    correlation_id: str | None
    deprecation: Deprecation | None = None
    """Set when the answer carried ``x-api-warn`` and/or ``Sunset``."""


@dataclass(eq=False, kw_only=True)
class TokenRejected(ClientError):
    """A 401, or a 403 whose body says the OAuth token has expired or been revoked: the access
    token is refused, so one refresh and one resend are worth it (design.md §3.4)."""


# Said when retries are exhausted outside page reads (e.g. the first token refresh).
_AGAIN = "run again later; if it persists, check CONCUR_URL and the network or proxy"
_HINTS = {
    400: "this is likely an API change or a bug in oaa-concur: report it with the correlation id",
    401: "the access token was refused: run `oaa-concur auth check`",
    403: "the app lacks a scope or the API is not enabled for it: run `oaa-concur auth check` "
    "and ask SAP Concur to enable the API for the app",
    404: "check the data center (geolocation) and that the API is enabled for the app",
}


def _decode(content: bytes) -> Any:
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return None


def _detail(body: Any) -> str:
    """The human part of a SCIM or OAuth error body, if any (concur-api.md §2.5, §5.2)."""
    if not isinstance(body, dict):
        return ""
    for key in ("detail", "error_description", "message", "errorMessage"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return f" ({value[:200]})"
    return ""


# ``api-reference/http-status-codes.markdown`` "HTTP Error Codes" lists these as conditions of a
# 403 ("The Oauth token has expired or been revoked.") and of a 400 ("The number of requests
# received exceed the request limit.", "The request encountered a database deadlock. In this
# case, the developer should resend the request a short time later."). No body is documented
# for them, so the words are matched in the body, case-insensitively, wherever they stand.
_TOKEN_GONE = re.compile(  # "token" and "expired"/"revoked" as words (``_`` separates too)
    r"(?<![a-z])token(?![a-z]).{0,80}(?<![a-z])(?:expired|revoked)(?![a-z])"
    r"|(?<![a-z])(?:expired|revoked)(?![a-z]).{0,80}(?<![a-z])token(?![a-z])",
    re.IGNORECASE | re.DOTALL,
)
_REQUEST_LIMIT = re.compile(
    r"requests?[\s_-]+limit|rate[\s_-]*limit|too[\s_-]+many[\s_-]+requests"
    r"|number\s+of\s+requests\b.{0,60}\bexceed|\bdeadlock",
    re.IGNORECASE | re.DOTALL,
)
_BODY_SCAN = 16_384  # characters of an error body searched for those words


def _text(response: httpx.Response) -> str:
    return response.content[:_BODY_SCAN].decode("utf-8", "replace")


def token_gone(status: int, text: str) -> bool:
    """401, or a 403 whose body says the OAuth token has expired or been revoked."""
    return status == 401 or (status == 403 and _TOKEN_GONE.search(text) is not None)


def request_limit(status: int, text: str) -> bool:
    """A 400 that is a rate limit (or a database deadlock): resent later, like a 429."""
    return status == 400 and _REQUEST_LIMIT.search(text) is not None


def classify(response: httpx.Response, what: str) -> JsonResponse:
    """Turn a response into a JsonResponse or the right error: the one place that decides."""
    status = response.status_code
    cid = response.headers.get("concur-correlationid")
    host = _response_host(response)
    if 200 <= status < 300:
        body = _decode(response.content)
        if not isinstance(body, dict):
            raise MalformedResponse(
                f"Concur answered {what}{_at(host)} with a body that is not a JSON object",
                _AGAIN,
                status=status,
                correlation_id=cid,
                host=host,
            )
        return JsonResponse(status, body, cid, deprecation(response.headers, what))
    body = _decode(response.content)
    text = _text(response) if status in (400, 403) else ""
    if status == 429 or status >= 500 or request_limit(status, text):
        raise RetriableError(
            f"Concur answered {status} to {what}{_at(host)}{_detail(body)}",
            _AGAIN,
            status=status,
            correlation_id=cid,
            retry_after=response.headers.get("retry-after"),
            host=host,
        )
    error = TokenRejected if token_gone(status, text) else ClientError
    raise error(
        f"Concur answered {status} to {what}{_at(host)}{_detail(body)}",
        _HINTS.get(status, "check the request and the app's configuration"),
        status=status,
        correlation_id=cid,
        body=body if isinstance(body, dict) else None,
        host=host,
    )


def _response_host(response: httpx.Response) -> str | None:
    """The host a response came from (None for a response built without its request)."""
    try:
        return host_of(response.request.url)
    except RuntimeError:
        return None


def _at(host: str | None) -> str:
    return f" at {host}" if host else ""


_REPLACEMENT = re.compile(r"\buse\s+(?:'([^']{1,300})'|\"([^\"]{1,300})\"|(\S{1,300}))", re.I)
_HEADER_CHARS = 400


def _printable(text: str) -> str:
    """A header value fit for one log line: printable characters only, cut."""
    return "".join(c if c.isprintable() else " " for c in text[:_HEADER_CHARS]).strip()


def deprecation(headers: Mapping[str, str], what: str) -> Deprecation | None:
    """``x-api-warn`` / ``Sunset`` as the API release notes of 2026-02-04 and 2026-03-03 show
    them ("API Deprecation Headers"): ``'<old>' is deprecated; use '<new>'. See '<url>' for
    details.`` and ``sunset: Sun, 01 Mar 2020 00:00:00 GMT``. None when neither is present."""
    warn, sunset = headers.get("x-api-warn"), headers.get("sunset")
    if warn is None and sunset is None:
        return None
    warning = _printable(warn) if warn is not None else None
    found = _REPLACEMENT.search(warning or "")
    replacement = next((g for g in found.groups() if g), None) if found else None
    return Deprecation(
        endpoint=what,
        replacement=replacement.rstrip(".,;") if replacement else None,
        sunset=_sunset(sunset),
        warning=warning,
    )


def _sunset(value: str | None) -> str | None:
    """The ``Sunset`` HTTP-date (RFC 8594) as ``YYYY-MM-DD``; the text as sent if not a date."""
    if value is None:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).date().isoformat()
    except (TypeError, ValueError, IndexError):
        return _printable(value) or None


def host_of(url: str | httpx.URL) -> str:
    """``host[:port]`` of a URL, as errors and retry warnings name it."""
    parsed = httpx.URL(url) if isinstance(url, str) else url
    return f"{parsed.host}:{parsed.port}" if parsed.port else parsed.host


_CA_HINT = (
    "if a TLS-inspecting proxy or a private CA signs it, give that CA with --ca-bundle; "
    "else check CONCUR_URL"
)


def transport_error(exc: httpx.TransportError, url: str, what: str) -> ConcurError:
    """A request that got no answer, named by what failed (``netfail``) and the host.

    A timeout, a dropped or refused connection and a temporary DNS failure are retried; a
    host that does not exist or a certificate that does not verify is an ``UnreachableHost``
    (not retried: a wrong name or CA does not heal in a few seconds)."""
    host = host_of(url)
    if isinstance(exc, httpx.TimeoutException):
        return RetriableError(
            f"Concur did not answer {what} at {host} in time",
            _AGAIN,
            host=host,
            kind=netfail.TIMEOUT.label,
        )
    failure = netfail.failure_of(exc)
    if failure is netfail.DNS:
        return UnreachableHost(
            f"The Concur host {host} cannot be found ({failure.label}) during {what}",
            "check CONCUR_URL (or the geolocation in the credentials file), DNS and the proxy",
            host=host,
            kind=failure.kind,
        )
    if not failure.retriable:
        return UnreachableHost(
            f"The TLS connection to the Concur host {host} failed ({failure.label}) during {what}",
            _CA_HINT,
            host=host,
            kind=failure.kind,
        )
    return RetriableError(
        f"The connection to Concur failed during {what} at {host} ({failure.label})",
        _AGAIN,
        host=host,
        kind=failure.label,
    )


def transient(error: Exception) -> Transient | None:
    """What the retrier may retry: a ``RetriableError``, with Concur's ``Retry-After``, the
    host and what failed (for the retry's WARNING)."""
    if not isinstance(error, RetriableError):
        return None
    reason = f"HTTP {error.status}" if error.status else error.kind or "failed"
    return Transient(
        error.retry_after,
        malformed=isinstance(error, MalformedResponse),
        reason=reason if not isinstance(error, MalformedResponse) else f"{reason}, malformed body",
        host=error.host,
    )


class HttpClient:
    """An httpx.AsyncClient with timeouts, TLS, proxies, retries and request counting.

    ``runtime`` gives the retrier its sleep, clock and jitter, and may replace the network with
    a transport (tests: ``httpx.ASGITransport`` over the simulator).
    """

    def __init__(
        self,
        stats: RunStats,
        runtime: Runtime,
        *,
        trust: TrustedHosts,
        bounds: Bounds = Bounds(),
        timeout_s: float = 60.0,
        ca_bundle: Path | None = None,
        policy: RetryPolicy = CONCUR_POLICY,
        max_connections: int = 16,
    ) -> None:
        self.stats = stats
        self.trust = trust
        self._trusted_prefix = "\0"  # no URL starts with it: the first one is checked
        self.bounds = bounds
        self._deadline = _Deadline(bounds, runtime.clock)
        self.retrier = Retrier(policy, transient, runtime, on_retry=self._count)
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 15.0)),
            verify=tls_verify(ca_bundle),
            transport=runtime.concur_transport,
            trust_env=True,
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            headers={
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
                "concur-correlationid": f"oaa-concur-{uuid.uuid4()}",
            },
        )

    def _check_host(self, url: str) -> None:
        """TokenManager checked the geolocation already: belt and braces, cheap on the hot path
        (the last trusted base is remembered; a URL under it needs no parsing)."""
        if not url.startswith(self._trusted_prefix):
            self._trusted_prefix = self.trust.check(url, "an API call") + "/"

    def _count(self, error: Exception, attempt: int, delay: float) -> None:
        self.stats.retries += 1

    async def aclose(self) -> None:
        await self._client.aclose()

    async def request(self, method: str, url: str, *, what: str, **kwargs: Any) -> JsonResponse:
        """``send`` under the retry policy (for calls without an access token)."""
        return await self.retrier.run(lambda: self.send(method, url, what=what, **kwargs), what)

    async def send(
        self,
        method: str,
        url: str,
        *,
        what: str,
        headers: dict[str, str] | None = None,
        json_body: Any = None,
        form: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
    ) -> JsonResponse:
        """One attempt, classified; ``what`` names the request in errors ("GET /profile/...")."""
        self._check_host(url)
        content = orjson.dumps(json_body) if json_body is not None else None
        if content is not None:
            headers = {**(headers or {}), "Content-Type": "application/json"}
        self.stats.requests += 1
        limit, by_run = self._deadline.limit(what)
        try:
            async with asyncio.timeout(limit):
                response = await self._read(
                    method, url, what, headers=headers, content=content, data=form, params=params
                )
        except TimeoutError:
            raise self._deadline.breach(what, by_run=by_run) from None
        except httpx.TransportError as exc:
            raise transport_error(exc, url, what) from None
        return classify(response, what)

    async def _read(self, method: str, url: str, what: str, **kwargs: Any) -> httpx.Response:
        """Stream the answer and read at most ``max_response_bytes`` of it; leaving the block
        early closes the connection, so the rest of an oversized body is never received."""
        async with self._client.stream(method, url, **kwargs) as streamed:
            body = await _capped_body(streamed, self.bounds.max_response_bytes, what)
        return _with_body(streamed, body)


class TokenSource(Protocol):
    """What ConcurApi needs from auth: the current geolocation and a valid access token."""

    @property
    def geolocation(self) -> str: ...

    async def access_token(self) -> str: ...

    async def on_unauthorized(self, used_token: str) -> None: ...


class _TokenUnavailable(Exception):
    """Getting a token failed after the token request's own retries: not retried again."""

    def __init__(self, error: RetriableError) -> None:
        super().__init__(error.message)
        self.error = error


async def _no_retry(step: Awaitable[T]) -> T:
    try:
        return await step
    except RetriableError as error:
        raise _TokenUnavailable(error) from None


class ConcurApi:
    """Authenticated calls to the API host (the newest geolocation)."""

    def __init__(self, http: HttpClient, tokens: TokenSource) -> None:
        self.http = http
        self.tokens = tokens
        self._deprecated: set[str] = set()

    async def get(self, path: str, params: dict[str, Any] | None = None) -> JsonResponse:
        return await self._call("GET", path, params=params)

    async def post(self, path: str, body: Any) -> JsonResponse:
        return await self._call("POST", path, json_body=body)

    async def _call(self, method: str, path: str, **kwargs: Any) -> JsonResponse:
        """Every attempt sends the access token current at that moment, so a retry after a 503
        never resends one that was refreshed meanwhile. Access tokens live 1 h (concur-api.md
        §2.3): one 401, or one 403 saying the token expired or was revoked (TokenRejected), per
        call earns one refresh and one resend (design.md §3.4)."""
        what = f"{method} {path}"
        resent = False

        async def attempt() -> JsonResponse:
            nonlocal resent
            token = await _no_retry(self.tokens.access_token())
            try:
                return await self._send(method, path, token, what, **kwargs)
            except TokenRejected:
                if resent:
                    raise
            resent = True
            await _no_retry(self.tokens.on_unauthorized(token))
            token = await _no_retry(self.tokens.access_token())
            return await self._send(method, path, token, what, **kwargs)

        try:
            response = await self.http.retrier.run(attempt, what)
        except _TokenUnavailable as failed:
            raise failed.error from None
        if response.deprecation is not None:
            self._deprecated_once(response.deprecation)
        return response

    def _deprecated_once(self, notice: Deprecation) -> None:
        """One WARNING per endpoint per run, and the notice kept for the run's summary."""
        if notice.endpoint in self._deprecated:
            return
        self._deprecated.add(notice.endpoint)
        self.http.stats.deprecations = (*self.http.stats.deprecations, notice)
        LOG.warning(
            "Concur marks %s; plan the move before that date (x-api-warn: %s)",
            notice.line(),
            notice.warning or "none",
        )

    async def _send(
        self, method: str, path: str, token: str, what: str, **kwargs: Any
    ) -> JsonResponse:
        url = self.tokens.geolocation + path
        return await self.http.send(
            method, url, what=what, headers={"Authorization": f"Bearer {token}"}, **kwargs
        )
