"""A hand-made tenant whose findings are known in advance (see EXPECTED).

Time is fixed at NOW = 2025-06-15 12:00 UTC. Each user exists to trigger (or, for leo's expired
delegation and mia's inactive conflict, to *not* trigger) one kind of finding. Issue 10's
access details: alice delegates to leo (expired 2025-06-01) and to frank (scheduled from
2025-07-01), has approval limits and RESTRICTED processor report access; mia is a processor with
Concur's default; grace's report approver is an employee number Identity does not know.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from oaa_concur.models import (
    ApprovalLimit,
    ApproverEdge,
    Company,
    DataIssue,
    DelegateEdge,
    DiscoveryResult,
    Email,
    IssueKind,
    RoleGrant,
    RunStats,
    SpendProfile,
    UnknownReference,
    User,
)

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)


def _dt(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, tzinfo=UTC)


def _user(
    uid: str,
    name: str,
    *,
    active: bool = True,
    email: bool = True,
    cost_center: str = "CC-100",
    manager_id: str | None = None,
    termination_date: datetime | None = None,
) -> User:
    emails = (Email(f"{uid[2:]}@example.com", "work"),) if email else ()
    return User(
        id=uid,
        user_name=f"{uid[2:]}@example.com",
        display_name=name,
        active=active,
        emails=emails,
        cost_center=cost_center,
        manager_id=manager_id,
        termination_date=termination_date,
        entitlements=("Expense",),
    )


def _profile(
    uid: str,
    *roles: RoleGrant,
    approvers: tuple[ApproverEdge, ...] = (),
    delegates: tuple[DelegateEdge, ...] = (),
) -> SpendProfile:
    return SpendProfile(uid, tuple(roles), approvers, delegates)


def users() -> list[User]:
    return [
        _user("u-alice", "Alice Approver", manager_id="u-judy"),
        _user("u-bob", "Bob Leaver", termination_date=_dt(2025, 5, 1)),
        _user("u-carol", "Carol Soon", termination_date=_dt(2025, 7, 1)),
        _user("u-dave", "Dave Dormant", active=False),
        _user("u-erin", "Erin Vendor", cost_center="=SUM(A1)"),
        _user("u-frank", "Frank Roles"),
        _user("u-grace", "Grace Noemail", email=False),
        _user("u-heidi", "Heidi Gone", active=False, email=False),
        _user("u-ivan", "Ivan <b>&</b> Chains"),
        _user("u-judy", "Judy Self"),
        _user("u-ken", "Ken Delegate"),
        _user("u-leo", "Leo Expired"),
        _user("u-mia", "Mia Inactive", active=False),
    ]


def profiles() -> dict[str, SpendProfile]:
    g = RoleGrant
    delegations = (
        DelegateEdge("u-alice", "u-ken", "expense", ("canApprove", "canSubmit")),
        DelegateEdge(
            "u-alice",
            "u-leo",
            "expense",
            ("canApprove",),
            temporary_from=_dt(2025, 5, 1),
            temporary_to=_dt(2025, 6, 1),
        ),
        DelegateEdge(
            "u-alice",
            "u-frank",
            "payment",
            ("canApprove", "canViewReceipt"),
            temporary_from=_dt(2025, 7, 1),
            temporary_to=_dt(2025, 8, 1),
            delegate_employee_number="E-FRANK",
        ),
    )
    limits = (
        ApprovalLimit("u-alice", "authorizedApprover", "report", 5000.0, "USD", "", 1),
        ApprovalLimit("u-alice", "costObjectApprover", "report", 250.5, "USD", "R&D", 2, True),
    )
    items = [
        replace(
            _profile(
                "u-alice",
                g("EXP_APPROVER"),
                g("EXP_PROCESSOR", ("R&D-QA-Exp",)),
                delegates=delegations,
            ),
            approval_limits=limits,
            processor_report_access="RESTRICTED",
            bi_manager_id="u-judy",
        ),
        _profile("u-bob", g("SHD_EMPLOYEE_ADMIN", ("HR",)), g("SHD_PAYROLL_ADMIN")),
        _profile("u-carol", g("EXP_USER")),
        _profile("u-dave", g("EXP_CONFIG_ADMIN")),
        _profile("u-erin", g("INV_VENDOR_ADMIN", ("INV-East",)), g("INV_PMT_MANAGER")),
        _profile("u-frank", g("SHD_ROLE_ADMIN"), g("REQ_APPROVER")),
        _profile("u-grace", g("EXP_USER")),
        _profile(
            "u-ivan",
            g("EXP_USER"),
            approvers=(
                ApproverEdge("u-ivan", "u-ghost", "report", primary=True),
                ApproverEdge("u-ivan", "u-dave", "cashAdvance"),
            ),
        ),
        _profile(
            "u-judy",
            g("EXP_APPROVER"),
            approvers=(ApproverEdge("u-judy", "u-judy", "report", primary=True),),
        ),
        _profile(
            "u-ken",
            g("EXP_USER"),
            approvers=(
                ApproverEdge("u-ken", "u-bob", "report"),
                ApproverEdge("u-ken", "u-alice", "cashAdvance"),
            ),
        ),
        _profile(
            "u-leo", g("XYZ_CUSTOM_ROLE"), approvers=(ApproverEdge("u-leo", "u-alice", "report"),)
        ),
        _profile("u-mia", g("EXP_APPROVER"), g("EXP_PROCESSOR")),
    ]
    return {p.user_id: p for p in items}


def tenant() -> DiscoveryResult:
    return DiscoveryResult(
        company=Company(
            id="c0ffee00-0000-4000-8000-000000000001",
            geolocation="https://us2.api.concursolutions.com",
            name="Acme Test",
        ),
        users=users(),
        spend=profiles(),
        issues=[
            DataIssue(IssueKind.ORPHAN_SPEND_RECORD, "u-orphan", "no Identity user"),
            DataIssue(IssueKind.UNKNOWN_ROLE_CODE, "XYZ_CUSTOM_ROLE", "not in catalogue"),
            DataIssue(IssueKind.UNKNOWN_REFERENCE, "u-grace", "report approver E404 unknown"),
        ],
        unknown_references=[
            UnknownReference(
                "u-grace",
                "approver",
                "report",
                None,
                "E404",
                "matches no Identity user's employeeNumber",
            )
        ],
        stats=RunStats(
            started_at=_dt(2025, 6, 15),
            duration_s=1.5,
            requests=4,
            token_requests=1,
            identity_pages=1,
            spend_pages=1,
            granted_scopes=("identity.user.core.read",),
        ),
    )


RULES_FILE = """
[[exemptions]]
user = "erin@example.com"
rule = "SOD-INV-VENDOR-PAY"
reason = "Interim AP lead until the vendor team is staffed (ticket AUD-12)"
expires = 2025-12-31

[[exemptions]]
user = "u-frank"
rule = "SOD-SHD-ROLE-ADMIN-APPROVER"
reason = "Expired waiver"
expires = 2025-01-31
"""
EXEMPTION_EXPIRES = date(2025, 12, 31)

# finding id -> (severity, user ids, role codes); exact and complete for tenant() at NOW.
EXPECTED: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "TERMINATED_ACTIVE:u-bob": (
        "critical",
        ("u-bob",),
        ("SHD_EMPLOYEE_ADMIN", "SHD_PAYROLL_ADMIN"),
    ),
    "SOD-INV-VENDOR-PAY:u-erin": ("critical", ("u-erin",), ("INV_PMT_MANAGER", "INV_VENDOR_ADMIN")),
    "SOD-EXP-APPROVE-PROCESS:u-alice": ("high", ("u-alice",), ("EXP_APPROVER", "EXP_PROCESSOR")),
    "SOD-SHD-EMPLOYEE-PAYROLL:u-bob": (
        "high",
        ("u-bob",),
        ("SHD_EMPLOYEE_ADMIN", "SHD_PAYROLL_ADMIN"),
    ),
    "SOD-SHD-ROLE-ADMIN-APPROVER:u-frank": (
        "high",
        ("u-frank",),
        ("REQ_APPROVER", "SHD_ROLE_ADMIN"),
    ),
    "APPROVER_UNKNOWN:u-ivan:u-ghost": ("high", ("u-ivan", "u-ghost"), ()),
    "APPROVER_UNKNOWN:u-grace:employeeNumber:E404": ("high", ("u-grace",), ()),
    "SELF_APPROVAL:u-judy": ("high", ("u-judy",), ("EXP_APPROVER",)),
    "DELEGATE_SELF_APPROVAL:u-ken:u-alice": ("high", ("u-ken", "u-alice"), ()),
    "INACTIVE_PRIVILEGED:u-dave": ("medium", ("u-dave",), ("EXP_CONFIG_ADMIN",)),
    "APPROVER_INACTIVE:u-ivan:u-dave": ("medium", ("u-ivan", "u-dave"), ()),
    "APPROVER_TERMINATED:u-ken:u-bob": ("medium", ("u-ken", "u-bob"), ()),
    "ORPHAN_SPEND:u-orphan": ("medium", ("u-orphan",), ()),
    "TERMINATION_DUE:u-carol": ("low", ("u-carol",), ("EXP_USER",)),
    "NO_EMAIL:u-grace": ("low", ("u-grace",), ("EXP_USER",)),
    "UNKNOWN_ROLE:XYZ_CUSTOM_ROLE": ("low", ("u-leo",), ("XYZ_CUSTOM_ROLE",)),
    "NO_EMAIL:u-heidi": ("info", ("u-heidi",), ()),
    "PRIVILEGED_ROLE:EXP_CONFIG_ADMIN": ("info", ("u-dave",), ("EXP_CONFIG_ADMIN",)),
    "PRIVILEGED_ROLE:INV_PMT_MANAGER": ("info", ("u-erin",), ("INV_PMT_MANAGER",)),
    "PRIVILEGED_ROLE:INV_VENDOR_ADMIN": ("info", ("u-erin",), ("INV_VENDOR_ADMIN",)),
    "PRIVILEGED_ROLE:SHD_EMPLOYEE_ADMIN": ("info", ("u-bob",), ("SHD_EMPLOYEE_ADMIN",)),
    "PRIVILEGED_ROLE:SHD_PAYROLL_ADMIN": ("info", ("u-bob",), ("SHD_PAYROLL_ADMIN",)),
    "PRIVILEGED_ROLE:SHD_ROLE_ADMIN": ("info", ("u-frank",), ("SHD_ROLE_ADMIN",)),
}
