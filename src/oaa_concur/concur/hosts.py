"""Where Concur credentials may go: base URLs and the trusted hosts (design.md §3.1, §3.6).

Base URLs are scheme + host only (Concur's geolocation, concur-api.md §1); HTTPS is required
except on loopback addresses. A geolocation is Concur's to choose but ours to accept: a token
answer, an OAuth code-16 answer or a planted credentials file could otherwise send the client
secret and the refresh token to any host (issue 11). ``TrustedHosts`` says which hosts may
receive them; ``UntrustedHost`` (exit 1) is raised before anything is sent elsewhere.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from oaa_concur.errors import ConcurError, ConfigError
from oaa_concur.safetext import one_line

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}
_HOST = re.compile(r"^[a-z0-9._-]+$|^[0-9a-f:.]+$")  # a DNS name, IPv4 or (unbracketed) IPv6


def normalise_base(url: str) -> str:
    """``https://us.api.concursolutions.com/oauth2/v0/token`` -> ``https://us.api...com``.

    One documented sample (S4 company-refresh-tool.md) shows a geolocation with the token path
    still on it; any path, query or trailing slash is dropped. A bare host gets ``https://``.
    """
    text = url.strip()
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        port = f":{parts.port}" if parts.port else ""  # ValueError: out of range, not a number
    except ValueError:
        parts, port = urlsplit(""), ""
    if not parts.hostname:
        raise ConfigError(
            f"{url!r} is not a URL", "give a URL like https://us2.api.concursolutions.com"
        )
    host = parts.hostname.lower()
    if not _HOST.match(host):
        raise ConfigError(f"{url!r} does not name a valid host", "check the URL for typos")
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme.lower()}://{host}{port}"


def is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base(url: str) -> str:
    """Normalise ``url`` and refuse plain HTTP to anything but a loopback address."""
    base = normalise_base(url)
    parts = urlsplit(base)
    if parts.scheme == "https" or (parts.scheme == "http" and is_loopback(parts.hostname or "")):
        return base
    raise ConfigError(
        f"Refusing {base}: Concur must be reached over HTTPS (plain HTTP only on loopback)",
        "use an https:// URL",
    )


DOCUMENTED_DOMAINS = ("concursolutions.com", "concurcdc.cn")
"""Concur's base URIs (platform/base-uris.md: ``*.api.concursolutions.com``; the China data
center ``cn.api.concurcdc.cn`` was removed from that page on 2025-10-14 but a China tenant may
still be handed it, notes-concur.md §4.3)."""


class UntrustedHost(ConcurError):
    """A geolocation outside the trusted hosts: nothing was, or will be, sent there."""


def _host_of(name: str) -> str:
    host = urlsplit(normalise_base(name)).hostname
    assert host is not None  # normalise_base refuses a URL without one
    return host


def _documented(host: str) -> bool:
    return any(host == d or host.endswith("." + d) for d in DOCUMENTED_DOMAINS)


@dataclass(frozen=True, slots=True)
class TrustedHosts:
    """Where Concur credentials may go (design.md §3.1): https under ``DOCUMENTED_DOMAINS``,
    the host name of ``CONCUR_URL`` as the user set it (any port: the simulator answers tokens
    and data on two loopback ports), and the hosts the user named (``--trust-host``)."""

    landing: str
    named: frozenset[str] = frozenset()

    @classmethod
    def of(cls, concur_url: str, named: Iterable[str] = ()) -> TrustedHosts:
        """From the settings; ConfigError for a CONCUR_URL or named host that is no URL."""
        return cls(_host_of(check_base(concur_url)), frozenset(_host_of(n) for n in named))

    def trusts(self, base: str) -> bool:
        """``base`` (scheme + host, from ``check_base``) may receive credentials."""
        parts = urlsplit(base)
        host = parts.hostname or ""
        if host == self.landing or host in self.named:
            return True
        return parts.scheme == "https" and _documented(host)

    def check(self, url: str, origin: str) -> str:
        """The base of ``url`` if trusted; else ``UntrustedHost`` naming ``origin``."""
        try:
            base = check_base(url)
        except ConfigError:
            base = None
        if base is not None and self.trusts(base):
            return base
        shown = base or repr(one_line(url)[:200])
        host = urlsplit(base).hostname if base else None
        raise UntrustedHost(
            f"Refusing the Concur geolocation {shown} from {origin}: it is not a documented "
            "Concur host (https under concursolutions.com or concurcdc.cn) nor the host of "
            "CONCUR_URL, so no credential was sent there",
            f"if it is a genuine Concur data center, trust it with --trust-host {host} or "
            "OAA_CONCUR_TRUSTED_HOSTS"
            if host
            else "check CONCUR_URL and the credentials file; report it to SAP Concur",
        )
