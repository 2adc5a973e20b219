"""Push one OAA payload to Veza with oaaclient: get or create the provider and data source,
upload (one gzipped push, or in parts from the payload file), then wait until Veza parsed it.

oaaclient quirks handled here (veza-oaa.md §2.3):

* ``OAAClient()`` calls the network in its constructor and retries inside urllib3 with real
  sleeps (up to 10 times, 30 s apart); its POSTs (push, create provider) are never retried.
  ``_Client`` defers the connection test, mounts an adapter without retries and every request
  runs as a retried step (``oaa.steps``) with the sleep, clock and jitter of the caller's
  ``Runtime``.
* ``push_metadata`` wants the payload as a dict (and serialises it whole); the payload here is
  a file written as a stream (``oaa.stream``), so the data source is looked up (and created)
  as ``push_metadata`` does and the bytes go through ``oaa.parts``.
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
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from oaaclient.client import OAAClient, OAAClientError
from requests.adapters import HTTPAdapter

from oaa_concur import redact
from oaa_concur.errors import ConfigError, VezaError
from oaa_concur.oaa.confirm import Confirmation, ParseReader, WaitPolicy, wait_for_parse
from oaa_concur.oaa.files import Payload, Source, payload
from oaa_concur.oaa.parts import (
    DEFAULT_PART_SIZE,
    MULTIPART_THRESHOLD,
    PayloadBody,
    Target,
    check_part_size,
    upload,
)
from oaa_concur.oaa.steps import VEZA_POLICY, Steps
from oaa_concur.retry import RetryPolicy
from oaa_concur.runtime import DEFAULT, Runtime

log = logging.getLogger(__name__)

__all__ = ["VEZA_POLICY", "PushOptions", "PushResult", "check_name", "check_veza_tls", "push"]

TEMPLATE = "application"
_ALLOWED = re.compile(OAAClient.ALLOWED_CHARACTERS)
UNSAFE_VARIABLE = "VEZA_UNSAFE_HTTPS"
_FALSE = frozenset({"", "0", "false", "no", "off", "n", "f"})


@dataclass(frozen=True)
class PushOptions:
    """How the payload is sent and confirmed."""

    part_size: int = DEFAULT_PART_SIZE
    """Raw JSON bytes per part of a multipart push."""
    multipart_threshold: int = MULTIPART_THRESHOLD
    """Payloads larger than this go in parts (oaaclient's threshold)."""
    wait: WaitPolicy | None = field(default_factory=WaitPolicy)
    """How long to wait for Veza's parse; None: do not wait (``--no-wait``)."""


@dataclass(frozen=True)
class PushResult:
    """What Veza said about one push."""

    warnings: list[str]
    payload_bytes: int
    parts: int
    """0: one gzipped ``:push``; else the number of ``:parts`` uploads."""
    confirmation: Confirmation | None = None
    """Veza's parse, when it was waited for."""


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
    source: Source | PayloadBody | Path,
    *,
    veza_url: str,
    api_key: str,
    provider_name: str,
    data_source_name: str,
    ca_bundle: str | Path | None = None,
    timeout_s: float | None = None,
    runtime: Runtime = DEFAULT,
    policy: RetryPolicy = VEZA_POLICY,
    options: PushOptions | None = None,
) -> PushResult:
    """Get or create the provider and data source, push the payload (a file, or an application
    or payload dict in memory) and wait until Veza parsed it; return what Veza said."""
    options = options or PushOptions()
    _check(veza_url, api_key, provider_name, data_source_name)
    check_part_size(options.part_size)
    body = _body(source)
    steps = Steps(veza_url, policy, runtime)
    client = _client(veza_url, api_key, ca_bundle, timeout_s)
    steps.run("connect", client.test_connection)
    provider = steps.run("find or create the provider", lambda: _provider(client, provider_name))
    target = _data_source(client, steps, provider, data_source_name)
    reader = ParseReader(client, steps, target, data_source_name)
    baseline = reader.baseline() if options.wait else None
    uploaded = upload(
        client,
        steps,
        target,
        body,
        part_size=options.part_size,
        threshold=options.multipart_threshold,
    )
    warnings = _warnings(uploaded.response)
    for warning in warnings:
        log.warning("Veza warning: %s", warning)
    how = f"in {uploaded.parts} parts" if uploaded.parts else "in one push"
    log.info(
        "pushed %s to Veza data source %r, %d bytes %s (%d warnings)",
        provider_name,
        data_source_name,
        body.size,
        how,
        len(warnings),
    )
    confirmed = None
    if options.wait is not None and baseline is not None:
        confirmed = wait_for_parse(reader, baseline, options.wait, runtime)
    return PushResult(warnings, body.size, uploaded.parts, confirmed)


def _check(veza_url: str, api_key: str, provider_name: str, data_source_name: str) -> None:
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


def _body(source: Source | PayloadBody | Path) -> PayloadBody:
    """A payload file is sent from disk; an application or dict is serialised compactly."""
    if isinstance(source, PayloadBody):
        return source
    if isinstance(source, Path):
        return PayloadBody(path=source)
    data: Payload = payload(source)
    return PayloadBody(data=orjson.dumps(data))


def _data_source(client: _Client, steps: Steps, provider: dict[str, Any], name: str) -> Target:
    """The data source ``name`` of ``provider``, created when missing (as ``push_metadata``)."""
    provider_id = str(provider["id"])

    def find_or_create() -> dict[str, Any]:
        found: dict[str, Any] | None = client.get_data_source(name, provider_id)
        if found is None:
            log.info("creating the Veza data source %r", name)
            client.create_data_source(name, provider_id)
            found = client.get_data_source(name, provider_id)
        if not isinstance(found, dict) or not found.get("id"):
            raise VezaError(
                f"Veza did not return the data source {name!r} it was asked to create",
                "try again later; if it persists, contact Veza support",
            )
        return found

    source = steps.run("find or create the data source", find_or_create)
    return Target(provider_id, str(source["id"]))


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
