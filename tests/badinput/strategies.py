"""Hypothesis strategies for bad Concur input: any JSON, odd dates, huge and unicode strings."""

from __future__ import annotations

from typing import Any, Literal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from oaa_concur.concur.parse import (
    ENTERPRISE,
    SPEND_APPROVER,
    SPEND_DELEGATE,
    SPEND_ROLE,
    SPEND_USER,
)

# Deterministic in CI (no example database, fixed derandomized search) and modest in size.
PROPS = settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SLOW_PROPS = settings(PROPS, max_examples=60)

# Every printable and unprintable code point except lone surrogates (not valid UTF-8 / JSON),
# with NUL, right-to-left marks, combining characters and emoji made likely.
SPECIAL = st.sampled_from(
    [
        "\x00",
        "\u202e",
        "\u200f",
        "\u0301",
        "\ufeff",
        "\U0001f600",
        "\u0663",
        "\u00b2",
        "\n",
        "\r\n",
        "'",
        '"',
        "<",
        "</script>",
        "=cmd|",
        "\\",
    ]
)
_SURROGATES: tuple[Literal["Cs"]] = ("Cs",)  # lone surrogates cannot come from JSON text
UNICODE = st.text(st.characters(exclude_categories=_SURROGATES), max_size=40)
TEXT = st.one_of(UNICODE, st.lists(st.one_of(UNICODE, SPECIAL), max_size=6).map("".join))
HUGE = st.builds(lambda base, n: (base or "x") * n, TEXT, st.integers(4_097, 12_000)).map(
    lambda s: s[:12_000] if len(s) > 12_000 else s
)

JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), TEXT)
JSON: st.SearchStrategy[Any] = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=12,
)

DATE_SAMPLES = (
    "2021-11-17T00:00:00.000",
    "2016-07-17T21:10:00Z",
    "2021-11-17T22:44:09.000164Z",
    "2012-08-01",
    "2021-11-17T22:44:09+05:30",
    "2021-11-17T22:44:09.123-08:00",
    "2021-11-17 22:44:09",
    "2021-11-17 22:44:09 UTC",
    "/Date(1637189049000)/",
    "/Date(-1000+0100)/",
    "1637189049",
    "1637189049000",
    "20211117",
    "11/17/2021",
    "17.11.2021",
    "17-Nov-2021",
    "Nov 17, 2021",
    "Wed, 17 Nov 2021 22:44:09 GMT",
    "0000-00-00",
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "2021-02-30",
    "not a date",
    "",
    " ",
    "T",
    "--",
    "1e400",
    "-1",
    "99999999999999999999",
)
DATES: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(DATE_SAMPLES),
    st.datetimes(timezones=st.one_of(st.none(), st.timezones())).map(lambda d: d.isoformat()),
    st.dates().map(lambda d: d.isoformat()),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
    JSON,
)
IDS = st.one_of(st.sampled_from(["u1", "u2", "U1", "dup", "ü-1"]), TEXT, JSON)
ANY_TEXT = st.one_of(TEXT, HUGE, JSON)


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(strategy, JSON)


USER_RECORD: st.SearchStrategy[Any] = st.fixed_dictionaries(
    {"id": IDS},
    optional={
        "userName": ANY_TEXT,
        "displayName": ANY_TEXT,
        "externalId": ANY_TEXT,
        "active": _maybe(st.sampled_from([True, False, "true", "FALSE", "yes"])),
        "emails": _maybe(
            st.lists(
                st.fixed_dictionaries(
                    {"value": ANY_TEXT},
                    optional={"type": _maybe(st.sampled_from(["work", "home"]))},
                ),
                max_size=3,
            )
        ),
        "entitlements": _maybe(st.lists(ANY_TEXT, max_size=4)),
        "meta": _maybe(
            st.fixed_dictionaries({}, optional={"created": DATES, "lastModified": DATES})
        ),
        ENTERPRISE: _maybe(
            st.fixed_dictionaries(
                {},
                optional={
                    "employeeNumber": ANY_TEXT,
                    "costCenter": ANY_TEXT,
                    "department": ANY_TEXT,
                    "division": ANY_TEXT,
                    "companyId": ANY_TEXT,
                    "organization": ANY_TEXT,
                    "manager": _maybe(st.fixed_dictionaries({"value": IDS})),
                    "startDate": DATES,
                    "terminationDate": DATES,
                },
            )
        ),
    },
)

_ROLE = st.fixed_dictionaries(
    {
        "roleName": _maybe(
            st.sampled_from(
                ["EXP_APPROVER", "EXP_PROCESSOR", "exp_approver", "NEW_ROLE_X", "", "ADMIN\u202e"]
            )
        )
    },
    optional={
        "roleGroups": _maybe(
            st.lists(_maybe(st.sampled_from(["", "R&D-QA-Exp", "g1"])), max_size=3)
        )
    },
)
_KIND = st.one_of(
    st.sampled_from(
        ["report", "cashAdvance", "expense", "purchaseRequest", "weird-Kind_9", "", "ÄÖ"]
    ),
    TEXT,
)
_APPROVER = st.fixed_dictionaries(
    {"approver": _maybe(st.fixed_dictionaries({"value": IDS}))}, optional={"primary": JSON}
)
_DELEGATE = st.fixed_dictionaries(
    {"delegate": _maybe(st.fixed_dictionaries({"value": IDS}))},
    optional={
        "canApprove": JSON,
        "canSubmit": st.booleans(),
        "temporaryDelegation": _maybe(
            st.fixed_dictionaries(
                {},
                optional={"temporaryDelegationFromDate": DATES, "temporaryDelegationToDate": DATES},
            )
        ),
    },
)

SPEND_RECORD: st.SearchStrategy[Any] = st.fixed_dictionaries(
    {"id": IDS},
    optional={
        SPEND_ROLE: _maybe(
            st.fixed_dictionaries({"roles": _maybe(st.lists(_maybe(_ROLE), max_size=4))})
        ),
        SPEND_APPROVER: _maybe(
            st.dictionaries(_KIND, _maybe(st.lists(_APPROVER, max_size=2)), max_size=3)
        ),
        SPEND_DELEGATE: _maybe(
            st.dictionaries(_KIND, _maybe(st.lists(_DELEGATE, max_size=2)), max_size=3)
        ),
        SPEND_USER: _maybe(
            st.fixed_dictionaries({}, optional={"nonEmployee": JSON, "testEmployee": JSON})
        ),
    },
)
ANY_USER = st.one_of(USER_RECORD, JSON)
ANY_SPEND = st.one_of(SPEND_RECORD, JSON)
