"""Every Veza request runs as a named step under the one retry policy; its last failure becomes
one sentence (design.md §3.4).

oaaclient retries nothing we can control (its urllib3 retries are switched off by
``oaa.push._client``, and its POSTs were never retried), so each step here is one oaaclient
call retried under ``oaa_concur.retry`` with the sleep, clock and jitter of the caller's
``Runtime``. ``OAAResponseError`` drops the response; the ``requests`` HTTPError it is raised
from (its ``__context__``) keeps the headers, so a ``Retry-After`` from Veza is still honoured.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

from oaaclient.client import OAAClientError, OAAConnectionError, OAAResponseError

from oaa_concur import netfail, redact
from oaa_concur.errors import VezaError
from oaa_concur.retry import Retrier, RetryPolicy, Transient
from oaa_concur.runtime import Runtime

log = logging.getLogger(__name__)
T = TypeVar("T")

VEZA_POLICY = RetryPolicy(max_attempts=5, total_budget_s=900.0)
"""Five attempts per step, 1, 2, 4, 8 s apart (jittered); the budget leaves room for five
requests that each run into ``timeout_s``."""
_TRANSIENT = frozenset({408, 429, 500, 502, 503, 504})
_MAX_DETAILS = 3


class Steps:
    """Runs each step under the retry policy; its last failure becomes one sentence."""

    def __init__(self, url: str, policy: RetryPolicy, runtime: Runtime) -> None:
        self.url = url
        self.policy = policy
        self.runtime = runtime

    def run(self, step: str, call: Callable[[], T]) -> T:
        attempts = 0

        def once() -> T:
            nonlocal attempts
            attempts += 1
            return call()

        retrier = Retrier(self.policy, _transient, self.runtime)  # it logs each retry
        try:
            return retrier.run_sync(once, f"Veza {step}")
        except OAAClientError as err:
            raise veza_error(err, self.url, step, attempts) from None


def _transient(err: Exception) -> Transient | None:
    """Dropped or refused connections, timeouts and 408/429/5xx are worth another attempt;
    a host that DNS does not know and a certificate that does not verify are not
    (``netfail``): they are named as such at once."""
    if isinstance(err, OAAConnectionError):
        failure = netfail.failure_of(err)
        if not failure.retriable:
            return None
        return Transient(reason=failure.label, host=_request_host(err))
    if isinstance(err, OAAResponseError) and err.status_code in _TRANSIENT:
        return Transient(retry_after=_retry_after(err), reason=short(err), host=_request_host(err))
    return None


def _request_host(err: OAAClientError) -> str | None:
    """``host[:port]`` of the request oaaclient raised ``err`` for (its ``__context__``)."""
    request = getattr(err.__context__, "request", None)
    url = getattr(request, "url", None)
    if not isinstance(url, str):
        return None
    parts = urlsplit(url)
    return parts.netloc.rpartition("@")[2] or None


def _retry_after(err: OAAResponseError) -> str | None:
    response = getattr(err.__context__, "response", None)
    value = response.headers.get("Retry-After") if response is not None else None
    return value if isinstance(value, str) else None


def _tls_failure(err: OAAClientError) -> bool:
    return netfail.failure_of(err).kind in ("certificate", "tls")


def _dns_failure(err: OAAClientError) -> str | None:
    """What DNS said (``netfail.Failure.label``) when the host name did not resolve."""
    failure = netfail.failure_of(err)
    if failure.kind in ("dns", "dns-temporary"):
        return failure.label
    return netfail.DNS.label if err.error == "Unknown host" else None


def short(err: OAAClientError) -> str:
    """``HTTP 503: <message>`` (or oaaclient's error code), redacted, at most 300 characters."""
    status = f"HTTP {err.status_code}" if err.status_code else err.error
    return redact.redact(f"{status}: {err.message}")[:300]


def veza_error(err: OAAClientError, url: str, step: str, attempt: int) -> VezaError:
    """One sentence per failure, with what to do; never the API key (redacted anyway)."""
    status = err.status_code
    if isinstance(err, OAAConnectionError) and _tls_failure(err):
        message, hint = (
            f"cannot verify the TLS certificate of Veza at {url}",
            "give the CA with --ca-bundle or REQUESTS_CA_BUNDLE",
        )
    elif isinstance(err, OAAConnectionError) and _dns_failure(err):
        message, hint = (
            f"cannot find the Veza host {urlsplit(url).hostname or url} ({_dns_failure(err)})",
            "check VEZA_URL for typos, DNS and the proxy",
        )
    elif isinstance(err, OAAConnectionError):
        message, hint = (
            f"cannot reach Veza at {url} after {attempt} attempts",
            "check VEZA_URL and the network/proxy",
        )
    elif status == 401:
        message, hint = "Veza refused the API key (HTTP 401)", "check VEZA_API_KEY"
    elif status == 403:
        message, hint = (
            "Veza refused the request (HTTP 403)",
            "give the API key's user the right to manage OAA providers",
        )
    elif status == 400:
        said = details(err.message or err.error, err.details)
        message, hint = (
            f"Veza rejected the {step} (HTTP 400): {said}",
            "fix the data it names, or inspect the payload saved with --save-json",
        )
    elif status is not None and status >= 500:
        message, hint = (
            f"Veza failed the {step} with HTTP {status} after {attempt} attempts",
            "try again later; if it persists, contact Veza support",
        )
    else:
        message, hint = (
            f"Veza failed the {step}: {short(err)}",
            "check VEZA_URL and the Veza tenant's status",
        )
    return VezaError(redact.redact(message), hint)


def details(first: str, items: object) -> str:
    """``first; detail; detail; detail; and N more``: at most ``_MAX_DETAILS`` of ``items``
    (strings, or Veza's ``{"message": ...}`` objects)."""
    listed = list(items) if isinstance(items, list | tuple) else []
    parts = [first]
    for detail in listed[:_MAX_DETAILS]:
        text = detail.get("message", detail) if isinstance(detail, dict) else detail
        parts.append(str(text))
    more = len(listed) - _MAX_DETAILS
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(p for p in parts if p)
