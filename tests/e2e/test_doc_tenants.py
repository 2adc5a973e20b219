"""The documented examples that form a tenant, through the whole CLI: ``discover --no-push
--save-json`` then ``report``, against the doc server (tests/fakes/docserver.py).

Tenants A and B are the fixture README's "Files that form a tenant"; tenant P is ours, built
from the documented provisioning bodies (the only documented delegates, temporary delegation,
ApproverLimit and employeeNumber references). Each test asserts what the docs show arrives in
the payload, the snapshot and the report, and that a reference to nobody never does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from oaa_concur.concur.parse import DELEGATE_FLAGS
from oaa_concur.concur.spend import LIST_PATH
from oaa_concur.config import DEFAULT_CONCUR_URL
from oaa_concur.review.snapshot import SnapshotStore
from tests.fakes.clock import FakeTime
from tests.fakes.docserver import (
    PROV_APPROVER,
    PROV_CHRIS,
    PROV_DELEGATE,
    PROV_JOHN,
    PROV_REQUEST_APPROVER,
    DocServer,
    DocTenant,
    header_lines,
    tenant_a,
    tenant_b,
    tenant_provisioning,
)
from tests.support.cli import run_cli

START = 1_750_000_000.0  # 2025-06-15: the provisioning example's window (2020) is over
A_DANGLING = "511a3ed6-0232-43e6-8393-fafdf7dd0a63"
B_DANGLING = "7a183cbe-1f4a-44f4-891c-8eff3608975e"


@dataclass
class Run:
    server: DocServer
    stdout: str
    stderr: str
    payload: dict[str, Any]
    report: dict[str, Any]
    html: str

    def user(self, uid: str) -> dict[str, Any]:
        users = self.payload["applications"][0]["local_users"]
        return next(u for u in users if u["id"] == uid)

    def props(self, uid: str) -> dict[str, Any]:
        return dict(self.user(uid).get("custom_properties", {}))


def _run(tmp_path: Path, tenant: DocTenant, *args: str, **server: bool) -> Run:
    doc = DocServer(tenant, **server)
    runtime = FakeTime(start=START).runtime(doc.transport())
    env = doc.env(tmp_path / "state")
    payload, report, html = tmp_path / "payload.json", tmp_path / "r.json", tmp_path / "r.html"
    found = run_cli(["discover", "--no-push", "--save-json", str(payload), *args], env, runtime)
    assert found.exit_code == 0, found.output
    for path, fmt in ((report, "json"), (html, "html")):
        done = run_cli(["report", "--format", fmt, "--out", str(path)], env, runtime)
        assert done.exit_code == 0, done.output
    return Run(
        doc,
        found.stdout,
        found.stderr,
        orjson.loads(payload.read_bytes()),
        json.loads(report.read_text(encoding="utf-8")),
        html.read_text(encoding="utf-8"),
    )


def _nowhere_in_payload(run: Run, dangling: str) -> None:
    """A reference to nobody is never published: no property of anyone names it."""
    text = json.dumps(run.payload["applications"][0]["local_users"])
    assert dangling not in text
    assert dangling not in json.dumps(run.payload["identity_to_permissions"])


def test_tenant_a_ereceipts_guide(tmp_path: Path) -> None:
    run = _run(tmp_path, tenant_a())
    # The first token request goes to the default host (release notes 2025-01-09), the rest
    # to the token answer's geolocation.
    hosts = [httpx.URL(s.url).host for s in run.server.seen]
    assert f"https://{hosts[0]}" == DEFAULT_CONCUR_URL
    assert set(hosts[1:]) == {"us2.api.concursolutions.com"}
    [spend] = run.server.requests_to(LIST_PATH)
    assert (
        "urn:ietf:params:scim:schemas:extension:spend:2.0:ApproverLimit"
        in (spend.params["attributes"])
    )
    assert run.stdout.startswith("2 users (2 active)")
    demo = run.props("e81b768e-08aa-4d41-b101-68d8c9e5f57e")
    assert demo["employee_number"] == "10004"
    assert "manager_id" not in demo and "bi_manager_id" not in demo  # 511a3ed6 is nobody
    _nowhere_in_payload(run, A_DANGLING)
    unknown = {(r["relation"], r["kind"]) for r in run.report["unknown_references"]}
    assert unknown == {
        ("manager", ""),
        ("bi_manager", ""),
        ("approver", "report"),
        ("approver", "invoice"),
        ("approver", "cashAdvance"),
    }
    kinds = [i["kind"] for i in run.report["data_issues"]]
    assert kinds.count("unknown_reference") == 5 and "no_spend_profile" in kinds
    assert "APPROVER_UNKNOWN:e81b768e-08aa-4d41-b101-68d8c9e5f57e:" + A_DANGLING in {
        f["id"] for f in run.report["findings"]
    }
    assert 'id="unknown-references"' in run.html and A_DANGLING in run.html
    roles = {r["id"]: r for r in run.payload["applications"][0]["local_roles"]}
    assert roles["TRAVEL_USER"]["custom_properties"]["product"] == "Expense"


def test_tenant_b_user_provisioning_retrieve_user_profile_data(tmp_path: Path) -> None:
    run = _run(tmp_path, tenant_b())
    john = run.props("8f545a90-305f-441b-91cd-a69ad5f548f5")
    assert "report_approvers" not in john and "budget_approvers" not in john
    _nowhere_in_payload(run, B_DANGLING)
    assert {r["kind"] for r in run.report["unknown_references"]} == {"report", "budget"}
    store = SnapshotStore(tmp_path / "state")
    [info] = store.list()
    assert {r.target for r in store.load(info.id).unknown_references} == {B_DANGLING}


def test_tenant_p_provisioning_examples(tmp_path: Path) -> None:
    run = _run(tmp_path, tenant_provisioning())
    chris = run.props(PROV_CHRIS)
    # requestApprover (employeeNumber only) resolved through Identity; primary.
    assert (
        chris["request_approvers"] == chris["request_approvers_primary"] == [PROV_REQUEST_APPROVER]
    )
    # reportApprover is nobody: not published, listed.
    assert "report_approvers" not in chris
    [unknown] = run.report["unknown_references"]
    assert unknown["target"] == "employeeNumber reportApprover"
    # The delegation (all nine flags) ended on 2020-02-19: not access, but listed with dates.
    assert not [k for k in chris if "_delegates" in k]
    [expired] = run.report["delegations_out_of_window"]
    assert expired["delegate_id"] == PROV_DELEGATE and expired["state"] == "expired"
    assert expired["starts"].startswith("2020-02-19T03:15") and expired["ends"].startswith(
        "2020-02-19T03:59"
    )
    assert tuple(expired["permissions"]) == DELEGATE_FLAGS
    assert "misspelt_key" in {i["kind"] for i in run.report["data_issues"]}
    assert 'id="delegations"' in run.html


def test_tenant_p_approval_limits_and_processor_report_access(tmp_path: Path) -> None:
    run = _run(tmp_path, tenant_provisioning())
    john = run.props(PROV_JOHN)
    assert john["report_approvers_primary"] == [PROV_APPROVER]
    assert john["authorized_approver_types"] == john["cost_object_approver_types"] == ["report"]
    assert john["approval_limit_groups"] == ["Global", "rg1-rg1_1"]
    assert john["approval_limits"] == [
        "authorizedApprover: report up to 999999999999999.1 USD in group rg1-rg1_1, level 1",
        "costObjectApprover: report up to 0.5 USD in group Global",
    ]
    assert [x["limit"] for x in run.report["approval_limits"]] == [999999999999999.1, 0.5]
    listed = run.props("aaaaaaaa-xxxx-zzzz-xxxx-xxxxxxxxxxxx")
    assert listed["processor_report_access"] == "COMPLETE"
    meanings = {r["meaning"] for r in run.report["processor_report_access"]}
    assert meanings == {"all reports including returned reports"}
    assert 'id="approval-limits"' in run.html and 'id="processor-access"' in run.html


def test_spend_list_refusing_attributes_falls_back_to_the_global_group(tmp_path: Path) -> None:
    """The v4.1 list documents no ``attributes``: if Concur refuses it, the list is read
    without it (one request more), and the run and the report say what that costs."""
    run = _run(tmp_path, tenant_provisioning(), refuse_attributes=True)
    asked = [s.params.get("attributes") for s in run.server.requests_to(LIST_PATH)]
    assert len(asked) == 2 and asked[0] and asked[1] is None
    assert "Global group only" in run.stderr
    assert any("Global group only" in n for n in run.report["notes"])
    assert run.props(PROV_JOHN)["approval_limit_groups"]  # what the list gave is kept


def test_deprecated_endpoints_in_the_summary_and_the_json_log(tmp_path: Path) -> None:
    headers = header_lines("release-notes-2026-03-03__api-deprecation-headers__headers.http")
    doc = DocServer(tenant_a())
    doc.deprecate("spend", headers)
    doc.deprecate("identity", headers)
    runtime = FakeTime(start=START).runtime(doc.transport())
    env = doc.env(tmp_path / "state")
    text = run_cli(["discover", "--no-push"], env, runtime)
    assert text.exit_code == 0, text.output
    line = f"GET {LIST_PATH} is deprecated (use '/travelrequest/v4/', sunset 2020-03-01)"
    assert line in text.stdout
    assert "POST /profile/identity/v4.1/Users/.search is deprecated" in text.stdout
    warned = [w for w in text.stderr.splitlines() if "WARNING" in w and "deprecated" in w]
    assert len(warned) == 2
    logged = run_cli(["discover", "--no-push", "--log-format", "json"], env, runtime)
    lines = [*logged.stderr.splitlines(), *logged.stdout.splitlines()]
    records = [json.loads(x) for x in lines]  # JSON mode: every line is JSON
    [done] = [r for r in records if r["message"] == "run complete"]
    assert {d["endpoint"] for d in done["deprecations"]} == {
        f"GET {LIST_PATH}",
        "POST /profile/identity/v4.1/Users/.search",
    }
    assert all(d["sunset"] == "2020-03-01" for d in done["deprecations"])


@pytest.mark.parametrize(
    "host",
    [
        "https://us2.api.concursolutions.com",
        "https://eu2.api.concursolutions.com",
        "https://us-impl.api.concursolutions.com",
    ],
)
def test_other_documented_hosts_still_work_as_concur_url(tmp_path: Path, host: str) -> None:
    """platform/base-uris.markdown: the first token request goes where CONCUR_URL says."""
    doc = DocServer(tenant_b())
    env = {**doc.env(tmp_path / "state"), "CONCUR_URL": host}
    done = run_cli(["discover", "--no-push"], env, FakeTime(start=START).runtime(doc.transport()))
    assert done.exit_code == 0, done.output
    first = httpx.URL(doc.seen[0].url)
    assert (first.host, first.path) == (httpx.URL(host).host, "/oauth2/v0/token")
