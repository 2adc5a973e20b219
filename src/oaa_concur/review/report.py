"""The access-review report of one snapshot: HTML for auditors, CSV for reviewers, JSON for tools.

All three carry the same content (``build``): summary figures, chart series, findings,
exemptions, one row per user-role grant (Spend roles and product entitlements) and the data
issues. The HTML file is self-contained (inline CSS, inline vanilla JS, inline SVG charts, a
Content-Security-Policy that forbids any fetch); its grant table is paged in the browser so
that 100,000 grants stay usable. Files are written atomically, mode 0600 (personal data).
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from oaa_concur.catalogue import RoleInfo, entitlement_role, role_info
from oaa_concur.models import DiscoveryResult, User
from oaa_concur.review.findings import Finding, counts, find, summary_line
from oaa_concur.review.rules import RuleSet, default_rules
from oaa_concur.review.snapshot import SnapshotInfo
from oaa_concur.state.files import write_private

FORMATS = ("html", "csv", "json")
CSV_COLUMNS = (
    "user_id",
    "user_name",
    "display_name",
    "email",
    "status",
    "cost_center",
    "manager_id",
    "manager_name",
    "role_code",
    "role_name",
    "product",
    "scope",
    "privileged",
    "findings",
    "review_decision",
    "review_comment",
)
# Findings about a whole role, not about one user's grant: left out of the per-grant column.
_NOT_PER_GRANT = {"PRIVILEGED_ROLE", "UNKNOWN_ROLE"}


@dataclass(frozen=True, slots=True)
class ReportOutcome:
    path: Path | None
    findings: list[Finding]

    @property
    def summary(self) -> str:
        return summary_line(self.findings)


def status(user: User, now: datetime) -> str:
    """``active``, ``inactive``, or ``terminated-active`` (active past the termination date)."""
    if not user.active:
        return "inactive"
    if user.termination_date is not None and user.termination_date <= now:
        return "terminated-active"
    return "active"


def grant_rows(
    result: DiscoveryResult, findings: list[Finding], now: datetime
) -> list[dict[str, Any]]:
    """One row per user-role grant, in user order, with the reviewer columns."""
    users = {u.id: u for u in result.users}
    by_user = _findings_by_user(findings)
    rows = []
    for user in result.users:
        profile = result.spend.get(user.id)
        grants: list[tuple[RoleInfo, tuple[str, ...]]] = [
            (entitlement_role(e), ()) for e in user.entitlements
        ]
        if profile:
            grants += [(role_info(g.role_code), g.role_groups) for g in profile.roles]
        manager = users.get(user.manager_id) if user.manager_id else None
        for info, groups in grants:
            rows.append(
                {
                    "user_id": user.id,
                    "user_name": user.user_name or "",
                    "display_name": user.name,
                    "email": user.email or "",
                    "status": status(user, now),
                    "cost_center": user.cost_center or "",
                    "manager_id": user.manager_id or "",
                    "manager_name": manager.name if manager else "",
                    "role_code": info.code,
                    "role_name": info.name,
                    "product": info.product,
                    "scope": "role groups: " + ", ".join(groups) if groups else "company-wide",
                    "privileged": "yes" if info.privileged else "no",
                    "findings": " ".join(
                        f.id
                        for f in by_user.get(user.id, ())
                        if not f.role_codes or info.code in f.role_codes
                    ),
                    "review_decision": "",
                    "review_comment": "",
                }
            )
    return rows


def _findings_by_user(findings: Iterable[Finding]) -> dict[str, list[Finding]]:
    by_user: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        if f.rule not in _NOT_PER_GRANT:
            for user_id in f.user_ids:
                by_user[user_id].append(f)
    return by_user


def build(
    result: DiscoveryResult,
    findings: list[Finding],
    *,
    now: datetime,
    rules: RuleSet,
    snapshot: SnapshotInfo | None = None,
) -> dict[str, Any]:
    """The report content shared by the three formats (this is the JSON document)."""
    rows = grant_rows(result, findings, now)
    statuses = Counter(status(u, now) for u in result.users)
    privileged = Counter(r["role_code"] for r in rows if r["privileged"] == "yes")
    return {
        "report": "oaa-concur access review",
        "version": 1,
        "as_of": now.isoformat(),
        "company": {
            "id": result.company.id,
            "name": result.company.display_name,
            "geolocation": result.company.geolocation,
        },
        "snapshot": _snapshot_json(snapshot),
        "rules_source": rules.source,
        "summary": {
            "users": len(result.users),
            "active": statuses["active"],
            "inactive": statuses["inactive"],
            "terminated_active": statuses["terminated-active"],
            "grants": len(rows),
            "privileged_grants": sum(privileged.values()),
            "privileged_users": len({r["user_id"] for r in rows if r["privileged"] == "yes"}),
            "findings": counts(findings),
            "findings_line": summary_line(findings),
            "exempted": sum(1 for f in findings if f.exemption is not None),
            "data_issues": len(result.issues),
        },
        "charts": {
            "users_by_status": dict(sorted(statuses.items())),
            "grants_by_product": dict(Counter(r["product"] for r in rows).most_common()),
            "privileged_holders": dict(privileged.most_common()),
        },
        "findings": [_finding_json(f) for f in findings],
        "exemptions": [
            {
                "user": e.user,
                "rule": e.rule,
                "reason": e.reason,
                "expires": e.expires.isoformat(),
                "active": e.active(now),
            }
            for e in rules.exemptions
        ],
        "grants": rows,
        "data_issues": [
            {"kind": str(i.kind), "subject": i.subject, "detail": i.detail} for i in result.issues
        ],
    }


def _snapshot_json(info: SnapshotInfo | None) -> dict[str, Any] | None:
    if info is None:
        return None
    return {
        "id": info.id,
        "taken_at": info.taken_at.isoformat(),
        "users": info.user_count,
        "duration_s": info.duration_s,
    }


def _finding_json(f: Finding) -> dict[str, Any]:
    ex = f.exemption
    return {
        "id": f.id,
        "rule": f.rule,
        "severity": f.severity,
        "title": f.title,
        "explanation": f.explanation,
        "user_ids": list(f.user_ids),
        "role_codes": list(f.role_codes),
        "exemption": {"user": ex.user, "reason": ex.reason, "expires": ex.expires.isoformat()}
        if ex
        else None,
    }


def render(content: dict[str, Any], fmt: str) -> str:
    """The report text in ``fmt`` (html, csv or json)."""
    if fmt == "json":
        return orjson.dumps(content, option=orjson.OPT_INDENT_2).decode() + "\n"
    if fmt == "csv":
        return render_csv(content["grants"])
    return render_html(content)


def render_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in CSV_COLUMNS])
    return out.getvalue()


def _cell(value: str) -> str:
    """Defuse spreadsheet formulas: Concur strings are user-controlled (OWASP CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def render_html(content: dict[str, Any]) -> str:
    env = Environment(
        loader=PackageLoader("oaa_concur.review", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    template = env.get_template("report.html.j2")
    return template.render(
        c=content,
        data=_script_json(_table_data(content)),
        severities=list(content["summary"]["findings"]),
    )


def _table_data(content: dict[str, Any]) -> dict[str, Any]:
    """The grant and finding tables, normalised (users and roles once) to keep 100k small."""
    users: dict[str, int] = {}
    roles: dict[str, int] = {}
    user_rows: list[list[str]] = []
    role_rows: list[list[str]] = []
    grants = []
    for r in content["grants"]:
        if r["user_id"] not in users:
            users[r["user_id"]] = len(user_rows)
            user_rows.append(
                [
                    r["display_name"],
                    r["user_id"],
                    r["email"],
                    r["status"],
                    r["cost_center"],
                    r["manager_name"],
                ]
            )
        if r["role_code"] not in roles:
            roles[r["role_code"]] = len(role_rows)
            role_rows.append([r["role_code"], r["role_name"], r["product"], r["privileged"]])
        grants.append([users[r["user_id"]], roles[r["role_code"]], r["scope"], r["findings"]])
    findings = [
        [
            f["severity"],
            f["id"],
            f["title"],
            f["explanation"],
            "exempted: " + f["exemption"]["reason"] if f["exemption"] else "",
        ]
        for f in content["findings"]
    ]
    return {"users": user_rows, "roles": role_rows, "grants": grants, "findings": findings}


def _script_json(data: Any) -> Markup:
    """JSON safe inside <script type="application/json">: no "</script>" or "<!--" possible."""
    text = orjson.dumps(data).decode()
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 - escaped above; this is data, not markup


def write_report(
    result: DiscoveryResult,
    path: Path | None,
    fmt: str = "html",
    *,
    now: datetime,
    rules: RuleSet | None = None,
    snapshot: SnapshotInfo | None = None,
) -> ReportOutcome:
    """Find, build and write the report to ``path`` (None: return findings only)."""
    rules = rules or default_rules()
    findings = find(result, rules, now=now)
    if path is not None:
        text = render(build(result, findings, now=now, rules=rules, snapshot=snapshot), fmt)
        write_private(path, text)
    return ReportOutcome(path, findings)
