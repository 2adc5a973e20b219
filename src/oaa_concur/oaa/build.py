"""Build the OAA CustomApplication for one Concur company from a DiscoveryResult (design.md §4).

Pure: ``build_application`` reads the result and returns the application together with the data
issues the mapping found (over-long strings, unknown role codes, user ids that differ only in
case); the caller decides what to do with them (``sync`` adds them to the snapshot). Each user
is mapped on its own by ``map_user`` (a ``MappedUser``, no oaaclient object), then added to the
application, so the same per-user mapping can feed a payload written as a stream.

Time enters only as ``now`` (default: ``result.as_of``, the moment discovery read the data): a
temporary delegation is published only inside its window (``DelegateEdge.state``). The
references a mapping gets are already resolved (discovery's join); an empty id is skipped all
the same, so nothing is ever published as an edge to nobody.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Container, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from operator import attrgetter

from oaaclient.templates import (
    CustomApplication,
    CustomResource,
    LocalUserType,
    OAAPermission,
    OAAPropertyType,
)

from oaa_concur import catalogue
from oaa_concur.catalogue import RoleInfo
from oaa_concur.concur.parse import DELEGATE_FLAGS
from oaa_concur.gc_control import gc_paused
from oaa_concur.models import (
    ApprovalLimit,
    Company,
    DataIssue,
    DiscoveryResult,
    IssueKind,
    SpendProfile,
    User,
)

APPLICATION_TYPE = "Concur"
ISSUE_LIMIT = 1000
"""Issues of one kind a streamed build keeps (the rest are counted), as discovery's sink."""
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
    "bi_manager_id": _S,
    "processor_report_access": _S,
    "authorized_approver_types": _L,
    "cost_object_approver_types": _L,
    "approval_limit_groups": _L,
    "approval_limits": _L,
}
ROLE_PROPERTIES: dict[str, OAAPropertyType] = {
    "product": _S,
    "privileged": _B,
    "group_aware": _B,
    "category": _S,
    "known": _B,
    "shared": _B,
    "permission_description": _S,
}
GLOBAL_GROUP = "Global"
"""How ``approval_limit_groups`` names the blank group ("if blank, resolves to the global
group"; "By default, GET Users ... only returns the config in `Global` group")."""
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
def primary_approvers_property(kind: str) -> str:
    return f"{snake(kind)}_approvers_primary"


@lru_cache(maxsize=256)
def delegates_property(kind: str) -> str:
    return f"{snake(kind)}_delegates"


@lru_cache(maxsize=1024)
def delegate_flag_property(kind: str, flag: str) -> str:
    """``("expense", "canUseBi")`` -> ``expense_delegates_can_use_bi``."""
    return f"{snake(kind)}_delegates_{snake(flag)}"


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


def _application_name(company: Company) -> str:
    return f"Concur - {company.display_name}"


@dataclass(frozen=True, slots=True)
class BuiltApplication:
    """The OAA application of one discovery and the data issues found while mapping it."""

    app: CustomApplication
    issues: tuple[DataIssue, ...]
    """Issues the result does not hold yet, each once, in the order they were found."""


@dataclass(frozen=True, slots=True)
class MappedUser:
    """One Concur user as an OAA local user (design.md §4), independent of ``oaaclient``."""

    id: str
    name: str
    email: str | None
    identities: tuple[str, ...]
    active: bool
    created_at: str | None
    properties: Mapping[str, object]
    """Custom properties with a value, strings cut to ``MAX_STRING``."""
    assignments: tuple[tuple[str, tuple[str, ...]], ...]
    """(role id, role-group keys) in the order they are assigned; no keys: the application."""
    issues: tuple[DataIssue, ...]


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """The few tenant-wide names the application's header is made of: kinds, flags, products,
    role codes and role groups as the data spells them, each once, in first-seen order. From a
    result in memory (``of``) or from the snapshot store (``review.store``): the header is the
    same either way."""

    approver_kinds: tuple[str, ...] = ()
    delegate_kinds: tuple[str, ...] = ()
    delegate_flags: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    role_codes: tuple[str, ...] = ()
    role_groups: tuple[str, ...] = ()

    @classmethod
    def of(cls, result: DiscoveryResult) -> Vocabulary:
        profiles = list(result.spend.values())
        return cls(
            approver_kinds=_first_seen(e.kind for p in profiles for e in p.approvers),
            delegate_kinds=_first_seen(e.kind for p in profiles for e in p.delegates),
            delegate_flags=_first_seen(
                f for p in profiles for e in p.delegates for f in e.permissions
            ),
            products=_first_seen(e for u in result.users for e in u.entitlements),
            role_codes=_first_seen(g.role_code for p in profiles for g in p.roles),
            role_groups=_first_seen(g for p in profiles for r in p.roles for g in r.role_groups),
        )


def _first_seen(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def build_application(result: DiscoveryResult, *, now: datetime | None = None) -> BuiltApplication:
    """The one CustomApplication for ``result.company``, deterministic for a given result and
    ``now`` (default ``result.as_of``), and the data problems found on the way (the result
    itself is left as it was)."""
    with gc_paused():
        return _build(result, result.as_of if now is None else now)


@dataclass(slots=True)
class ApplicationParts:
    """The application without its users, and its users mapped one at a time: what
    ``oaa.stream`` writes as a payload file without building the object graph."""

    header: CustomApplication
    """Properties, roles, permissions and role-group resources; no local users."""
    users: Iterator[MappedUser]
    """Each user once, by id (a case-duplicate left out as an issue), mapped by ``map_user``."""
    collector: _Issues

    @property
    def issues(self) -> list[DataIssue]:
        """The issues found: complete once ``users`` is exhausted."""
        return self.collector.listed()


def application_parts(result: DiscoveryResult, *, now: datetime | None = None) -> ApplicationParts:
    """``build_application`` in two parts: the same header, the same users, the same issues."""
    issues = _Issues(result.issues)
    app, role_ids, _ = _header(result.company, Vocabulary.of(result), issues)
    now = result.as_of if now is None else now
    return ApplicationParts(app, _mapped_users(result, role_ids, issues, now), issues)


def stored_parts(
    company: Company,
    vocabulary: Vocabulary,
    people: Iterable[tuple[User, SpendProfile | None]],
    *,
    skip: Container[str],
    known: Iterable[DataIssue],
    now: datetime | None,
    limit: int = ISSUE_LIMIT,
) -> ApplicationParts:
    """The same parts from a snapshot store: ``people`` in id order (``review.store.people``),
    ``skip`` the case-duplicate ids to leave out (``review.store.case_duplicates``), issues
    bounded to ``limit`` per kind."""
    issues = _Issues(known, limit)
    app, role_ids, _ = _header(company, vocabulary, issues)
    return ApplicationParts(app, _mapped(people, role_ids, issues, now, skip), issues)


def _build(result: DiscoveryResult, now: datetime | None) -> BuiltApplication:
    issues = _Issues(result.issues)
    app, role_ids, groups = _header(result.company, Vocabulary.of(result), issues)
    for mapped in _mapped_users(result, role_ids, issues, now):
        _add_user(app, mapped, groups)
    return BuiltApplication(app, tuple(issues.found))


def build_header(
    company: Company, vocabulary: Vocabulary, known: Iterable[DataIssue] = ()
) -> tuple[CustomApplication, dict[str, str], list[DataIssue]]:
    """The application without users for ``company`` (``oaa.stream`` adds them), the role ids
    by upper-cased code (``map_user``'s ``role_ids``) and the issues found (unknown role codes,
    leaving out those in ``known``)."""
    issues = _Issues(known)
    app, role_ids, _ = _header(company, vocabulary, issues)
    return app, role_ids, issues.found


def _header(
    company: Company, vocabulary: Vocabulary, issues: _Issues
) -> tuple[CustomApplication, dict[str, str], dict[str, CustomResource]]:
    """The application with everything but its users; role ids and role groups by key."""
    app = CustomApplication(_application_name(company), application_type=APPLICATION_TYPE)
    _define_properties(app, vocabulary)
    app.set_property("company_id", company.id)
    app.set_property("geolocation", company.geolocation)
    for permission in sorted(catalogue.PERMISSIONS):
        types = [OAAPermission(t) for t in catalogue.PERMISSIONS[permission]]
        app.add_custom_permission(permission, types, apply_to_sub_resources=True)
    role_ids = _add_roles(app, vocabulary, issues)
    groups = _add_role_groups(app, vocabulary)
    return app, role_ids, groups


def _mapped_users(
    result: DiscoveryResult, role_ids: Mapping[str, str], issues: _Issues, now: datetime | None
) -> Iterator[MappedUser]:
    people = ((u, result.spend.get(u.id)) for u in sorted(result.users, key=_by_id))
    return _mapped(people, role_ids, issues, now, None)


def _by_id(user: User) -> str:
    return user.id


def _mapped(
    people: Iterable[tuple[User, SpendProfile | None]],
    role_ids: Mapping[str, str],
    issues: _Issues,
    now: datetime | None,
    skip: Container[str] | None,
) -> Iterator[MappedUser]:
    """Users in id order mapped one by one; a second user whose id differs only in case is
    left out, as an issue (``skip`` names them; None: found here, keeping every id seen)."""
    seen: set[str] = set()
    for user, spend in people:
        if skip is None:
            duplicate = user.id.lower() in seen
            seen.add(user.id.lower())
        else:
            duplicate = user.id in skip
        if duplicate:
            issues.add(
                DataIssue(IssueKind.DUPLICATE_ID, user.id, "second user with this id left out")
            )
            continue
        mapped = map_user(user, spend, role_ids, now=now)
        for issue in mapped.issues:
            issues.add(issue, per_subject=False)
        yield mapped


class _Issues:
    """The issues a build found, each once, leaving out those the result already holds; with a
    ``limit``, the first ``limit`` of each kind are kept and the rest counted (a stream of a
    million users keeps its memory)."""

    def __init__(self, known: Iterable[DataIssue], limit: int | None = None) -> None:
        self.found: list[DataIssue] = []
        self.full = set(known)
        self.keys = {(i.kind, i.subject) for i in self.full}
        self.limit = limit
        self.counts: Counter[IssueKind] = Counter()

    def add(self, issue: DataIssue, *, per_subject: bool = True) -> None:
        key = (issue.kind, issue.subject)
        if (per_subject and key in self.keys) or issue in self.full:
            return
        self.counts[issue.kind] += 1
        if self.limit is not None and self.counts[issue.kind] > self.limit:
            return
        self.keys.add(key)
        self.full.add(issue)
        self.found.append(issue)

    def listed(self) -> list[DataIssue]:
        """The issues kept, then one per kind over the limit saying how many more."""
        over = [
            DataIssue(kind, "*", f"{n - self.limit} more {kind.value} issues not listed")
            for kind, n in self.counts.items()
            if self.limit is not None and n > self.limit
        ]
        return self.found + over


def _kinds(vocabulary: Vocabulary) -> tuple[list[str], list[str], list[str]]:
    """Approver kinds, delegate kinds and delegate flags: the documented ones plus any other
    the data holds (so the schema never lacks a name a user's properties use)."""
    approver = {*APPROVER_KINDS, *vocabulary.approver_kinds}
    delegate = {*DELEGATE_KINDS, *vocabulary.delegate_kinds}
    flags = {*DELEGATE_FLAGS, *vocabulary.delegate_flags}
    return sorted(approver), sorted(delegate), sorted(flags)


def _define_properties(app: CustomApplication, vocabulary: Vocabulary) -> None:
    defs = app.property_definitions
    for name, kind in APPLICATION_PROPERTIES.items():
        defs.define_application_property(name, kind)
    user_props = dict(USER_PROPERTIES)
    approver_kinds, delegate_kinds, flags = _kinds(vocabulary)
    for kind in approver_kinds:
        user_props[approvers_property(kind)] = _L
        user_props[primary_approvers_property(kind)] = _L
    for kind in delegate_kinds:
        user_props[delegates_property(kind)] = _L
        for flag in flags:
            user_props[delegate_flag_property(kind, flag)] = _L
    for name in sorted(user_props):
        defs.define_local_user_property(name, user_props[name])
    for name, kind in ROLE_PROPERTIES.items():
        defs.define_local_role_property(name, kind)


def _role_infos(vocabulary: Vocabulary, issues: _Issues) -> list[RoleInfo]:
    infos = {code.upper(): info for code, info in catalogue.CATALOGUE.items()}
    products = {*BASE_ENTITLEMENTS, *(p for p in vocabulary.products if p.strip())}
    for product in sorted(products):
        info = catalogue.entitlement_role(product)
        infos.setdefault(info.code.upper(), info)
    for code in vocabulary.role_codes:
        if code.upper() not in infos:
            infos[code.upper()] = catalogue.role_info(code)
            issues.add(
                DataIssue(
                    IssueKind.UNKNOWN_ROLE_CODE,
                    code,
                    "role code not in the catalogue; mapped to Uncategorized",
                )
            )
    return sorted(infos.values(), key=lambda i: i.code)


def _add_roles(app: CustomApplication, vocabulary: Vocabulary, issues: _Issues) -> dict[str, str]:
    """Adds every role; returns upper-cased code -> role id (Concur's spelling)."""
    ids: dict[str, str] = {}
    for info in _role_infos(vocabulary, issues):
        role = app.add_local_role(_cut(info.name), list(info.permissions), unique_id=info.code)
        role.set_property("product", _cut(info.product))  # a product name is Concur data
        role.set_property("privileged", info.privileged)
        role.set_property("group_aware", info.group_aware)
        role.set_property("category", info.category)
        role.set_property("known", info.known)
        if info.shared is not None:
            role.set_property("shared", info.shared)
        if info.permission_description:
            role.set_property("permission_description", info.permission_description)
        ids[info.code.upper()] = info.code
    return ids


def _add_role_groups(app: CustomApplication, vocabulary: Vocabulary) -> dict[str, CustomResource]:
    """One ``role_group`` resource per group code (keys lower-cased: oaaclient's are)."""
    codes = sorted({g for g in vocabulary.role_groups if g})
    groups: dict[str, CustomResource] = {}
    for code in codes:
        if code.lower() not in groups:
            groups[code.lower()] = app.add_resource(code, ROLE_GROUP, unique_id=code)
    return groups


def map_user(
    user: User,
    spend: SpendProfile | None,
    role_ids: Mapping[str, str],
    *,
    now: datetime | None = None,
) -> MappedUser:
    """``user`` (and its Spend profile) as an OAA local user; ``role_ids`` maps upper-cased
    role codes to the role ids of the application (``_add_roles``); ``now`` places temporary
    delegations (None: none is in force, ``DelegateEdge.state``)."""
    properties, issues = _properties(user, spend, now)
    return MappedUser(
        id=user.id,
        name=user.name,
        email=user.email,
        identities=_identities(user),
        active=user.active,
        created_at=rfc3339(user.created_at),
        properties=properties,
        assignments=_assignments(user, spend, role_ids),
        issues=issues,
    )


def _add_user(app: CustomApplication, user: MappedUser, groups: dict[str, CustomResource]) -> None:
    local = app.add_local_user(user.name, identities=list(user.identities), unique_id=user.id)
    local.email = user.email
    local.is_active = user.active
    local.created_at = user.created_at
    local.user_type = LocalUserType.Human
    # Names come from USER_PROPERTIES and the kinds defined in _define_properties, so they are
    # defined; writing the dict directly skips oaaclient's per-call O(properties) name check.
    local.properties.update(user.properties)
    for role_id, scope in user.assignments:
        if scope:
            local.add_role(role_id, resources=[groups[g] for g in scope])
        else:
            local.add_role(role_id, apply_to_application=True)


def _identities(user: User) -> tuple[str, ...]:
    """All emails lower-cased, plus the login name when it is an email address."""
    found = {e.value.strip().lower() for e in user.emails if e.value and e.value.strip()}
    if user.user_name and "@" in user.user_name:
        found.add(user.user_name.strip().lower())
    return tuple(sorted(found))


def _properties(
    user: User, spend: SpendProfile | None, now: datetime | None
) -> tuple[dict[str, object], tuple[DataIssue, ...]]:
    """The custom properties that have a value, over-long strings cut (each cut an issue)."""
    properties: dict[str, object] = {}
    issues: list[DataIssue] = []
    for name, value in _user_values(user, spend, now).items():
        if value is None or value == []:
            continue
        if _too_long(value):
            detail = f"{name} cut to {MAX_STRING} characters"
            issues.append(DataIssue(IssueKind.TRUNCATED_STRING, user.id, detail))
            value = _truncated(value)
        properties[name] = value
    return properties, tuple(issues)


def _user_values(user: User, spend: SpendProfile | None, now: datetime | None) -> dict[str, object]:
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
        values["bi_manager_id"] = spend.bi_manager_id
        values["processor_report_access"] = spend.processor_report_access
        values.update(_limit_values(spend))
        values.update(_edge_values(spend, now))
    return values


def _edge_values(spend: SpendProfile, now: datetime | None) -> dict[str, list[str]]:
    """Approvers (all, and the primary ones) and the delegations in force at ``now``, with one
    list per ``can*`` flag; an empty id (an unresolved reference) is never published."""
    out: dict[str, set[str]] = {}
    for a in spend.approvers:
        if a.approver_id:
            out.setdefault(approvers_property(a.kind), set()).add(a.approver_id)
            if a.primary:
                out.setdefault(primary_approvers_property(a.kind), set()).add(a.approver_id)
    for d in spend.delegates:
        if d.delegate_id and d.state(now) == "in_force":
            out.setdefault(delegates_property(d.kind), set()).add(d.delegate_id)
            for flag in d.permissions:
                out.setdefault(delegate_flag_property(d.kind, flag), set()).add(d.delegate_id)
    return {name: sorted(ids) for name, ids in out.items()}


def _limit_values(spend: SpendProfile) -> dict[str, list[str]]:
    """ApproverLimit as lists a graph query can use: the approval types per holder, the groups
    and every config as one readable line (``ApprovalLimit.text``)."""
    limits = spend.approval_limits
    if not limits:
        return {}  # most users: nothing to build
    return {
        "authorized_approver_types": _types(limits, "authorizedApprover"),
        "cost_object_approver_types": _types(limits, "costObjectApprover"),
        "approval_limit_groups": sorted({lim.group or GLOBAL_GROUP for lim in limits}),
        "approval_limits": [lim.text() for lim in limits],
    }


def _types(limits: Iterable[ApprovalLimit], holder: str) -> list[str]:
    return sorted(
        {lim.approval_type for lim in limits if lim.holder == holder and lim.approval_type}
    )


def _too_long(value: object) -> bool:
    if type(value) is str:
        return len(value) > MAX_STRING
    return type(value) is list and max(map(len, value)) > MAX_STRING


def _truncated(value: object) -> object:
    if isinstance(value, list):
        return [_cut(v) for v in value]
    return _cut(str(value))


def _cut(text: str) -> str:
    return text[:MAX_STRING]


def _assignments(
    user: User, spend: SpendProfile | None, role_ids: Mapping[str, str]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Product access first, then Spend grants sorted by code and scope. A grant without role
    groups (absent, [] or [""]) is on the application; a scoped one on its role groups, keyed
    lower-case as oaaclient keys resources (concur-api.md §4.3)."""
    products = sorted({p for p in user.entitlements if p.strip()})
    found: list[tuple[str, tuple[str, ...]]] = [
        (catalogue.entitlement_role(p).code, ()) for p in products
    ]
    for grant in sorted(spend.roles if spend else (), key=_grant_key):
        groups = grant.role_groups
        scope = tuple(sorted({g.lower() for g in groups if g})) if any(groups) else ()
        found.append((role_ids[grant.role_code.upper()], scope))
    return tuple(found)
