"""Issue 13's partitioned Identity reads: ``id sw "0"`` ... ``id sw "f"`` (and two-character
prefixes) as disjoint cursors that add up, cheap per page; and the faults a client's fallback
must survive: refused filters, ids the partitions miss, users added during the run.

``id`` is filterable and ``sw`` an operator (identity-search.md, "Allowed Attributes",
"Attribute Operators"); ids compare case-insensitively (``caseExact: false``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from oaa_concur.simulator import RunningSimulator, SimulatorConfig, Tenant, running_simulator
from oaa_concur.simulator import search as plans
from oaa_concur.simulator.prefix_index import PrefixIndex
from tests.simulator.helpers import bearer, search

HEX = "0123456789abcdef"


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as c:
        yield c


def partition(
    http: httpx.Client, sim: RunningSimulator, headers: dict[str, str], text: str, count: int
) -> tuple[list[str], int]:
    """Every id of one filtered cursor chain, and the totalResults it announced."""
    ids: list[str] = []
    cursor, totals = None, set()
    while True:
        extra: dict[str, Any] = {"cursor": cursor} if cursor else {}
        body = search(http, sim, headers, filter=text, count=count, attributes=["id"], **extra)
        assert body.status_code == 200, body.text
        page = body.json()
        totals.add(page["totalResults"])
        ids += [u["id"] for u in page["Resources"]]
        cursor = page.get("nextCursor")
        if cursor is None:
            assert len(totals) == 1
            return ids, totals.pop()


def test_sixteen_partitions_are_disjoint_and_add_up(http: httpx.Client) -> None:
    with running_simulator(SimulatorConfig(users=5000, seed=3)) as sim:
        headers = bearer(http, sim)
        everyone = search(http, sim, headers, count=1).json()["totalResults"]
        parts = {c: partition(http, sim, headers, f'id sw "{c}"', 1000) for c in HEX}
        upper = partition(http, sim, headers, 'id sw "A"', 1000)  # caseExact: false
        nested = [partition(http, sim, headers, f'id sw "a{c}"', 100) for c in HEX]
    ids = [i for got, _ in parts.values() for i in got]
    assert len(ids) == len(set(ids)) == everyone == sum(t for _, t in parts.values()) == 5000
    assert set(ids) == {sim.tenant.user_id(i) for i in range(5000)}
    for c, (got, total) in parts.items():
        assert all(i.startswith(c) for i in got) and len(got) == total
        order = [sim.tenant.index_of(i) or 0 for i in got]
        assert order == sorted(order)  # creation order, like the unfiltered list
    assert upper == parts["a"]
    assert sorted(i for got, _ in nested for i in got) == sorted(parts["a"][0])


def test_a_partition_page_costs_its_page_not_the_tenant() -> None:
    """The plan of ``id sw "p"`` is the prefix bucket (exact for one or two characters, no
    predicate to run); longer prefixes test only their two-character bucket."""
    tenant = Tenant(200_000, seed=4)
    index = PrefixIndex(tenant)
    calls = {"user_id": 0}
    real = tenant.user_id

    def counted(i: int) -> str:
        calls["user_id"] += 1
        return real(i)

    tenant.user_id = counted  # type: ignore[method-assign, assignment]
    one = plans.plan('id sw "7"', tenant, lambda: index)
    assert one.predicate is None and one.candidates is index.one["7"]
    hits, following = plans.page(one, tenant, 150_000, 1000)
    assert calls["user_id"] == 0 and len(hits) == 1000 and following is not None
    assert hits[0] >= 150_000 and hits == sorted(hits)
    assert plans.total(one, tenant, {}) == len(index.one["7"])
    deep = plans.plan('id sw "7f3"', tenant, lambda: index)
    assert deep.candidates is index.two["7f"] and deep.predicate is not None
    got = list(plans.matches(deep, tenant, 0))
    assert calls["user_id"] == len(index.two["7f"]) < tenant.users / 200
    assert got == [i for i in index.two["7f"] if real(i).startswith("7f3")]
    mixed = plans.plan('id sw "7" and active eq true', tenant, lambda: index)
    assert mixed.candidates is index.one["7"]
    assert sum(len(index.one[c]) for c in HEX) == tenant.users


def _stray_sim(style: str) -> SimulatorConfig:
    return SimulatorConfig(users=3000, seed=8, stray_ids=5, stray_id_style=style)


@pytest.mark.parametrize("style", ["alphabet", "case"])
def test_stray_ids_make_the_partitions_fall_short(http: httpx.Client, style: str) -> None:
    with running_simulator(_stray_sim(style)) as sim:
        headers = bearer(http, sim)
        everyone = [u["id"] for u in _chain(http, sim, headers)]
        parts = [partition(http, sim, headers, f'id sw "{c}"', 1000) for c in HEX]
        stray = [sim.tenant.user_id(i) for i in sorted(sim.tenant.stray)]
        found = [search(http, sim, headers, filter=f'id eq "{s}"').json() for s in stray]
        lower = search(http, sim, headers, filter=f'id eq "{stray[0].lower()}"').json()
        one = http.get(f"{sim.api_url}/profile/identity/v4.1/Users/{stray[0]}", headers=headers)
        spend = http.get(f"{sim.api_url}/profile/spend/v4.1/Users/{stray[0]}", headers=headers)
    seen = [i for got, _ in parts for i in got]
    assert len(everyone) == 3000 and len(stray) == 5
    assert sum(t for _, t in parts) == len(seen) == 3000 - 5
    assert set(everyone) - set(seen) == set(stray)
    pattern = r"[g-v][0-9a-f-]{35}" if style == "alphabet" else r"[A-F][0-9A-F-]{35}"
    assert all(re.fullmatch(pattern, s) for s in stray)
    assert all(f["totalResults"] == 1 for f in found)
    assert lower["totalResults"] == (0 if style == "case" else 1)  # case: compared exactly
    assert one.json()["id"] == stray[0] and spend.json()["id"] == stray[0]


def _chain(
    http: httpx.Client, sim: RunningSimulator, headers: dict[str, str]
) -> list[dict[str, Any]]:
    users: list[dict[str, Any]] = []
    cursor = None
    while True:
        extra: dict[str, Any] = {"cursor": cursor} if cursor else {}
        page = search(http, sim, headers, count=1000, attributes=["id"], **extra).json()
        users += page["Resources"]
        cursor = page.get("nextCursor")
        if cursor is None:
            return users


def test_refuse_filters_answers_every_filtered_search_400(http: httpx.Client) -> None:
    with running_simulator(SimulatorConfig(users=30, refuse_filters=True)) as sim:
        headers = bearer(http, sim)
        refused = [search(http, sim, headers, filter=f) for f in ('id sw "a"', "active eq true")]
        plain = search(http, sim, headers, count=5)
        listed = http.get(f"{sim.api_url}/profile/identity/v4.1/Users", headers=headers)
    for answer in refused:
        assert answer.status_code == 400 and answer.json()["scimType"] == "invalidFilter"
    assert plain.status_code == listed.status_code == 200
    assert sim.state.faults["refused_filter"] == 2


def test_users_added_during_the_run(http: httpx.Client) -> None:
    config = SimulatorConfig(users=400, seed=2, grow_after_requests=2, grow_users=37)
    with running_simulator(config) as sim:
        headers = bearer(http, sim)
        before = search(http, sim, headers, count=1).json()["totalResults"]
        spend_before = _spend_total(http, sim, headers)
        after = search(http, sim, headers, count=1).json()["totalResults"]
        everyone = [u["id"] for u in _chain(http, sim, headers)]
        parts = [partition(http, sim, headers, f'id sw "{c}"', 1000) for c in HEX]
        spend_after = _spend_total(http, sim, headers)
    assert (before, after) == (400, 437) and sim.state.faults["grown"] == 37
    assert everyone[-37:] == [sim.tenant.user_id(i) for i in range(400, 437)]
    assert sum(t for _, t in parts) == 437
    assert spend_after - spend_before == sum(sim.tenant.has_spend(i) for i in range(400, 437))


def _spend_total(http: httpx.Client, sim: RunningSimulator, headers: dict[str, str]) -> int:
    url = f"{sim.api_url}/profile/spend/v4.1/Users"
    total: int = http.get(url, params={"count": 1}, headers=headers).json()["totalResults"]
    return total


def test_totals_are_remembered_for_a_bounded_number_of_filters() -> None:
    """A client looking users up one filter at a time must not grow the server."""
    tenant = Tenant(300, seed=4)
    index = PrefixIndex(tenant)
    cache: dict[tuple[str, int], int] = {}
    for k in range(plans.CACHED_TOTALS + 40):
        scan = plans.plan(f'active eq true and externalId ne "EXT-{k:07d}"', tenant, lambda: index)
        lookup = plans.plan(f'userName eq "nobody{k}"', tenant, lambda: index)
        assert plans.total(lookup, tenant, cache) == 0
        expected = sum(tenant.is_active(i) and (i % 3 == 0 or i != k) for i in range(300))
        assert plans.total(scan, tenant, cache) == expected
    assert len(cache) == plans.CACHED_TOTALS
