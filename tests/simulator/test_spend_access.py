"""The Spend access data the simulator serves, checked against the documented shapes of
api-reference/user-provisioning/spend/v4.1.spend-user-retrieval.md (sections "Approver
Extension", "Spend Approver", "Approver Limit Extension", "Spend Approver Limit Config",
"Delegate Extension", "Spend Delegate", "Temporary Delegate", "User Preference Extension",
"User Reference", "Spend User").

The documented names are written out here, not imported from the simulator, so that a typo
on either side shows.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from oaa_concur.simulator import Tenant

APPROVER = "urn:ietf:params:scim:schemas:extension:spend:2.0:Approver"
LIMIT = "urn:ietf:params:scim:schemas:extension:spend:2.0:ApproverLimit"
DELEGATE = "urn:ietf:params:scim:schemas:extension:spend:2.0:Delegate"
SPEND_USER = "urn:ietf:params:scim:schemas:extension:spend:2.0:User"
USER_PREF = "urn:ietf:params:scim:schemas:extension:spend:2.0:UserPreference"
ROLE = "urn:ietf:params:scim:schemas:extension:spend:2.0:Role"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
# "Approver Extension" table
APPROVER_KINDS = {
    "report",
    "cashAdvance",
    "request",
    "invoice",
    "purchaseRequest",
    "statement",
    "budget",
}
# "Delegate Extension" and "Spend Delegate" tables
DELEGATE_KINDS = {"expense", "payment", "purchaseRequest"}
FLAGS = {
    "canApprove",
    "canPrepare",
    "canPrepareForApproval",
    "canReceiveApprovalEmail",
    "canReceiveEmail",
    "canSubmit",
    "canSubmitTravelRequest",
    "canUseBi",
    "canViewReceipt",
}
# "Spend Approver Limit Config": approvalType -> the role it needs
LIMIT_ROLES = {
    "report": "EXP_APPROVER",
    "request": "REQ_APPROVER",
    "purchaseRequest": "INV_PURCH_REQ_APPROVER",
    "payment": "INV_APPROVER",
}
LIMIT_FIELDS = {
    "approvalType",
    "exceptionApprovalAuthority",
    "approvalLimit",
    "reimbursementCurrency",
    "approvalGroup",
    "level",
}
PROCESSOR_ROLES = {"EXP_PROCESSOR", "EXP_PROCESSOR_AUDIT", "EXP_PROCESSOR_ADMIN"}
# "Temporary Delegate": "Valid ISO 8601 Date and time ... Example: 2020-09-20T22:35:36.532Z"
ISO_MILLIS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def _records(tenant: Tenant, all_limits: bool = False) -> Iterator[tuple[int, dict[str, Any]]]:
    for index in range(tenant.users):
        record = tenant.spend_user(index, all_limits)
        if record is not None:
            yield index, record


def _references(record: dict[str, Any]) -> Iterator[tuple[str, dict[str, str]]]:
    """(where, UserReference) of every approver, delegate and the biManager."""
    for kind, entries in record[APPROVER].items():
        for entry in entries:
            yield f"approver:{kind}", entry["approver"]
    for kind, entries in record[DELEGATE].items():
        for entry in entries:
            yield f"delegate:{kind}", entry["delegate"]
    if record[SPEND_USER]["biManager"] is not None:
        yield "biManager", record[SPEND_USER]["biManager"]


@pytest.fixture(scope="module")
def small() -> Tenant:
    """25 users: the edge cases pinned to small indices must all be there."""
    return Tenant(25, seed=11)


@pytest.fixture(scope="module")
def big() -> Tenant:
    return Tenant(3000, seed=5)


def _delegations(tenant: Tenant) -> list[tuple[str, dict[str, Any]]]:
    return [
        (kind, entry)
        for _, record in _records(tenant)
        for kind, entries in record[DELEGATE].items()
        for entry in entries
    ]


def test_every_documented_approver_and_delegate_kind_and_flag(small: Tenant) -> None:
    approver_kinds = {k for _, r in _records(small) for k in r[APPROVER]}
    assert approver_kinds == APPROVER_KINDS
    delegations = _delegations(small)
    assert {kind for kind, _ in delegations} == DELEGATE_KINDS
    for kind, entry in delegations:
        assert set(entry) - {"delegate", "temporaryDelegation"} == FLAGS, kind
    for flag in FLAGS:
        assert {entry[flag] for _, entry in delegations} == {True, False}, flag
    assert any(all(e[f] for f in FLAGS) for _, e in delegations)
    assert any(not any(e[f] for f in FLAGS) for _, e in delegations)


def test_temporary_delegations_past_current_and_future(small: Tenant) -> None:
    windows = [
        e["temporaryDelegation"] for _, e in _delegations(small) if "temporaryDelegation" in e
    ]
    assert windows
    for window in windows:
        assert set(window) == {"temporaryDelegationFromDate", "temporaryDelegationToDate"}
        assert all(ISO_MILLIS.fullmatch(v) for v in window.values())
        assert window["temporaryDelegationFromDate"] < window["temporaryDelegationToDate"]
    # Fixed dates, so the tenant is the same on every day until 2080.
    starts_ends = [
        (w["temporaryDelegationFromDate"], w["temporaryDelegationToDate"]) for w in windows
    ]
    assert any(end < "2025" for _, end in starts_ends)  # over
    assert any(start < "2025-06" and end > "2080" for start, end in starts_ends)  # in force
    assert any(start >= "2080" for start, _ in starts_ends)  # not yet


def test_non_primary_approvers_only_where_documented(small: Tenant, big: Tenant) -> None:
    """ "Only Report and Request support non-primary approver"."""
    for tenant in (small, big):
        secondary = Counter(
            kind
            for _, record in _records(tenant)
            for kind, entries in record[APPROVER].items()
            for entry in entries
            if entry["primary"] is False
        )
        assert set(secondary) == {"report", "request"}, secondary
    for _, record in _records(small):
        for entries in record[APPROVER].values():
            assert all(set(e) == {"approver", "primary"} for e in entries)
            assert sum(e["primary"] for e in entries) <= 1


def test_references_by_employee_number_only_and_to_nobody(small: Tenant) -> None:
    """A UserReference has ``value`` and/or ``employeeNumber``; some point at nobody."""
    ids = {small.user_id(i) for i in range(small.users)}
    numbers = {small.identity_user(i)[ENTERPRISE]["employeeNumber"] for i in range(small.users)}
    by_number: set[str] = set()
    dangling_ids: set[str] = set()
    dangling_numbers: set[str] = set()
    for _, record in _records(small):
        for where, ref in _references(record):
            assert ref and set(ref) <= {"value", "employeeNumber"}, ref
            if "value" not in ref:
                (by_number if ref["employeeNumber"] in numbers else dangling_numbers).add(where)
            elif ref["value"] not in ids:
                dangling_ids.add(where)
    assert {w.split(":")[0] for w in by_number} >= {"approver", "delegate", "biManager"}
    assert {w.split(":")[0] for w in dangling_ids} >= {"approver", "delegate", "biManager"}
    assert {w.split(":")[0] for w in dangling_numbers} >= {"approver", "delegate"}


def test_bi_manager_variants(small: Tenant) -> None:
    """biManager (a UserReference to the reporting manager): mostly the manager, sometimes
    another user, by number only, nobody, or null."""
    seen: Counter[str] = Counter()
    for index, record in _records(small):
        manager = small.manager_of(index)
        bi = record[SPEND_USER]["biManager"]
        if manager is None or bi is None:
            seen["null" if manager is not None else "ceo"] += 1
            continue
        if bi.get("value") == small.user_id(manager):
            seen["manager"] += 1
        elif "value" not in bi:
            seen["number"] += 1
        else:
            seen["other"] += 1
    assert {"manager", "number", "other", "null"} <= set(seen), seen
    assert seen["manager"] > sum(seen.values()) / 2


def test_approver_limits_global_by_default_all_when_asked(small: Tenant) -> None:
    """ "By default, GET Users or GET single user only returns the config in Global group";
    the rest when the extension is asked for (the simulator's global group is "")."""
    default = {i: r[LIMIT] for i, r in _records(small) if LIMIT in r}
    full = {i: r[LIMIT] for i, r in _records(small, all_limits=True) if LIMIT in r}
    assert default and set(default) <= set(full)
    holders = {"authorizedApprover", "costObjectApprover"}
    configs = [(i, h, c) for i, ext in full.items() for h, cs in ext.items() for c in cs]
    assert {h for _, h, _ in configs} == holders
    for index, _, config in configs:
        assert set(config) == LIMIT_FIELDS
        assert isinstance(config["approvalLimit"], float) and config["level"] >= 1
        held = {r["roleName"] for r in small.spend_user(index)[ROLE]["roles"]}  # type: ignore[index]
        assert LIMIT_ROLES[config["approvalType"]] in held
    assert any(c["approvalGroup"] for _, _, c in configs)
    for ext in default.values():
        assert all(c["approvalGroup"] == "" for cs in ext.values() for c in cs)
    record = small.spend_user(next(iter(default)))
    assert record is not None and LIMIT in record["schemas"]


def test_processor_report_access_only_for_processors(small: Tenant, big: Tenant) -> None:
    """COMPLETE / RESTRICTED, for the processor roles; null is "not returned"."""
    values: Counter[str] = Counter()
    for tenant in (small, big):
        for _, record in _records(tenant):
            value = record[USER_PREF].get("processorReportAccess")
            held = {r["roleName"] for r in record[ROLE]["roles"]}
            if value is not None:
                assert value in ("COMPLETE", "RESTRICTED") and held & PROCESSOR_ROLES
                values[value] += 1
    assert set(values) == {"COMPLETE", "RESTRICTED"}


def test_each_trait_is_a_few_percent_of_users(big: Tenant) -> None:
    records = [r for _, r in _records(big)]
    ids = {big.user_id(i) for i in range(big.users)}

    def share(test: Any) -> float:
        return sum(1 for r in records if test(r)) / len(records)

    def window(r: dict[str, Any]) -> bool:
        return any("temporaryDelegation" in e for es in r[DELEGATE].values() for e in es)

    def dangling(r: dict[str, Any]) -> bool:
        return any("value" in ref and ref["value"] not in ids for _, ref in _references(r))

    rates = {
        "temporary": share(window),
        "extra kinds": share(lambda r: set(r[APPROVER]) - {"report", "request", "invoice"}),
        "non-primary": share(
            lambda r: any(not e["primary"] for es in r[APPROVER].values() for e in es)
        ),
        "by number": share(lambda r: any("value" not in ref for _, ref in _references(r))),
        "dangling": share(dangling),
        "limits": share(lambda r: LIMIT in r),
        "processor access": share(lambda r: "processorReportAccess" in r[USER_PREF]),
    }
    assert all(0.003 < rate < 0.1 for rate in rates.values()), rates


def test_deterministic_per_seed_and_older_traits_unchanged() -> None:
    """Same seed, same records; the Identity records and Spend roles of every user are those
    the simulator served before the access traits were added (pinned digests)."""
    a, b, c = Tenant(300, seed=5), Tenant(300, seed=5), Tenant(300, seed=6)
    assert list(_records(a, True)) == list(_records(b, True)) != list(_records(c, True))
    identity = orjson.dumps([a.identity_user(i) for i in range(a.users)])
    roles = orjson.dumps([(a.spend_user(i) or {}).get(ROLE) for i in range(a.users)])
    order = orjson.dumps([a.spend_user_at(p)["id"] for p in range(a.spend_total)])
    assert hashlib.sha256(identity).hexdigest().startswith("b24481ab6664892b")
    assert hashlib.sha256(roles).hexdigest().startswith("ff3a4d213499da53")
    assert hashlib.sha256(order).hexdigest().startswith("3e416e27adf18ba6")
