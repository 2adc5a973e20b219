"""Push one OAA payload to Veza with oaaclient, retrying what is transient, failing in one sentence.

oaaclient quirks handled here (veza-oaa.md §2.3):

* ``OAAClient()`` calls the network in its constructor and retries inside urllib3 with real
  sleeps (up to 10 times, 30 s apart); its POSTs (push, create provider) are never retried.
  ``_Client`` defers the connection test, mounts an adapter without retries and lets
  ``push`` retry every step itself under the one retry policy (``oaa_concur.retry``), with
  the sleep, clock and jitter of the caller's ``Runtime``.
* ``OAAResponseError`` drops the response; the ``requests`` HTTPError it is raised from (its
  ``__context__``) keeps the headers, so a ``Retry-After`` from Veza is still honoured.
* A private CA is given per request (``verify=<path>``), which wins over ``REQUESTS_CA_BUNDLE``;
  without ``ca_bundle`` requests still honours that variable.
* ``VEZA_UNSAFE_HTTPS=true`` makes ``OAAClient`` turn TLS verification off (and the API key
  would travel to whoever answers): a true value of it is refused (``check_veza_tls``), and
  verification is set back on after construction whatever the variable says.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from oaaclient.client import OAAClient, OAAClientError, OAAConnectionError, OAAResponseError
from oaaclient.templates import CustomApplication
from requests.adapters import HTTPAdapter

from oaa_concur import netfail, redact
from oaa_concur.errors import ConfigError, VezaError
from oaa_concur.oaa.files import Payload, payload
from oaa_concur.retry import Retrier, RetryPolicy, Transient
from oaa_concur.runtime import DEFAULT, Runtime

log = logging.getLogger(__name__)
T = TypeVar("T")

TEMPLATE = "application"
VEZA_POLICY = RetryPolicy(max_attempts=5, total_budget_s=900.0)
"""Five attempts per step, 1, 2, 4, 8 s apart (jittered); the budget leaves room for five
requests that each run into ``timeout_s``."""
_ALLOWED = re.compile(OAAClient.ALLOWED_CHARACTERS)
_TRANSIENT = frozenset({408, 429, 500, 502, 503, 504})
_MAX_DETAILS = 3
UNSAFE_VARIABLE = "VEZA_UNSAFE_HTTPS"
_FALSE = frozenset({"", "0", "false", "no", "off", "n", "f"})


def check_veza_tls(env: Mapping[str, str] | None = None) -> None:
    """Refuse ``VEZA_UNSAFE_HTTPS`` set to anything but an empty or false value."""
    value = (os.environ if env is None else env).get(UNSAFE_VARIABLE, "")
    if value.strip().lower() not in _FALSE:
        raise ConfigError(
            f"{UNSAFE_VARIABLE} is set, which would turn off TLS verification to Veza and "
            "expose the API key; oaa-concur refuses it",
            f"unset {UNSAFE_VARIABLE} and trust a private CA with --ca-bundle or "
            "REQUESTS_CA_BUNDLE instead",
        )


def check_name(name: str, what: str) -> str:
    """Refuse a provider or data source name that Veza would refuse (``ALLOWED_CHARACTERS``)."""
    if not name.strip() or not _ALLOWED.match(name):
        raise ConfigError(
            f"The Veza {what} {name!r} is empty or has characters Veza does not allow",
            "use only letters, digits, spaces and @#$%&*:()!,_'\"=.-",
        )
    return name


class _Client(OAAClient):  # type: ignore[misc]
    """OAAClient without the connection test in its constructor and without urllib3 retries."""

    def _test_connection(self) -> None:
        return None  # ``push`` runs the real test once the session is configured

    def test_connection(self) -> None:
        super()._test_connection()


def push(
    app: CustomApplication | Payload,
    *,
    veza_url: str,
    api_key: str,
    provider_name: str,
    data_source_name: str,
    ca_bundle: str | Path | None = None,
    timeout_s: float | None = None,
    runtime: Runtime = DEFAULT,
    policy: RetryPolicy = VEZA_POLICY,
) -> list[str]:
    """Get or create the provider and data source, push the payload; return Veza's warnings."""
    redact.register(api_key)
    check_veza_tls()
    if veza_url.lower().startswith("http://"):
        # oaaclient would turn it into "https://http://..." and fail with a confusing DNS error
        raise ConfigError(
            f"The Veza URL {veza_url} is not HTTPS; Veza is reached over HTTPS only",
            "set VEZA_URL to the https:// address of the tenant",
        )
    check_name(provider_name, "provider name")
    check_name(data_source_name, "data source name")
    body = payload(app)
    steps = _Steps(veza_url, policy, runtime)
    client = _client(veza_url, api_key, ca_bundle, timeout_s)
    steps.run("connect", client.test_connection)
    steps.run("find or create the provider", lambda: _provider(client, provider_name))
    response = steps.run(
        "push", lambda: client.push_metadata(provider_name, data_source_name, body)
    )
    warnings = _warnings(response)
    for warning in warnings:
        log.warning("Veza warning: %s", warning)
    log.info(
        "pushed %s to Veza data source %r (%d warnings)",
        provider_name,
        data_source_name,
        len(warnings),
    )
    return warnings


def _client(
    url: str, api_key: str, ca_bundle: str | Path | None, timeout_s: float | None
) -> _Client:
    try:
        client = _Client(url=url, api_key=api_key)
    except (ValueError, OAAClientError) as err:  # only argument checks happen before the test
        raise VezaError(f"cannot use the Veza URL {url!r}", "check VEZA_URL") from err
    client.verify_ssl = True  # whatever VEZA_UNSAFE_HTTPS said (check_veza_tls refused it)
    adapter = HTTPAdapter(max_retries=0)
    client._http_adapter.mount("https://", adapter)
    client._http_adapter.mount("http://", adapter)
    if ca_bundle is not None:
        if not Path(ca_bundle).is_file():
            raise ConfigError(
                f"The CA bundle {ca_bundle} does not exist",
                "give --ca-bundle the path of a PEM file",
            )
        client.verify_ssl = str(ca_bundle)
    if timeout_s is not None:
        client._api_timeout = timeout_s
    return client


def _provider(client: _Client, name: str) -> dict[str, Any]:
    provider: dict[str, Any] | None = client.get_provider(name)
    if provider is None:
        log.info("creating the Veza provider %r (template %s)", name, TEMPLATE)
        provider = client.create_provider(name, TEMPLATE)
    template = provider.get("custom_template")
    if template not in (None, TEMPLATE):
        raise VezaError(
            f"the Veza provider {name!r} uses the {template!r} template, not {TEMPLATE!r}",
            "choose another --provider-name",
        )
    return provider


def _warnings(response: Any) -> list[str]:
    items = response.get("warnings") if isinstance(response, dict) else None
    out = []
    for item in items or []:
        message = item.get("message") if isinstance(item, dict) else None
        out.append(redact.redact(str(message if message is not None else item)))
    return out


class _Steps:
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
            raise _veza_error(err, self.url, step, attempts) from None


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
        return Transient(retry_after=_retry_after(err), reason=_short(err), host=_request_host(err))
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


def _short(err: OAAClientError) -> str:
    status = f"HTTP {err.status_code}" if err.status_code else err.error
    return redact.redact(f"{status}: {err.message}")[:300]


def _veza_error(err: OAAClientError, url: str, step: str, attempt: int) -> VezaError:
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
        message, hint = (
            f"Veza rejected the {step} (HTTP 400): {_details(err)}",
            "fix the data it names, or inspect the payload saved with --save-json",
        )
    elif status is not None and status >= 500:
        message, hint = (
            f"Veza failed the {step} with HTTP {status} after {attempt} attempts",
            "try again later; if it persists, contact Veza support",
        )
    else:
        message, hint = (
            f"Veza failed the {step}: {_short(err)}",
            "check VEZA_URL and the Veza tenant's status",
        )
    return VezaError(redact.redact(message), hint)


def _details(err: OAAClientError) -> str:
    parts = [err.message or err.error]
    for detail in list(err.details)[:_MAX_DETAILS]:
        text = detail.get("message", detail) if isinstance(detail, dict) else detail
        parts.append(str(text))
    more = len(err.details) - _MAX_DETAILS
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(p for p in parts if p)
