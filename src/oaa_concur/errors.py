"""The exception tree. Every error a user can cause ends as one of these, never a traceback.

::

    OaaConcurError (message + what to do; exit_code 1)
    ├── ConfigError            bad option, environment value, config or state file   (exit 2)
    ├── ConcurError            Concur answered badly or not at all                    (exit 1)
    │   ├── ConcurAuthError    token endpoint refused: bad secret, expired token, ...
    │   ├── RetriableError     429, 5xx, timeout, dropped connection (retry code catches only this)
    │   └── IncompleteDiscovery  a page could not be read after retries: nothing is pushed
    ├── VezaError              Veza unreachable or refused the push                    (exit 1)
    ├── PushRefused            a guard (shrink check) refused the push                 (exit 1)
    └── LockedError            another run holds the state-directory lock              (exit 1)

``str(error)`` is the one sentence the CLI prints on the last line of stderr: what happened,
then what to do. Messages must never contain a secret (``oaa_concur.redact`` is the net).
"""

from __future__ import annotations


class OaaConcurError(Exception):
    """Base class. ``hint`` says what the user should do; it is appended to the message."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message.rstrip('.')}: {self.hint}"
        return self.message


class ConfigError(OaaConcurError):
    exit_code = 2


class ConcurError(OaaConcurError):
    """Concur answered with an error; ``correlation_id`` is Concur's ``concur-correlationid``."""

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        status: int | None = None,
        correlation_id: str | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.status = status
        self.correlation_id = correlation_id

    def __str__(self) -> str:
        text = super().__str__()
        if self.correlation_id:
            text = f"{text.rstrip('.')} (concur-correlationid {self.correlation_id})."
        return text


class ConcurAuthError(ConcurError):
    """The token endpoint refused the request (OAuth error body with a Concur ``code``)."""

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        status: int | None = None,
        correlation_id: str | None = None,
        code: int | None = None,
    ) -> None:
        super().__init__(message, hint, status=status, correlation_id=correlation_id)
        self.code = code


class RetriableError(ConcurError):
    """A failure worth retrying: 429, 5xx, timeout, dropped connection."""

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        status: int | None = None,
        correlation_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, hint, status=status, correlation_id=correlation_id)
        self.retry_after = retry_after


class IncompleteDiscovery(ConcurError):
    """Discovery could not read everything; a partial picture is never pushed."""


class VezaError(OaaConcurError):
    pass


class PushRefused(OaaConcurError):
    pass


class LockedError(OaaConcurError):
    pass
