"""The seven scopes oaa-concur needs and what each missing one costs (concur-api.md §3.7).

Concur drops the fields of a missing Identity scope silently (the call still succeeds), so a
missing scope is a quieter picture, not an error; only the Spend scope makes discovery fail.
``ScopeReport`` is the one verdict ``auth check`` and ``check`` give: ok, warn (a quieter
picture) or fail (no Spend scope: exit 2, the app's configuration must change).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from oaa_concur.errors import ConfigError

REQUIRED_SCOPES: dict[str, str] = {
    "openid": "no id_token; the company UUID is read from the access token instead",
    "identity.user.core.read": "no active flag, display names or created/modified dates, so "
    "every user looks inactive",
    "identity.user.enterprise.read": "no employee numbers, cost centers, managers, start or "
    "termination dates and no product entitlements",
    "identity.user.ids.read": "no user names or external ids",
    "identity.company.core.read": "no company details (no documented API uses it yet)",
    "spend.user.general.read": "no Spend roles, approvers or delegates: discovery fails",
    "identity.user.coresensitive.read": "no emails, so users cannot be linked to the IdP",
}
SPEND_SCOPE = "spend.user.general.read"


def missing_scopes(granted: Iterable[str]) -> dict[str, str]:
    """The required scopes not in ``granted``, each with what its absence costs."""
    have = set(granted)
    return {scope: cost for scope, cost in REQUIRED_SCOPES.items() if scope not in have}


Verdict = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class ScopeReport:
    """The granted scopes against the required ones: what ``auth check`` and ``check`` say.

    ``fail`` when the Spend scope is missing (discovery cannot run: a configuration of the
    Concur app, exit 2), ``warn`` when another one is (discovery runs with a quieter picture)
    or Concur did not say, ``ok`` when all seven are granted."""

    granted: tuple[str, ...]
    missing: dict[str, str]
    extra: tuple[str, ...]

    @classmethod
    def of(cls, granted: Iterable[str]) -> ScopeReport:
        have = tuple(granted)
        extra = tuple(sorted(set(have) - REQUIRED_SCOPES.keys()))
        return cls(have, missing_scopes(have), extra)

    @property
    def verdict(self) -> Verdict:
        if not self.granted:
            return "warn"  # Concur did not say: discovery finds out
        if SPEND_SCOPE in self.missing:
            return "fail"
        return "warn" if self.missing else "ok"

    def sentence(self) -> str:
        """One sentence: all granted, or what is missing and what each costs."""
        if not self.granted:
            return "Concur did not say which scopes were granted; fields may be missing"
        if not self.missing:
            return f"all {len(REQUIRED_SCOPES)} required scopes are granted"
        if SPEND_SCOPE in self.missing:
            others = len(self.missing) - 1
            more = f" (and {others} more scope(s) are missing)" if others else ""
            return (
                f"the app lacks the scope {SPEND_SCOPE}, so discovery cannot read Spend roles{more}"
            )
        listed = "; ".join(f"{scope} ({cost})" for scope, cost in self.missing.items())
        return (
            f"{len(self.missing)} of the {len(REQUIRED_SCOPES)} required scopes "
            f"{'is' if len(self.missing) == 1 else 'are'} missing: {listed}"
        )

    def hint(self) -> str | None:
        if self.verdict == "ok":
            return None
        if not self.granted:
            return "compare the app's scopes in Concur with the seven the README lists"
        return (
            "ask SAP Concur to grant the missing scopes to the app, then run "
            "`oaa-concur auth exchange` again"
        )

    def error(self) -> ConfigError | None:
        """A ``ConfigError`` (exit 2) when discovery cannot run with these scopes."""
        if self.verdict != "fail":
            return None
        return ConfigError(self.sentence(), self.hint())
