"""The generated tenant: deterministic, realistic mix, lazy enough for 500,000 users."""

from __future__ import annotations

import re
import tracemalloc
from collections import Counter

import httpx
import pytest

from oaa_concur.simulator import SimulatorConfig, Tenant, running_simulator
from tests.simulator.helpers import ENTERPRISE, ROLE, bearer, search

APPROVER = "urn:ietf:params:scim:schemas:extension:spend:2.0:Approver"
DELEGATE = "urn:ietf:params:scim:schemas:extension:spend:2.0:Delegate"
SPEND_USER = "urn:ietf:params:scim:schemas:extension:spend:2.0:User"


@pytest.fixture(scope="module")
def tenant() -> Tenant:
    return Tenant(3000, seed=5)


def _roles(tenant: Tenant) -> list[tuple[int, list[dict]]]:  # type: ignore[type-arg]
    out = []
    for i in range(tenant.users):
        spend = tenant.spend_user(i)
        if spend is not None:
            out.append((i, spend[ROLE]["roles"]))
    return out


def test_same_seed_same_tenant_other_seed_differs() -> None:
    a, b, c = Tenant(300, seed=5), Tenant(300, seed=5), Tenant(300, seed=6)
    assert [a.identity_user(i) for i in range(300)] == [b.identity_user(i) for i in range(300)]
    assert [a.spend_user_at(p) for p in range(a.spend_total)] == [
        b.spend_user_at(p) for p in range(b.spend_total)
    ]
    assert a.identity_user(10)["id"] != c.identity_user(10)["id"]


def test_status_mix(tenant: Tenant) -> None:
    counts = tenant.counts()
    assert 0.05 < counts["inactive"] / counts["users"] < 0.11
    assert counts["travel_only"] > 0 and counts["orphans"] >= 2
    users = [tenant.identity_user(i) for i in range(tenant.users)]
    terminated_active = [
        u
        for u in users
        if u["active"]
        and u[ENTERPRISE]["terminationDate"]
        and u[ENTERPRISE]["terminationDate"][:10] < "2026-01-01"
    ]
    assert terminated_active
    assert any(not u["emails"] for u in users)
    assert any(re.search(r"[^\x00-\x7f]", u["displayName"]) for u in users)
    shapes = {re.sub(r"\d", "9", u[ENTERPRISE]["startDate"]) for u in users}
    assert shapes == {"9999-99-99T99:99:99.999", "9999-99-99T99:99:99Z", "9999-99-99"}
    assert all(
        tenant.spend_user(i) is None for i, u in enumerate(users) if u["entitlements"] == ["Travel"]
    )


def test_spend_mix_roles_approvers_delegates(tenant: Tenant) -> None:
    roles = _roles(tenant)
    names = Counter(r["roleName"] for _, rs in roles for r in rs)
    for code in ("SHD_ROLE_ADMIN", "EXP_CONFIG_ADMIN", "SHD_EMPLOYEE_ADMIN", "EXP_FUTURE_ROLE"):
        assert names[code] >= 1, code
    holders = {i: {r["roleName"] for r in rs} for i, rs in roles}
    for pair in (
        ("EXP_APPROVER", "EXP_PROCESSOR"),
        ("INV_VENDOR_ADMIN", "INV_APPROVER"),
        ("SHD_EMPLOYEE_ADMIN", "SHD_PAYROLL_ADMIN"),
    ):
        assert any(set(pair) <= held for held in holders.values()), pair
    groups = [r.get("roleGroups") for _, rs in roles for r in rs]
    assert None in groups and [""] in groups and ["R&D-QA-Exp"] in groups
    managed = approved_by_manager = delegates = 0
    for i in range(1, tenant.users):
        spend = tenant.spend_user(i)
        if spend is None:
            continue
        report = spend[APPROVER].get("report", [])
        managed += 1
        manager = tenant.manager_of(i)
        assert manager is not None
        if report and report[0]["approver"].get("value") == tenant.user_id(manager):
            approved_by_manager += 1
        delegates += bool(spend[DELEGATE])
    assert 0.8 < approved_by_manager / managed < 1.0 and delegates > 0
    flags = [tenant.spend_user(i) for i in range(tenant.users)]
    assert any(s and s[SPEND_USER]["nonEmployee"] for s in flags)
    assert any(s and s[SPEND_USER]["testEmployee"] for s in flags)


def test_base_roles_mirror_entitlements(tenant: Tenant) -> None:
    mirror = {"Expense": "EXP_USER", "Request": "REQ_USER", "Invoice": "INV_PMT_USER"}
    for i in range(0, tenant.users, 7):
        spend = tenant.spend_user(i)
        if spend is None:
            continue
        held = {r["roleName"] for r in spend[ROLE]["roles"]}
        ents = tenant.identity_user(i)["entitlements"]
        assert {mirror[e] for e in ents if e in mirror} == held & set(mirror.values())


def test_orphan_spend_records_match_no_identity_user(tenant: Tenant) -> None:
    identity_ids = {tenant.user_id(i) for i in range(tenant.users)}
    spend_ids = [tenant.spend_user_at(p)["id"] for p in range(tenant.spend_total)]
    orphans = [s for s in spend_ids if s not in identity_ids]
    assert len(orphans) == tenant.orphans
    assert all(tenant.spend_user_by_id(o) is not None for o in orphans)


def test_manager_hierarchy_references_real_users(tenant: Tenant) -> None:
    user = tenant.identity_user(100)
    manager = user[ENTERPRISE]["manager"]["value"]
    assert tenant.index_of(manager) == tenant.manager_of(100) == 14
    assert tenant.identity_user(0)[ENTERPRISE]["manager"] is None


def test_half_million_tenant_is_lazy_and_serves_its_last_pages() -> None:
    tracemalloc.start()
    big = Tenant(500_000, seed=2)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 8 * 1024 * 1024  # two small per-index arrays, no user dicts
    assert big.identity_user(499_999)[ENTERPRISE]["employeeNumber"] == "E499999"
    with (
        running_simulator(SimulatorConfig(users=500_000, seed=2)) as sim,
        httpx.Client(timeout=30) as client,
    ):
        headers = bearer(client, sim)
        v4 = client.get(
            f"{sim.api_url}/profile/identity/v4/Users",
            headers=headers,
            params={"startIndex": 499_901, "count": 100},
        ).json()
        last = sim.tenant.spend_total - 50
        spend = client.get(
            f"{sim.api_url}/profile/spend/v4.1/Users",
            headers=headers,
            params={"startIndex": last, "count": 100},
        ).json()
        name = sim.tenant.identity_user(499_000)["userName"]
        one = search(client, sim, headers, filter=f'userName eq "{name}"').json()
    assert v4["itemsPerPage"] == 100 and v4["Resources"][-1]["id"] == sim.tenant.user_id(499_999)
    assert spend["itemsPerPage"] == 51
    assert one["Resources"][0]["id"] == sim.tenant.user_id(499_000)
