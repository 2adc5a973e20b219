"""The exception tree. Every error a user can cause ends as one of these, never a traceback.

::

    OaaConcurError (message + what to do; exit_code 1)
    ├── ConfigError            bad option, environment value, config or state file   (exit 2)
    ├── ConcurError            Concur answered badly or not at all                    (exit 1)
    │   ├── ConcurAuthError    token endpoint refused: bad secret, expired token, ...
    │   ├── ClientError        a 4xx other than 429 (not retried; the decoded body kept)
    │   ├── RetriableError     429, 5xx, timeout, dropped connection (retry code catches only this)
    │   │   └── MalformedResponse  a 2xx whose body is not a JSON object (retried fewer times)
    │   └── IncompleteDiscovery  a page could not be read after retries: nothing is pushed
    ├── VezaError              Veza unreachable or refused the push                    (exit 1)
    ├── PushRefused            a guard (shrink check) refused the push                 (exit 1)
    └── LockedError            another run holds the state-directory lock              (exit 1)

``str(error)`` is the one sentence the CLI prints on the last line of stderr: what happened,
then what to do. Messages must never contain a secret (``oaa_concur.redact`` is the net).

The classes are dataclasses: a subclass declares its extra fields (keyword-only) and inherits
one generated constructor, ``Error(message, hint, field=...)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False)
class OaaConcurError(Exception):
    """Base class. ``hint`` says what the user should do; it is appended to the message."""

    message: str
    hint: str | None = None
    exit_code = 1

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message.rstrip('.')}: {self.hint}"
        return self.message


class ConfigError(OaaConcurError):
    exit_code = 2


@dataclass(eq=False, kw_only=True)
class ConcurError(OaaConcurError):
    """Concur answered with an error; ``correlation_id`` is Concur's ``concur-correlationid``
    (concur-api.md §5.1: SAP support asks for it)."""

    status: int | None = None
    correlation_id: str | None = None

    def __str__(self) -> str:
        text = super().__str__()
        if self.correlation_id:
            text = f"{text.rstrip('.')} (concur-correlationid {self.correlation_id})."
        return text


@dataclass(eq=False, kw_only=True)
class ConcurAuthError(ConcurError):
    """The token endpoint refused the request (OAuth error body with a Concur ``code``,
    concur-api.md §2.5)."""

    code: int | None = None


@dataclass(eq=False, kw_only=True)
class ClientError(ConcurError):
    """A 4xx other than 429: not retried. ``body`` is the decoded error body when it was JSON."""

    body: dict[str, Any] | None = field(default=None, repr=False)


@dataclass(eq=False, kw_only=True)
class RetriableError(ConcurError):
    """A failure worth retrying: 429, 5xx, timeout, dropped connection.

    ``retry_after`` is the ``Retry-After`` header as Concur sent it (delta-seconds or an
    HTTP-date); the retrier resolves it against its clock (``oaa_concur.retry``).
    """

    retry_after: str | None = None


class MalformedResponse(RetriableError):
    """A 2xx whose body is not JSON or has the wrong shape.

    Retried, but fewer times than a 5xx (``RetryPolicy.max_malformed_attempts``): a truncated
    body is often a transient proxy or gateway fault, a permanently broken page is not.
    """


class IncompleteDiscovery(ConcurError):
    """Discovery could not read everything; a partial picture is never pushed."""


class VezaError(OaaConcurError):
    pass


class PushRefused(OaaConcurError):
    pass


class LockedError(OaaConcurError):
    pass
