"""The run's summary line counts roles under the codes the OAA payload gives them (§4)."""

from __future__ import annotations

from oaa_concur.models import Company, DiscoveryResult, RoleGrant, SpendProfile, User
from oaa_concur.summary import summarize


def test_products_spelled_differently_are_one_entitlement_role() -> None:
    users = [
        User("u1", active=True, entitlements=("Expense", "Locate/Analytics")),
        User("u2", entitlements=("expense",)),
    ]
    spend = {"u1": SpendProfile("u1", roles=(RoleGrant("EXP_APPROVER"), RoleGrant("EXP_USER")))}
    summary = summarize(DiscoveryResult(Company("c", "https://x.example"), users, spend))
    # ENTITLEMENT_EXPENSE, ENTITLEMENT_LOCATE_ANALYTICS, EXP_APPROVER, EXP_USER
    assert (summary.users, summary.active, summary.roles, summary.grants) == (2, 1, 4, 5)
    assert summary.line().startswith(
        "2 users (1 active), 4 roles, 5 grants (2 spend grants), 0 data issues"
    )
