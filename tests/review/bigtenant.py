"""A generated tenant of N users for paging, the browser test and measurements."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from oaa_concur.models import (
    ApproverEdge,
    Company,
    DelegateEdge,
    DiscoveryResult,
    Email,
    RoleGrant,
    RunStats,
    SpendProfile,
    User,
)

_ROLES = [
    "EXP_USER",
    "EXP_APPROVER",
    "EXP_PROCESSOR",
    "INV_APPROVER",
    "REQ_USER",
    "SHD_EMPLOYEE_ADMIN",
    "INV_VENDOR_ADMIN",
    "SHD_ROLE_ADMIN",
]
_START = datetime(2020, 1, 1, tzinfo=UTC)


def big_tenant(n: int) -> DiscoveryResult:
    """``n`` users, about 2.4 Spend roles, one approver edge and a few delegates each."""
    users: list[User] = []
    spend: dict[str, SpendProfile] = {}
    for i in range(n):
        uid = f"00000000-0000-4000-8000-{i:012d}"
        users.append(
            User(
                id=uid,
                user_name=f"user{i}@example.com",
                display_name=f"User {i:06d}",
                active=i % 17 != 0,
                emails=(Email(f"user{i}@example.com", "work"),),
                employee_number=str(i),
                cost_center=f"CC-{i % 40}",
                department="Dept",
                manager_id=users[i // 10].id if i else None,
                start_date=_START,
                termination_date=_START + timedelta(days=2000) if i % 101 == 0 else None,
                created_at=_START,
                last_modified_at=_START,
                entitlements=("Expense", "Request"),
            )
        )
        roles = tuple(
            RoleGrant(_ROLES[(i + k) % len(_ROLES)], ("R&D-QA-Exp",) if k == 1 else ())
            for k in range(1 + i % 3)
        )
        approver = users[i // 10].id if i else uid
        spend[uid] = SpendProfile(
            uid,
            roles,
            (ApproverEdge(uid, approver, "report", primary=True),),
            (DelegateEdge(uid, users[i - 1].id, "expense", ("canApprove",)),)
            if i % 50 == 1
            else (),
        )
    return DiscoveryResult(
        company=Company(
            "c0ffee00-0000-4000-8000-00000000beef", "https://us2.api.concursolutions.com", "Big Co"
        ),
        users=users,
        spend=spend,
        stats=RunStats(started_at=_START, duration_s=10.0),
    )
