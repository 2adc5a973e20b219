"""The exception tree and the exit codes. Every error a user can cause ends as one of these,
never a traceback.

::

    OaaConcurError (message + what to do; exit_code 1)
    ├── ConfigError            bad option, environment value, config or state file   (exit 2)
    ├── ConcurError            Concur answered badly or not at all                    (exit 1)
    │   ├── ConcurAuthError    token endpoint refused: bad secret, expired token, ...
    │   ├── ClientError        a 4xx other than 429 (not retried; the decoded body kept)
    │   ├── RetriableError     429, 5xx, timeout, dropped connection (retry code catches only this)
    │   │   └── MalformedResponse  a 2xx whose body is not a JSON object (retried fewer times)
    │   ├── UnreachableHost    DNS or certificate failure: named as such, never retried
    │   └── IncompleteDiscovery  a page could not be read after retries: nothing is pushed
    ├── VezaError              Veza unreachable or refused the push                    (exit 1)
    ├── LockedError            another run holds the state-directory lock              (exit 3)
    ├── PushRefused            a guard (shrink check) refused the push                 (exit 4)
    └── FindingsFailed         ``report --fail-on``: open findings at that severity    (exit 5)

Exit codes (``ExitCode``; the same table is in the README, "Scheduling"). Each is a case a
scheduler treats differently; 126-130 are left to the shell (130: interrupted, Ctrl-C/SIGINT).

====  ==============  =================================================================
code  outcome         meaning, and what a scheduler does with it
====  ==============  =================================================================
0     ``ok``          success (warnings allowed; findings never fail a run on their own)
1     ``failed``      the run failed: Concur or Veza error, incomplete discovery; nothing
                      was pushed. Retry at the next run; alert if it persists
2     ``config``      usage or configuration error (option, variable, config file, state
                      directory, credentials file, a Concur app without a needed scope):
                      retrying cannot help, a human must fix it
3     ``locked``      another run holds the state-directory lock: this one did nothing.
                      Runs overlap; not a failure of Concur or Veza
4     ``refused``     the push was refused by the shrink guard (users fell more than
                      ``max-shrink``): a human decides, then runs with ``--allow-shrink``
5     ``findings``    ``report --fail-on``: findings at or above that severity are open
130   ``interrupted`` interrupted (Ctrl-C, SIGINT): nothing was pushed
====  ==============  =================================================================

``str(error)`` is the one sentence the CLI prints on the last line of stderr: what happened,
then what to do. Messages must never contain a secret (``oaa_concur.redact`` is the net).

The classes are dataclasses: a subclass declares its extra fields (keyword-only) and inherits
one generated constructor, ``Error(message, hint, field=...)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, ClassVar


class ExitCode(IntEnum):
    """The process exit codes (see the module docstring and the README's table)."""

    OK = 0
    FAILED = 1
    CONFIG = 2
    LOCKED = 3
    REFUSED = 4
    FINDINGS = 5
    INTERRUPTED = 130

    @property
    def outcome(self) -> str:
        """The machine-readable name of the outcome (``"locked"``), as in JSON records."""
        return self.name.lower()


def outcome_of(code: int) -> str:
    """``ExitCode(code).outcome``, or ``"failed"`` for a code outside the table."""
    try:
        return ExitCode(code).outcome
    except ValueError:
        return ExitCode.FAILED.outcome


@dataclass(eq=False)
class OaaConcurError(Exception):
    """Base class. ``hint`` says what the user should do; it is appended to the message."""

    message: str
    hint: str | None = None
    exit_code: ClassVar[int] = ExitCode.FAILED

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message.rstrip('.')}: {self.hint}"
        return self.message


class ConfigError(OaaConcurError):
    exit_code = ExitCode.CONFIG


@dataclass(eq=False, kw_only=True)
class ConcurError(OaaConcurError):
    """Concur answered with an error; ``correlation_id`` is Concur's ``concur-correlationid``
    (concur-api.md §5.1: SAP support asks for it)."""

    status: int | None = None
    correlation_id: str | None = None
    host: str | None = None
    """The Concur host (``host[:port]``) the failed request went to, when known."""

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
    kind: str | None = None
    """For a failure without an answer: what went wrong (``netfail.Failure.label``)."""


class MalformedResponse(RetriableError):
    """A 2xx whose body is not JSON or has the wrong shape.

    Retried, but fewer times than a 5xx (``RetryPolicy.max_malformed_attempts``): a truncated
    body is often a transient proxy or gateway fault, a permanently broken page is not.
    """


@dataclass(eq=False, kw_only=True)
class UnreachableHost(ConcurError):
    """The host cannot be found (DNS) or its certificate cannot be verified: named as such and
    not retried like a dropped connection (retrying cannot fix a wrong name or CA)."""

    kind: str = "unreachable"


class IncompleteDiscovery(ConcurError):
    """Discovery could not read everything; a partial picture is never pushed."""


class VezaError(OaaConcurError):
    pass


class LockedError(OaaConcurError):
    exit_code = ExitCode.LOCKED


class PushRefused(OaaConcurError):
    exit_code = ExitCode.REFUSED


class FindingsFailed(OaaConcurError):
    """``report --fail-on``: findings at or above the severity are open (design.md §2.3)."""

    exit_code = ExitCode.FINDINGS
