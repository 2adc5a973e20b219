"""What a failed connection was, for both sides: httpx (Concur) and requests/oaaclient (Veza).

Neither library says it directly: the cause sits a few links down the exception chain.
httpx raises ``ConnectError`` *from* httpcore's, itself raised from the ``OSError`` of the
socket (``socket.gaierror`` for DNS, ``ssl.SSLCertVerificationError`` for a certificate);
requests wraps urllib3's ``MaxRetryError`` whose ``reason`` is a ``NameResolutionError``
(raised from the ``gaierror``) or an ``SSLError``; oaaclient raises its ``OAAConnectionError``
inside the ``except`` of either (so the cause is its ``__context__``), or straight from its
own DNS lookup. ``failure_of`` walks ``__cause__``, ``__context__``, urllib3's ``reason`` and
exception ``args`` until it finds one of those, and says what it is.

Retrying helps a dropped or refused connection, a timeout and a *temporary* DNS failure
(``EAI_AGAIN``); it cannot help a name that does not exist or a certificate that does not
verify, so those are not retried (``Failure.retriable``) and the error names them.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass

_DNS_TEMPORARY = frozenset(
    code for code in (getattr(socket, "EAI_AGAIN", None),) if isinstance(code, int)
)
_MAX_LINKS = 32


@dataclass(frozen=True, slots=True)
class Failure:
    """One kind of connection failure: ``kind`` for machines, ``label`` for the sentence."""

    kind: str
    """``dns``, ``dns-temporary``, ``certificate``, ``tls``, ``refused``, ``timeout``,
    ``dropped``."""
    label: str
    retriable: bool


DNS = Failure("dns", "DNS lookup failed: no such host", retriable=False)
DNS_TEMPORARY = Failure("dns-temporary", "DNS lookup failed temporarily", retriable=True)
TLS = Failure("tls", "TLS handshake failed", retriable=False)
REFUSED = Failure("refused", "connection refused", retriable=True)
TIMEOUT = Failure("timeout", "timed out", retriable=True)
DROPPED = Failure("dropped", "connection dropped", retriable=True)


def certificate(detail: str | None) -> Failure:
    """A certificate that does not verify, with OpenSSL's reason when it gave one."""
    label = "certificate verification failed"
    return Failure("certificate", f"{label} ({detail})" if detail else label, retriable=False)


def _chain(error: BaseException) -> Iterator[BaseException]:
    """``error`` and every exception it was raised from or wraps, each once, nearest first."""
    todo: list[BaseException] = [error]
    seen: set[int] = set()
    while todo and len(seen) < _MAX_LINKS:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        linked.extend(arg for arg in current.args if isinstance(arg, BaseException))
        todo.extend(link for link in linked if isinstance(link, BaseException))


def _known(error: BaseException) -> Failure | None:
    if isinstance(error, socket.gaierror):
        return DNS_TEMPORARY if error.errno in _DNS_TEMPORARY else DNS
    if isinstance(error, ssl.SSLCertVerificationError):
        return certificate(error.verify_message or None)
    if isinstance(error, ssl.SSLError):
        return TLS
    if isinstance(error, ConnectionRefusedError):
        return REFUSED
    if isinstance(error, TimeoutError):
        return TIMEOUT
    return None


def failure_of(error: BaseException) -> Failure:
    """What went wrong under ``error`` (a transport exception of httpx, requests or
    oaaclient): the first known cause in its chain, else ``DROPPED``."""
    for link in _chain(error):
        found = _known(link)
        if found is not None:
            return found
    return DROPPED
