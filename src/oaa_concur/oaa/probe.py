"""Ask Veza whether a push would get through, without pushing (``oaa-concur check``, preflight).

The same client the push uses (``push._client``: TLS always verified, the CA bundle per
request, no urllib3 retries), the same one-sentence errors (``steps.Steps``), fewer attempts:
a check should answer in seconds. Three questions, in order:

* the settings: an ``https://`` URL with a host, an API key, ``VEZA_UNSAFE_HTTPS`` unset,
  provider and data source names Veza accepts, a CA bundle that exists (``check_settings``);
* the connection: DNS, TCP, TLS and the API key, in one authenticated GET (``connect``,
  oaaclient's own connection test: ``GET /api/v1/providers/custom/templates``);
* the provider: found by name, and built on the ``application`` template (``provider``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from oaa_concur import redact
from oaa_concur.errors import ConfigError
from oaa_concur.oaa.push import TEMPLATE, _client, check_name, check_veza_tls
from oaa_concur.oaa.steps import Steps
from oaa_concur.retry import RetryPolicy
from oaa_concur.runtime import DEFAULT, Runtime

PROBE_POLICY = RetryPolicy(max_attempts=2, total_budget_s=120.0)
"""Two attempts per question: a check that waits minutes for a dead Veza helps nobody."""


@dataclass(frozen=True)
class ProviderFound:
    """What Veza knows of the provider: None when it does not exist yet (a push creates it)."""

    id: str | None
    template: str | None

    @property
    def usable(self) -> bool:
        return self.template in (None, TEMPLATE)


def check_settings(
    veza_url: str | None,
    api_key: str | None,
    *,
    provider_name: str,
    data_source_name: str | None,
    ca_bundle: Path | None,
) -> str:
    """The Veza host to probe; ``ConfigError`` for the first setting a push would refuse."""
    if not veza_url:
        raise ConfigError(
            "No Veza URL is set", "set VEZA_URL or --veza-url, or run discover with --no-push"
        )
    parts = urlsplit(veza_url if "://" in veza_url else f"https://{veza_url}")
    if parts.scheme.lower() != "https" or not parts.hostname:
        raise ConfigError(
            f"The Veza URL {veza_url} is not an https:// URL; Veza is reached over HTTPS only",
            "set VEZA_URL to the https:// address of the tenant",
        )
    if not api_key:
        raise ConfigError(
            "VEZA_API_KEY is not set",
            "export the API key of the Veza tenant, or run discover with --no-push",
        )
    redact.register(api_key)
    check_veza_tls()
    check_name(provider_name, "provider name")
    if data_source_name is not None:
        check_name(data_source_name, "data source name")
    if ca_bundle is not None and not ca_bundle.is_file():
        raise ConfigError(
            f"The CA bundle {ca_bundle} does not exist", "give --ca-bundle the path of a PEM file"
        )
    return parts.netloc


class VezaProbe:
    """One Veza client for the questions after the settings (each a retried step)."""

    def __init__(
        self,
        veza_url: str,
        api_key: str,
        *,
        ca_bundle: Path | None = None,
        timeout_s: float | None = None,
        runtime: Runtime = DEFAULT,
        policy: RetryPolicy = PROBE_POLICY,
    ) -> None:
        self._steps = Steps(veza_url, policy, runtime)
        self._client = _client(veza_url, api_key, ca_bundle, timeout_s)

    def connect(self) -> None:
        """DNS, TLS and the API key: one authenticated GET; ``VezaError`` naming what failed."""
        self._steps.run("connection test", self._client.test_connection)

    def provider(self, name: str) -> ProviderFound:
        """Look the provider up by name (nothing is created)."""
        found: dict[str, Any] | None = self._steps.run(
            "provider lookup", lambda: self._client.get_provider(name)
        )
        if found is None:
            return ProviderFound(None, None)
        template = found.get("custom_template")
        return ProviderFound(str(found.get("id")), template if isinstance(template, str) else None)
