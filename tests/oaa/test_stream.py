"""The streamed payload equals oaaclient's: ``CustomApplication.get_payload()`` is the oracle.

For seeded simulator tenants (discovered by the real client, in process) and for generated
ones (any record Concur may send: every property kind, unicode, 4,097+ character strings,
case-duplicate ids, scoped and ``[""]`` grants, odd kinds and products), the payload built
with oaaclient and the file written user by user are compared as parsed JSON, lists in order.
"""

from __future__ import annotations

import json
import stat
import tempfile
from datetime import UTC
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from oaa_concur import oaa
from oaa_concur.concur.discovery import run_discovery
from oaa_concur.models import (
    ApproverEdge,
    Company,
    DelegateEdge,
    DiscoveryResult,
    Email,
    RoleGrant,
    SpendProfile,
    User,
)
from oaa_concur.oaa.build import application_parts
from oaa_concur.oaa.stream import save_streamed, write_payload
from oaa_concur.simulator import SimulatorConfig
from tests.badinput.strategies import SLOW_PROPS
from tests.badinput.test_mapper_props import SPENDS, USERS, discovery
from tests.fakes.clock import FakeTime
from tests.fakes.concur import client_for, in_process


def oracle(result: DiscoveryResult) -> Any:
    """What oaaclient would send: ``get_payload()`` through ``json.dumps`` (push_metadata's)."""
    built = oaa.build_application(result)
    return json.loads(json.dumps(built.app.get_payload()))


def streamed(result: DiscoveryResult, directory: Path) -> tuple[Any, list[Any]]:
    written, issues = save_streamed(result, directory / "payload.json")
    return orjson.loads(written.path.read_bytes()), issues


def _same(result: DiscoveryResult, directory: Path) -> None:
    expected = oracle(result)
    got, issues = streamed(result, directory)
    assert got == expected
    assert list(got) == list(expected)  # oaaclient's key order, top level and application
    assert list(got["applications"][0]) == list(expected["applications"][0])
    assert issues == list(oaa.build_application(result).issues)


@pytest.mark.parametrize(("users", "seed"), [(60, 1), (250, 7), (400, 11)])
def test_seeded_simulator_tenants(tmp_path: Path, users: int, seed: int) -> None:
    concur = in_process(SimulatorConfig(users=users, seed=seed))
    settings, secrets = client_for(concur.sim, tmp_path / "state")
    result = run_discovery(settings, secrets, runtime=FakeTime().runtime(concur.transport))
    assert len(result.users) == users
    _same(result, tmp_path)


@given(USERS, SPENDS)
@SLOW_PROPS
def test_any_concur_records(users_raw: list[Any], spend_raw: list[Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _same(discovery(users_raw, spend_raw), Path(tmp))


_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
_LONG = st.builds(lambda c, n: c * n, st.sampled_from("xé😀"), st.integers(4_090, 4_110))
_ODD = st.one_of(_TEXT, _LONG, st.sampled_from(["", " ", "Expense", "Travel Plus", "exp ense"]))
_IDS = st.sampled_from(["u1", "U1", "u2", "ü-3", "u 4", "5"])
_GROUPS = st.lists(st.sampled_from(["", "R&D-QA-Exp", "r&d-qa-exp", "G1", "g2"]), max_size=3)
_CODES = st.sampled_from(["EXP_APPROVER", "exp_approver", "EXP_USER", "NEW_ROLE", "INV_ADMIN"])


@st.composite
def _profiles(draw: st.DrawFn, uid: str, ids: list[str]) -> SpendProfile:
    others = st.sampled_from(ids)
    kinds = st.sampled_from(["report", "cashAdvance", "budget", "weird-Kind", "expense"])
    return SpendProfile(
        uid,
        roles=tuple(draw(st.lists(st.builds(RoleGrant, _CODES, _GROUPS.map(tuple)), max_size=4))),
        approvers=tuple(
            ApproverEdge(uid, draw(others), draw(kinds), draw(st.booleans()))
            for _ in range(draw(st.integers(0, 3)))
        ),
        delegates=tuple(
            DelegateEdge(uid, draw(others), draw(kinds), tuple(draw(st.sets(_FLAGS))))
            for _ in range(draw(st.integers(0, 2)))
        ),
        non_employee=draw(st.one_of(st.none(), st.booleans())),
        test_employee=draw(st.one_of(st.none(), st.booleans())),
    )


_FLAGS = st.sampled_from(["canApprove", "canSubmit", "canPrepare", "canViewReceipts"])


@st.composite
def typed_tenants(draw: st.DrawFn) -> DiscoveryResult:
    """Typed records directly: every field of ``User`` and ``SpendProfile`` set or not."""
    ids = draw(st.lists(_IDS, min_size=1, max_size=6, unique=True))
    maybe = st.one_of(st.none(), _ODD)
    when = st.one_of(st.none(), st.datetimes(timezones=st.just(UTC)))
    users = [
        User(
            id=uid,
            user_name=draw(st.one_of(maybe, st.just(f"{uid}@Acme.example"))),
            display_name=draw(maybe),
            active=draw(st.booleans()),
            emails=tuple(draw(st.lists(st.builds(Email, _ODD, st.sampled_from([None, "work"]))))),
            external_id=draw(maybe),
            employee_number=draw(maybe),
            cost_center=draw(maybe),
            department=draw(maybe),
            division=draw(maybe),
            company_id=draw(maybe),
            manager_id=draw(st.one_of(st.none(), st.sampled_from(ids))),
            start_date=draw(when),
            termination_date=draw(when),
            created_at=draw(when),
            last_modified_at=draw(when),
            entitlements=tuple(draw(st.lists(_ODD, max_size=4))),
        )
        for uid in ids
    ]
    spend = {u.id: draw(_profiles(u.id, ids)) for u in users if draw(st.booleans())}
    return DiscoveryResult(
        Company("c-1", "https://us.api.concursolutions.com", "Acme"), users, spend
    )


@given(typed_tenants())
@SLOW_PROPS
def test_any_typed_tenant(result: DiscoveryResult) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _same(result, Path(tmp))


def test_the_file_is_private_and_written_in_one_rename(tmp_path: Path) -> None:
    result = _small()
    target = tmp_path / "out" / "payload.json"
    written, _ = save_streamed(result, target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["payload.json"]
    assert written.size == target.stat().st_size and written.users == 2 and written.entries == 2


def test_a_failure_while_writing_leaves_nothing(tmp_path: Path) -> None:
    parts = application_parts(_small())

    def users() -> Any:
        yield from parts.users
        raise RuntimeError("discovery broke")

    target = tmp_path / "payload.json"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        write_payload(target, parts.header, users())
    assert target.read_bytes() == b"old"  # the previous file is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["payload.json"]


def test_a_header_with_users_is_refused(tmp_path: Path) -> None:
    app = oaa.build_application(_small()).app
    with pytest.raises(ValueError, match="must not hold users"):
        write_payload(tmp_path / "p.json", app, [])


def _small() -> DiscoveryResult:
    users = [User(id="u1", user_name="a@x.example", active=True), User(id="u2")]
    spend = {
        "u1": SpendProfile("u1", roles=(RoleGrant("EXP_APPROVER", ("G1",)),)),
        "u2": SpendProfile("u2", roles=(RoleGrant("EXP_USER", ("",)),)),
    }
    return DiscoveryResult(Company("c", "https://us.api.concursolutions.com"), users, spend)
