"""Build the OAA CustomApplication for one Concur company from a DiscoveryResult (design.md §4)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from operator import attrgetter

from oaaclient.templates import (
    CustomApplication,
    CustomResource,
    LocalUser,
    LocalUserType,
    OAAPermission,
    OAAPropertyType,
)

from oaa_concur import catalogue
from oaa_concur.catalogue import RoleInfo
from oaa_concur.gc_control import gc_paused
from oaa_concur.models import DataIssue, DiscoveryResult, IssueKind, SpendProfile, User

APPLICATION_TYPE = "Concur"
ROLE_GROUP = "role_group"
MAX_STRING = 4096  # Veza: custom string values are at most 4096 characters (veza-oaa.md §1.2)

# Spend Approver / Delegate extension keys (concur-api.md §4.3). Defined up front, with the
# properties derived from them, so the payload schema does not depend on the tenant's data.
APPROVER_KINDS = (
    "report",
    "cashAdvance",
    "request",
    "invoice",
    "purchaseRequest",
    "statement",
    "budget",
)
DELEGATE_KINDS = ("expense", "payment", "purchaseRequest")
BASE_ENTITLEMENTS = ("Expense", "Invoice", "Request", "Travel")

_S, _T, _L, _B = (
    OAAPropertyType.STRING,
    OAAPropertyType.TIMESTAMP,
    OAAPropertyType.STRING_LIST,
    OAAPropertyType.BOOLEAN,
)
USER_PROPERTIES: dict[str, OAAPropertyType] = {
    "user_name": _S,
    "cost_center": _S,
    "employee_number": _S,
    "department": _S,
    "division": _S,
    "company_id": _S,
    "external_id": _S,
    "manager_id": _S,
    "start_date": _T,
    "termination_date": _T,
    "last_modified_at": _T,
    "entitlements": _L,
    "non_employee": _B,
    "test_employee": _B,
}
ROLE_PROPERTIES: dict[str, OAAPropertyType] = {
    "product": _S,
    "privileged": _B,
    "group_aware": _B,
    "category": _S,
    "known": _B,
}
APPLICATION_PROPERTIES: dict[str, OAAPropertyType] = {"company_id": _S, "geolocation": _S}

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
_NOT_NAME = re.compile(r"[^a-z_]+")


@lru_cache(maxsize=256)
def snake(kind: str) -> str:
    """``cashAdvance`` -> ``cash_advance``; keeps only what ``^[a-z][a-z_]*$`` allows."""
    name = _NOT_NAME.sub("_", _CAMEL.sub("_", kind).lower()).strip("_")
    return name or "other"


@lru_cache(maxsize=256)
def approvers_property(kind: str) -> str:
    return f"{snake(kind)}_approvers"


@lru_cache(maxsize=256)
def delegates_properties(kind: str) -> tuple[str, str]:
    base = f"{snake(kind)}_delegates"
    return base, f"{base}_can_approve"


def rfc3339(value: datetime | None) -> str | None:
    """RFC 3339 in UTC with ``Z`` and whole seconds (naive datetimes are taken as UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    # Not strftime("%Y"): glibc writes year 1 as "1", which is not RFC 3339 ("0001").
    return value.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


_grant_key = attrgetter("role_code", "role_groups")


def application_name(result: DiscoveryResult) -> str:
    return f"Concur - {result.company.display_name}"


def build_application(result: DiscoveryResult) -> CustomApplication:
    """The one CustomApplication for ``result.company``; deterministic for a given result.

    Data problems found on the way (strings over 4096 characters, unknown role codes,
    duplicate user ids) are appended to ``result.issues`` once each.
    """
    with gc_paused():
        return _build(result)


def _build(result: DiscoveryResult) -> CustomApplication:
    issues = _Issues(result.issues)
    app = CustomApplication(application_name(result), application_type=APPLICATION_TYPE)
    _define_properties(app, result)
    app.set_property("company_id", result.company.id)
    app.set_property("geolocation", result.company.geolocation)
    for name in sorted(catalogue.PERMISSIONS):
        types = [OAAPermission(t) for t in catalogue.PERMISSIONS[name]]
        app.add_custom_permission(name, types, apply_to_sub_resources=True)
    roles = _add_roles(app, result, issues)
    groups = _add_role_groups(app, result)
    seen: set[str] = set()
    for user in sorted(result.users, key=lambda u: u.id):
        if user.id.lower() in seen:
            issues.add(IssueKind.DUPLICATE_ID, user.id, "second user with this id left out")
            continue
        seen.add(user.id.lower())
        local = _add_user(app, user, result.spend.get(user.id), issues)
        _assign(local, user, result.spend.get(user.id), roles, groups)
    return app


class _Issues:
    """Appends a DataIssue to the result's list unless an equal one is there already."""

    def __init__(self, target: list[DataIssue]) -> None:
        self.target = target
        self.keys = {(i.kind, i.subject) for i in target}
        self.full = set(target)

    def add(self, kind: IssueKind, subject: str, detail: str, *, per_subject: bool = True) -> None:
        issue = DataIssue(kind, subject, detail)
        if (per_subject and (kind, subject) in self.keys) or issue in self.full:
            return
        self.keys.add((kind, subject))
        self.full.add(issue)
        self.target.append(issue)


def _kinds(result: DiscoveryResult) -> tuple[list[str], list[str]]:
    """Approver and delegate kinds: the documented ones plus any other the data holds."""
    approver = dict.fromkeys(APPROVER_KINDS)
    delegate = dict.fromkeys(DELEGATE_KINDS)
    for profile in result.spend.values():
        approver.update(dict.fromkeys(e.kind for e in profile.approvers))
        delegate.update(dict.fromkeys(e.kind for e in profile.delegates))
    return sorted(approver), sorted(delegate)


def _define_properties(app: CustomApplication, result: DiscoveryResult) -> None:
    defs = app.property_definitions
    for name, kind in APPLICATION_PROPERTIES.items():
        defs.define_application_property(name, kind)
    user_props = dict(USER_PROPERTIES)
    approver_kinds, delegate_kinds = _kinds(result)
    for kind in approver_kinds:
        user_props[approvers_property(kind)] = _L
    for kind in delegate_kinds:
        for name in delegates_properties(kind):
            user_props[name] = _L
    for name in sorted(user_props):
        defs.define_local_user_property(name, user_props[name])
    for name, kind in ROLE_PROPERTIES.items():
        defs.define_local_role_property(name, kind)


def _role_infos(result: DiscoveryResult, issues: _Issues) -> list[RoleInfo]:
    infos = {code.upper(): info for code, info in catalogue.CATALOGUE.items()}
    products = set(BASE_ENTITLEMENTS)
    for user in result.users:
        products.update(p for p in user.entitlements if p.strip())
    for product in products:
        info = catalogue.entitlement_role(product)
        infos.setdefault(info.code.upper(), info)
    for profile in result.spend.values():
        for grant in profile.roles:
            if grant.role_code.upper() not in infos:
                infos[grant.role_code.upper()] = catalogue.role_info(grant.role_code)
                issues.add(
                    IssueKind.UNKNOWN_ROLE_CODE,
                    grant.role_code,
                    "role code not in the catalogue; mapped to Uncategorized",
                )
    return sorted(infos.values(), key=lambda i: i.code)


def _add_roles(app: CustomApplication, result: DiscoveryResult, issues: _Issues) -> dict[str, str]:
    """Adds every role; returns upper-cased code -> role id (Concur's spelling)."""
    ids: dict[str, str] = {}
    for info in _role_infos(result, issues):
        role = app.add_local_role(_cut(info.name), list(info.permissions), unique_id=info.code)
        role.set_property("product", _cut(info.product))  # a product name is Concur data
        role.set_property("privileged", info.privileged)
        role.set_property("group_aware", info.group_aware)
        role.set_property("category", info.category)
        role.set_property("known", info.known)
        ids[info.code.upper()] = info.code
    return ids


def _add_role_groups(app: CustomApplication, result: DiscoveryResult) -> dict[str, CustomResource]:
    """One ``role_group`` resource per group code (keys lower-cased: oaaclient's are)."""
    codes = sorted({g for p in result.spend.values() for r in p.roles for g in r.role_groups if g})
    groups: dict[str, CustomResource] = {}
    for code in codes:
        if code.lower() not in groups:
            groups[code.lower()] = app.add_resource(code, ROLE_GROUP, unique_id=code)
    return groups


def _add_user(
    app: CustomApplication, user: User, spend: SpendProfile | None, issues: _Issues
) -> LocalUser:
    local = app.add_local_user(user.name, identities=_identities(user), unique_id=user.id)
    local.email = user.email
    local.is_active = user.active
    local.created_at = rfc3339(user.created_at)
    local.user_type = LocalUserType.Human
    # Names come from USER_PROPERTIES and the kinds defined in _define_properties, so they are
    # defined; writing the dict directly skips oaaclient's per-call O(properties) name check.
    props = local.properties
    for name, value in _user_values(user, spend).items():
        if value is None or value == []:
            continue
        if _too_long(value):
            value = _truncated(value, user.id, name, issues)
        props[name] = value
    return local


def _identities(user: User) -> list[str]:
    """All emails lower-cased, plus the login name when it is an email address."""
    found = {e.value.strip().lower() for e in user.emails if e.value and e.value.strip()}
    if user.user_name and "@" in user.user_name:
        found.add(user.user_name.strip().lower())
    return sorted(found)


def _user_values(user: User, spend: SpendProfile | None) -> dict[str, object]:
    values: dict[str, object] = {
        "user_name": user.user_name,
        "cost_center": user.cost_center,
        "employee_number": user.employee_number,
        "department": user.department,
        "division": user.division,
        "company_id": user.company_id,
        "external_id": user.external_id,
        "manager_id": user.manager_id,
        "start_date": rfc3339(user.start_date),
        "termination_date": rfc3339(user.termination_date),
        "last_modified_at": rfc3339(user.last_modified_at),
        "entitlements": sorted(set(user.entitlements)),
    }
    if spend is not None:
        values["non_employee"] = spend.non_employee
        values["test_employee"] = spend.test_employee
        values.update(_edge_values(spend))
    return values


def _edge_values(spend: SpendProfile) -> dict[str, list[str]]:
    out: dict[str, set[str]] = {}
    for a in spend.approvers:
        out.setdefault(approvers_property(a.kind), set()).add(a.approver_id)
    for d in spend.delegates:
        delegates, can_approve = delegates_properties(d.kind)
        out.setdefault(delegates, set()).add(d.delegate_id)
        if d.can_approve:
            out.setdefault(can_approve, set()).add(d.delegate_id)
    return {name: sorted(ids) for name, ids in out.items()}


def _too_long(value: object) -> bool:
    if type(value) is str:
        return len(value) > MAX_STRING
    return type(value) is list and max(map(len, value)) > MAX_STRING


def _truncated(value: object, subject: str, name: str, issues: _Issues) -> object:
    issues.add(
        IssueKind.TRUNCATED_STRING,
        subject,
        f"{name} cut to {MAX_STRING} characters",
        per_subject=False,
    )
    if isinstance(value, list):
        return [_cut(v) for v in value]
    return _cut(str(value))


def _cut(text: str) -> str:
    return text[:MAX_STRING]


@lru_cache(maxsize=64)
def _entitlement_code(product: str) -> str:
    return catalogue.entitlement_role(product).code


def _assign(
    local: LocalUser,
    user: User,
    spend: SpendProfile | None,
    roles: dict[str, str],
    groups: dict[str, CustomResource],
) -> None:
    for product in sorted({p for p in user.entitlements if p.strip()}):
        local.add_role(_entitlement_code(product), apply_to_application=True)
    if spend is None:
        return
    for grant in sorted(spend.roles, key=_grant_key):
        role_id = roles[grant.role_code.upper()]
        if not any(grant.role_groups):  # absent, [] or [""]: the global group (concur-api §4.3)
            local.add_role(role_id, apply_to_application=True)
        else:
            scope = sorted({g.lower() for g in grant.role_groups if g})
            local.add_role(role_id, resources=[groups[g] for g in scope])
