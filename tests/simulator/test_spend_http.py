"""Spend User v4.1 over HTTP: ``count`` and ``startIndex`` as documented ("100 >= count >= 1",
"startIndex >= 1"), ``attributes`` and the ApproverLimit extension ("Approver Limit
Extension": ``?attributes=urn:...:ApproverLimit``), per v4.1.spend-user-retrieval.md."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from oaa_concur.simulator import RunningSimulator, SimulatorConfig, running_simulator
from tests.simulator.helpers import bearer

LIMIT = "urn:ietf:params:scim:schemas:extension:spend:2.0:ApproverLimit"
ROLE = "urn:ietf:params:scim:schemas:extension:spend:2.0:Role"
SPEND_USER = "urn:ietf:params:scim:schemas:extension:spend:2.0:User"


@pytest.fixture(scope="module")
def spend_sim() -> Iterator[RunningSimulator]:
    with running_simulator(SimulatorConfig(users=60, seed=11)) as running:
        yield running


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c


def _list(http: httpx.Client, sim: RunningSimulator, **params: str | int) -> httpx.Response:
    return http.get(
        f"{sim.api_url}/profile/spend/v4.1/Users", params=params, headers=bearer(http, sim)
    )


@pytest.mark.parametrize(
    "params",
    [{"count": 0}, {"count": 101}, {"count": "ten"}, {"startIndex": 0}, {"startIndex": "x"}],
)
def test_count_and_start_index_outside_the_documented_range_are_400(
    http: httpx.Client, spend_sim: RunningSimulator, params: dict[str, str | int]
) -> None:
    answer = _list(http, spend_sim, **params)
    body = answer.json()
    assert answer.status_code == 400 and body["status"] == 400  # Spend: status is an integer
    assert body["scimType"] == "invalidValue" and next(iter(params)) in body["detail"]


def test_count_bounds_are_served(http: httpx.Client, spend_sim: RunningSimulator) -> None:
    one = _list(http, spend_sim, count=1).json()
    full = _list(http, spend_sim, count=100).json()
    assert one["itemsPerPage"] == 1 and one["startIndex"] == 1
    assert full["itemsPerPage"] == min(100, spend_sim.tenant.spend_total)
    assert full["totalResults"] == spend_sim.tenant.spend_total
    beyond = _list(http, spend_sim, startIndex=spend_sim.tenant.spend_total + 1).json()
    assert beyond["Resources"] == [] and beyond["startIndex"] == spend_sim.tenant.spend_total + 1


def test_approver_limits_in_full_only_when_the_extension_is_asked_for(
    http: httpx.Client, spend_sim: RunningSimulator
) -> None:
    tenant, headers = spend_sim.tenant, bearer(http, spend_sim)
    holder = next(i for i in range(tenant.users) if _group_limits(tenant.spend_user(i, True)))
    url = f"{spend_sim.api_url}/profile/spend/v4.1/Users/{tenant.user_id(holder)}"
    plain = http.get(url, headers=headers).json()
    asked = http.get(url, headers=headers, params={"attributes": LIMIT}).json()
    full = tenant.spend_user(holder, all_limits=True)
    assert plain == tenant.spend_user(holder) and full is not None
    assert asked == {"schemas": full["schemas"], "id": plain["id"], LIMIT: full[LIMIT]}
    assert _group_limits(asked) and not _group_limits(plain)
    assert plain[LIMIT], "the global-group limits come by default"


def _group_limits(record: dict[str, Any] | None) -> list[str]:
    """The non-global approval groups of ``record``'s limits."""
    limits = (record or {}).get(LIMIT, {})
    return [c["approvalGroup"] for cs in limits.values() for c in cs if c["approvalGroup"]]


def test_attributes_select_extensions_and_sub_attributes(
    http: httpx.Client, spend_sim: RunningSimulator
) -> None:
    wanted = f"{ROLE},{SPEND_USER}:country,{LIMIT}"
    page = _list(http, spend_sim, count=30, attributes=wanted).json()
    full = _list(http, spend_sim, count=30).json()
    for got, record in zip(page["Resources"], full["Resources"], strict=True):
        assert set(got) == {"schemas", "id", ROLE, SPEND_USER, LIMIT}
        assert got[ROLE] == record[ROLE] and got[SPEND_USER] == {
            "country": record[SPEND_USER]["country"]
        }
    assert any(r[LIMIT] for r in page["Resources"]) and any(not r[LIMIT] for r in page["Resources"])
    bad = _list(http, spend_sim, attributes="urn:nope:Thing")
    assert bad.status_code == 400 and bad.json()["scimType"] == "invalidValue"


def test_filter_is_refused_not_ignored(http: httpx.Client, spend_sim: RunningSimulator) -> None:
    answer = _list(http, spend_sim, filter=f'{SPEND_USER}:country eq "US"')
    assert answer.status_code == 400 and answer.json()["scimType"] == "invalidFilter"
