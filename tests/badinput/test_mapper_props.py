"""From anything Concur may send to a valid OAA payload, snapshot, findings and report.

Pages of arbitrary records (duplicate and case-variant ids included) are parsed, joined by id
and fed to the OAA builder, the snapshot store, the findings and the three report formats.
"""

from __future__ import annotations

import io
import json
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from oaa_concur import oaa
from oaa_concur.concur.issues import IssueSink
from oaa_concur.concur.parse import parse_spend, parse_user
from oaa_concur.models import Company, DiscoveryResult, IssueKind, SpendProfile, User
from oaa_concur.review.findings import find
from oaa_concur.review.report import report_snapshot
from oaa_concur.review.rules import default_rules
from oaa_concur.review.snapshot import SnapshotStore
from tests.badinput.strategies import ANY_SPEND, ANY_USER, SLOW_PROPS, SPEND_RECORD, USER_RECORD

PROPERTY_NAME = re.compile(r"^[a-z][a-z_]*$")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
MAX_STRING = 4096
NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)
_RULES = default_rules()

# Records that share ids on purpose: exact duplicates and case variants ("u1" / "U1").
_SHARED = st.sampled_from(["u1", "U1", "u2", "\u202eu3", "u\x004"])
USERS = st.lists(
    st.one_of(
        USER_RECORD.map(lambda r: r),
        ANY_USER,
        st.tuples(_SHARED, USER_RECORD).map(lambda t: {**t[1], "id": t[0]}),
    ),
    max_size=6,
)
SPENDS = st.lists(
    st.one_of(ANY_SPEND, st.tuples(_SHARED, SPEND_RECORD).map(lambda t: {**t[1], "id": t[0]})),
    max_size=6,
)


def discovery(users_raw: list[Any], spend_raw: list[Any]) -> DiscoveryResult:
    """Parse and join the way discovery does: first of an exact duplicate id wins."""
    sink = IssueSink()
    users: dict[str, User] = {}
    for i, raw in enumerate(users_raw):
        user = parse_user(raw, f"identity#{i}", sink)
        if user is not None and users.setdefault(user.id, user) is not user:
            sink.add(IssueKind.DUPLICATE_ID, user.id, "Identity returned this id twice")
    spend: dict[str, SpendProfile] = {}
    for i, raw in enumerate(spend_raw):
        profile = parse_spend(raw, f"spend#{i}", sink)
        if profile is not None and profile.user_id in users:
            spend.setdefault(profile.user_id, profile)
    return DiscoveryResult(
        Company("c-1", "https://us.api.concursolutions.com", None),
        list(users.values()),
        spend,
        sink.issues(),
    )


def _walk_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in _walk_strings(v)]
    return []


def _check_properties(props: dict[str, Any], types: dict[str, str]) -> None:
    for name, value in props.items():
        assert PROPERTY_NAME.match(name), name
        assert name in types, f"{name} is not defined"
        if types[name] == "TIMESTAMP":
            assert RFC3339.match(value), (name, value)
        for text in _walk_strings(value):
            assert len(text) <= MAX_STRING, (name, len(text))


def check_payload(payload: dict[str, Any]) -> None:
    """Property names, definitions, RFC 3339 timestamps and the 4096-character limit."""
    [defs] = payload["custom_property_definition"]["applications"]
    for group in ("application_properties", "local_user_properties", "local_role_properties"):
        assert all(PROPERTY_NAME.match(n) for n in defs[group]), group
    [app] = payload["applications"]
    _check_properties(app.get("custom_properties", {}), defs["application_properties"])
    for user in app["local_users"]:
        _check_properties(user.get("custom_properties", {}), defs["local_user_properties"])
        assert user.get("created_at") is None or RFC3339.match(user["created_at"])
    for role in app["local_roles"]:
        _check_properties(role.get("custom_properties", {}), defs["local_role_properties"])
    ids = [u["id"].lower() for u in app["local_users"]]
    assert len(ids) == len(set(ids)), "a user id appears twice in the payload"
    orjson.loads(oaa.payload_json(payload))  # serialisable, valid UTF-8 JSON


@SLOW_PROPS
@given(users_raw=USERS, spend_raw=SPENDS)
def test_any_pages_give_a_valid_payload_and_counted_issues(
    users_raw: list[Any], spend_raw: list[Any]
) -> None:
    result = discovery(users_raw, spend_raw)
    built = oaa.build_application(result)
    check_payload(oaa.payload(built.app))
    assert not set(built.issues) & set(result.issues), "the builder repeated an issue"
    lowered = [u.id.lower() for u in result.users]
    if len(lowered) != len(set(lowered)):
        assert any(i.kind is IssueKind.DUPLICATE_ID for i in built.issues)
    too_long = any(
        len(s) > MAX_STRING
        for u in result.users
        for s in (u.user_name, u.cost_center, u.department, u.external_id)
        if s
    )
    if too_long:
        assert any(i.kind is IssueKind.TRUNCATED_STRING for i in built.issues)


@SLOW_PROPS
@given(users_raw=USERS, spend_raw=SPENDS)
def test_snapshot_round_trip_findings_and_reports_never_crash(
    users_raw: list[Any], spend_raw: list[Any]
) -> None:
    result = discovery(users_raw, spend_raw)
    with tempfile.TemporaryDirectory() as tmp:
        store = SnapshotStore(Path(tmp))
        snap = store.record(result)
        loaded = store.load(snap)
        assert loaded.users == result.users
        assert loaded.spend == result.spend
        assert loaded.issues == result.issues
        find(loaded, _RULES, now=NOW)
        texts = {}
        for fmt in ("html", "csv", "json"):  # streamed from the store, as `report` does
            out = io.StringIO()
            report_snapshot(store, out, fmt, snapshot_id=snap, rules=_RULES, now=NOW)
            texts[fmt] = out.getvalue()
            assert texts[fmt]
            texts[fmt].encode("utf-8")  # no lone surrogate can reach a file
        json.loads(texts["json"])
        book = Path(tmp) / "r.xlsx"
        report_snapshot(store, book, "xlsx", snapshot_id=snap, rules=_RULES, now=NOW)
        assert book.stat().st_size > 0  # openpyxl refused no cell
    html = texts["html"]
    assert html.count("</script>") == html.count("<script")  # no data can close a script tag
