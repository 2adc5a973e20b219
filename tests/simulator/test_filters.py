"""The SCIM filter grammar of Identity v4.1 ``.search`` and the v4 ``filter``, over HTTP.

Each filter is one of api-guides/profile/identity-search.md ("Popular Searches", "Filtering",
"Filtering Examples"), run against a generated tenant; the expected users are computed here
from the records with plain Python, not by the simulator's evaluator.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from oaa_concur.simulator import RunningSimulator, SimulatorConfig, running_simulator
from tests.simulator.helpers import ENTERPRISE, bearer, search

SAP = "urn:ietf:params:scim:schemas:extension:sap:2.0:User"
CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
User = dict[str, Any]


@pytest.fixture(scope="module")
def fsim() -> Iterator[RunningSimulator]:
    with running_simulator(SimulatorConfig(users=1500, seed=11)) as running:
        yield running


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as c:
        yield c


@pytest.fixture(scope="module")
def users(fsim: RunningSimulator) -> list[User]:
    return [fsim.tenant.identity_user(i) for i in range(fsim.tenant.users)]


@pytest.fixture(scope="module")
def headers(http: httpx.Client, fsim: RunningSimulator) -> dict[str, str]:
    return bearer(http, fsim)


def matching(
    http: httpx.Client, sim: RunningSimulator, headers: dict[str, str], text: str
) -> tuple[list[str], int]:
    """Every id the filter returns (following cursors) and the first page's totalResults."""
    ids: list[str] = []
    cursor, total = None, None
    while True:
        extra: dict[str, Any] = {"cursor": cursor} if cursor else {}
        page = search(http, sim, headers, filter=text, count=1000, attributes=["id"], **extra)
        assert page.status_code == 200, page.text
        body = page.json()
        assert body["startIndex"] == len(ids) + 1  # 1-based position of the page's first result
        total = body["totalResults"] if total is None else total
        ids += [u["id"] for u in body["Resources"]]
        cursor = body.get("nextCursor")
        if cursor is None:
            return ids, total


def _emails(u: User) -> list[dict[str, Any]]:
    return list(u["emails"])


def _date(text: str) -> dt.datetime:
    stamp = dt.datetime.fromisoformat(text)
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)


def _cases(users: list[User]) -> list[tuple[str, Callable[[User], bool]]]:
    someone = users[77]
    email = someone["emails"][0]["value"]
    manager = users[100][ENTERPRISE]["manager"]["value"]
    return [
        # "Search for a User by Email Address" (the value in another case still matches)
        (f'emails.value eq "{email.upper()}"', lambda u: u is someone),
        (
            'active eq true and emails.value ew "acme-corp.example"',
            lambda u: (
                u["active"] and any(e["value"].endswith("acme-corp.example") for e in _emails(u))
            ),
        ),
        (
            'active eq true and entitlements eq "invoice"',
            lambda u: u["active"] and "Invoice" in u["entitlements"],
        ),
        ('addresses[type eq "work" and locality eq "Bellevue"]', lambda u: False),
        (
            f"active eq true and {ENTERPRISE}:startDate le 2013-12-31",
            lambda u: u["active"] and _date(u[ENTERPRISE]["startDate"]) <= _date("2013-12-31"),
        ),
        (f"id eq {someone['id']}", lambda u: u is someone),
        (f'id eq "{someone["id"]}"', lambda u: u is someone),
        (
            'name.givenName sw "j" and name.givenName ew "N"',
            lambda u: (
                u["name"]["givenName"].lower().startswith("j")
                and u["name"]["givenName"].lower().endswith("n")
            ),
        ),
        (
            'name[givenName sw "J" and givenName ew "n"]',
            lambda u: (
                u["name"]["givenName"].startswith("J") and u["name"]["givenName"].endswith("n")
            ),
        ),
        (
            'not(name.givenName co "a") and name.givenName pr',
            lambda u: "a" not in u["name"]["givenName"].lower(),
        ),
        (
            'name.givenName ne "James" and not(name.givenName eq "Mary")',
            lambda u: u["name"]["givenName"] not in ("James", "Mary"),
        ),
        # precedence: A or B and C == A or (B and C)
        (
            'name.familyName eq "Smith" or active eq false and name.givenName eq "John"',
            lambda u: (
                u["name"]["familyName"] == "Smith"
                or (not u["active"] and u["name"]["givenName"] == "John")
            ),
        ),
        (
            '(name.familyName eq "Smith" or active eq false) and name.givenName eq "John"',
            lambda u: (
                (u["name"]["familyName"] == "Smith" or not u["active"])
                and u["name"]["givenName"] == "John"
            ),
        ),
        (
            'emails[type eq "work" and value co "@ACME"]',
            lambda u: any(e["type"] == "work" and "@acme" in e["value"] for e in _emails(u)),
        ),
        (
            'emails[type eq "home" or verified eq false]',
            lambda u: any(e["type"] == "home" or not e["verified"] for e in _emails(u)),
        ),
        (
            'emails[type eq "work" and value ew ".example" or type eq "home" and value sw "z"]',
            lambda u: any(
                (e["type"] == "work" and e["value"].endswith(".example"))
                or (e["type"] == "home" and e["value"].startswith("z"))
                for e in _emails(u)
            ),
        ),
        (
            'emails.type eq "home" and emails.type eq "work"',
            lambda u: {"home", "work"} <= {e["type"] for e in _emails(u)},
        ),
        ("emails pr", lambda u: bool(u["emails"])),
        # ne matches users without a value ("results can include null values")
        ('nickName ne "Bob"', lambda u: True),
        ("nickName pr", lambda u: False),
        ("nickName eq null", lambda u: True),
        (
            'meta.lastModified gt "2025-01-01T00:00:00Z" and active eq false',
            lambda u: u["meta"]["lastModified"] > "2025-01-01T00:00:00" and not u["active"],
        ),
        (
            f'{ENTERPRISE}:manager.value eq "{manager}"',
            lambda u: (u[ENTERPRISE]["manager"] or {}).get("value") == manager,
        ),
        (
            f'{ENTERPRISE}:manager[value eq "{manager}"]',
            lambda u: (u[ENTERPRISE]["manager"] or {}).get("value") == manager,
        ),
        (f'{SAP}:userUuid eq "{someone[SAP]["userUuid"]}"', lambda u: u is someone),
        (f'{ENTERPRISE}:employeeNumber eq "e000077"', lambda u: u is someone),
        (f'externalId eq "{users[80]["externalId"]}"', lambda u: u is users[80]),
        (f'userName eq "{someone["userName"]}"', lambda u: u is someone),
        (
            f'{CORE}:userName sw "{someone["userName"][:3]}"',
            lambda u: u["userName"].lower().startswith(someone["userName"][:3].lower()),
        ),
        (
            f'{ENTERPRISE}:department eq "finance" or {ENTERPRISE}:costCenter pr'
            " and active eq false",
            lambda u: (
                u[ENTERPRISE]["department"] == "Finance"
                or (u[ENTERPRISE]["costCenter"] is not None and not u["active"])
            ),
        ),
        (
            f"{ENTERPRISE}:terminationDate lt 2020-01-01",
            lambda u: (
                u[ENTERPRISE]["terminationDate"] is not None
                and _date(u[ENTERPRISE]["terminationDate"]) < _date("2020-01-01")
            ),
        ),
        (
            'ACTIVE EQ FALSE AND NOT (userName co "a")',
            lambda u: not u["active"] and "a" not in u["userName"].lower(),
        ),
    ]


def test_documented_filters_return_exactly_the_matching_users(
    http: httpx.Client, fsim: RunningSimulator, headers: dict[str, str], users: list[User]
) -> None:
    for text, wanted in _cases(users):
        expected = [u["id"] for u in users if wanted(u)]
        got, total = matching(http, fsim, headers, text)
        assert got == expected, text
        assert total == len(expected), text
    assert len(_cases(users)) > 25


@pytest.mark.parametrize(
    "text",
    [
        # "Filters may not contain not and ne within Complex Groupings"
        'emails[not(type eq "work")]',
        'addresses[type ne "work"]',
        # "Filters may not nest or inside parentheses within Complex Groupings"
        'emails[value ew "@sap.com" and (type eq "home" or type eq "work")]',
        # "Duplicate attributes may not be conjoined with and inside of Complex Grouping"
        'emails[value ew "@concur.com" and value ew "@sap.com"]',
        'emails[value sw "C" and value ew "S"]',
        # complex groups of multi-valued attributes: eq / sw / ew / co / pr only
        'emails[value gt "a"]',
        # not in "Allowed Attributes" (extension attributes need their URN)
        'displayName co "x"',
        'employeeNumber eq "E000001"',
        'title eq "VP"',
        # types: booleans take true/false; dates no co; strings need quotes (UUIDs excepted)
        'active eq "true"',
        "active gt true",
        'meta.lastModified co "2024"',
        "userName eq bob",
        'meta.lastModified gt "yesterday"',
        # syntax
        "userName eq",
        "(active eq true",
        "active eq true)",
        'emails[type eq "work"',
        "active eq true and",
        'userName xx "a"',
        'userName eq "unterminated',
    ],
)
def test_anything_else_is_400_invalid_filter(
    http: httpx.Client, fsim: RunningSimulator, headers: dict[str, str], text: str
) -> None:
    answer = search(http, fsim, headers, filter=text)
    body = answer.json()
    assert answer.status_code == 400 and body["scimType"] == "invalidFilter", text
    assert SCIM_ERROR in body["schemas"] and body["status"] == "400"


def test_filtered_cursor_pages_and_start_index(
    http: httpx.Client, fsim: RunningSimulator, headers: dict[str, str], users: list[User]
) -> None:
    expected = [u["id"] for u in users if u["active"]]
    first = search(http, fsim, headers, filter="active eq true", count=100).json()
    second = search(http, fsim, headers, count=100, cursor=first["nextCursor"]).json()
    assert first["startIndex"] == 1 and second["startIndex"] == 101
    assert first["totalResults"] == second["totalResults"] == len(expected)
    assert [u["id"] for u in first["Resources"] + second["Resources"]] == expected[:200]


def test_v4_filter_on_the_three_documented_attributes(
    http: httpx.Client, fsim: RunningSimulator, headers: dict[str, str], users: list[User]
) -> None:
    """v4.identity.md "Retrieve Users": filter on userName, employeeNumber and externalId."""
    url = f"{fsim.api_url}/profile/identity/v4/Users"
    someone = users[80]
    for text in (
        f'userName eq "{someone["userName"].upper()}"',
        'employeeNumber eq "E000080"',
        f'externalId eq "{someone["externalId"]}"',
    ):
        body = http.get(url, params={"filter": text}, headers=headers).json()
        assert body["totalResults"] == 1 and body["startIndex"] == 1, text
        assert [u["id"] for u in body["Resources"]] == [someone["id"]], text
    nobody = http.get(url, params={"filter": 'userName eq "nobody"'}, headers=headers).json()
    assert nobody["totalResults"] == 0 and nobody["Resources"] == []
    for text in ("active eq true", 'userName sw "a"', 'userName eq "a" and active eq true'):
        answer = http.get(url, params={"filter": text}, headers=headers)
        assert answer.status_code == 400 and answer.json()["scimType"] == "invalidFilter", text
