"""The seven scopes oaa-concur needs and what each missing one costs (concur-api.md §3.7).

Concur drops the fields of a missing Identity scope silently (the call still succeeds), so a
missing scope is a quieter picture, not an error; only the Spend scope makes discovery fail.
"""

from __future__ import annotations

from collections.abc import Iterable

from oaa_concur.errors import ConcurError

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


def require_spend_scope(granted: Iterable[str]) -> None:
    """ConcurError unless ``granted`` has the Spend scope: without it discovery cannot run."""
    if SPEND_SCOPE not in set(granted):
        raise ConcurError(
            f"The Concur app lacks the scope {SPEND_SCOPE}, so discovery cannot read Spend roles",
            "ask SAP Concur to grant it to the app, then run `oaa-concur auth exchange` again",
        )
