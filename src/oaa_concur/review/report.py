"""The access-review report of one snapshot: HTML for auditors, CSV for reviewers, JSON for tools.

All three carry the same content (``build`` gives a ``Report``): summary figures, chart
series, findings, exemptions, one ``GrantRow`` per user-role grant (Spend roles and product
entitlements), the access details (``review.details``: delegations outside their window,
unknown references, approval limits, processor report access), notes about the run and the
data issues (design.md §1, "Access review without Veza"); the CSV holds the grant rows. The
HTML file
is self-contained (inline CSS, inline vanilla JS, inline SVG charts, a Content-Security-Policy
that forbids any fetch); its grant table is paged in the browser so that 100,000 grants stay
usable. Files are written atomically, mode 0600 (personal data, design.md §3.6).

``report_snapshot`` is what ``oaa-concur report`` runs; ``write_report`` is the same for a
``DiscoveryResult`` already in memory (the demo).
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TextIO, get_args

import orjson
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from oaa_concur.catalogue import RoleInfo, entitlement_role, role_info
from oaa_concur.models import Company, DataIssue, DiscoveryResult, User
from oaa_concur.review.details import Details, details
from oaa_concur.review.findings import Finding, at_or_above, counts, find, summary_line
from oaa_concur.review.rules import RuleSet, Severity, default_rules
from oaa_concur.review.snapshot import SnapshotInfo, SnapshotStore
from oaa_concur.safetext import visible
from oaa_concur.state.files import write_private
from oaa_concur.summary import FIGURES, figure_fields, summarize

Format = Literal["html", "csv", "json"]
FORMATS: tuple[Format, ...] = get_args(Format)
Status = Literal["active", "inactive", "terminated-active"]
# Findings about a whole role, not about one user's grant: left out of the per-grant column.
_NOT_PER_GRANT = {"PRIVILEGED_ROLE", "UNKNOWN_ROLE"}


def status(user: User, now: datetime) -> Status:
    """``active``, ``inactive``, or ``terminated-active`` (active past the termination date)."""
    if not user.active:
        return "inactive"
    return "terminated-active" if user.terminated(now) else "active"


@dataclass(frozen=True, slots=True)
class GrantRow:
    """One user-role grant with the reviewer columns: a row of the CSV, the JSON ``grants``
    and the HTML grant table. Field order is the CSV's column order."""

    user_id: str
    user_name: str
    display_name: str
    email: str
    status: Status
    cost_center: str
    manager_id: str
    manager_name: str
    role_code: str
    role_name: str
    product: str
    scope: str
    privileged: bool
    findings: str
    """Ids of the user's findings that concern this grant, space-separated."""
    review_decision: str = ""
    review_comment: str = ""

    def cells(self) -> dict[str, str]:
        """The row as text, by column (``privileged`` as ``yes``/``no``)."""
        return {name: _text(getattr(self, name)) for name in CSV_COLUMNS}


CSV_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(GrantRow))


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@dataclass(frozen=True, slots=True)
class Report:
    """The content of one access review, shared by the three formats."""

    as_of: datetime
    company: Company
    snapshot: SnapshotInfo | None
    rules: RuleSet
    findings: tuple[Finding, ...]
    grants: tuple[GrantRow, ...]
    statuses: Mapping[Status, int]
    """Users per status."""
    issues: tuple[DataIssue, ...]
    details: Details
    notes: tuple[str, ...] = ()
    """What the reader must know about the run that made the snapshot (one sentence each)."""
    figures: Mapping[str, int] = field(default_factory=dict)
    """The snapshot's figures under ``summary.FIGURES``' names: the store's
    (``SnapshotInfo.figures``, the discover summary's and the ``snapshots`` table's), else
    counted from the result the same way (``summary.summarize``)."""

    def to_json(self, *, with_grants: bool = True) -> dict[str, Any]:
        """The JSON document (``with_grants=False``: without the grant rows, for the HTML)."""
        doc = _document(self)
        if with_grants:
            doc["grants"] = [g.cells() for g in self.grants]
        doc |= self.details.to_json()
        doc["data_issues"] = [
            {"kind": str(i.kind), "subject": i.subject, "detail": i.detail} for i in self.issues
        ]
        return doc


@dataclass(frozen=True, slots=True)
class ReportOutcome:
    """What writing a report produced: where (None: stdout or nowhere) and the findings."""

    path: Path | None
    findings: tuple[Finding, ...]
    snapshot_id: int | None = None

    @property
    def summary(self) -> str:
        return summary_line(list(self.findings))

    def failing(self, severity: Severity | None) -> list[Finding]:
        """Non-exempted findings at or above ``severity`` (``--fail-on``; None: none fail)."""
        return at_or_above(self.findings, severity) if severity is not None else []


def grant_rows(
    result: DiscoveryResult, findings: Sequence[Finding], now: datetime
) -> list[GrantRow]:
    """One row per user-role grant, in user order, with the reviewer columns."""
    users = {u.id: u for u in result.users}
    by_user = _findings_by_user(findings)
    rows: list[GrantRow] = []
    for user in result.users:
        manager = users.get(user.manager_id) if user.manager_id else None
        mine = by_user.get(user.id, [])
        rows += [
            _grant_row(user, manager, info, groups, mine, now)
            for info, groups in _grants_of(user, result)
        ]
    return rows


def _grants_of(user: User, result: DiscoveryResult) -> list[tuple[RoleInfo, tuple[str, ...]]]:
    grants: list[tuple[RoleInfo, tuple[str, ...]]] = [
        (entitlement_role(e), ()) for e in user.entitlements
    ]
    profile = result.spend.get(user.id)
    if profile:
        grants += [(role_info(g.role_code), g.role_groups) for g in profile.roles]
    return grants


def _grant_row(
    user: User,
    manager: User | None,
    info: RoleInfo,
    groups: tuple[str, ...],
    findings: list[Finding],
    now: datetime,
) -> GrantRow:
    return GrantRow(
        user_id=user.id,
        user_name=user.user_name or "",
        display_name=user.name,
        email=user.email or "",
        status=status(user, now),
        cost_center=user.cost_center or "",
        manager_id=user.manager_id or "",
        manager_name=manager.name if manager else "",
        role_code=info.code,
        role_name=info.name,
        product=info.product,
        scope="role groups: " + ", ".join(groups) if groups else "company-wide",
        privileged=info.privileged,
        findings=" ".join(f.id for f in findings if not f.role_codes or info.code in f.role_codes),
    )


def _findings_by_user(findings: Iterable[Finding]) -> dict[str, list[Finding]]:
    by_user: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        if f.rule not in _NOT_PER_GRANT:
            for user_id in f.user_ids:
                by_user[user_id].append(f)
    return by_user


def build(
    result: DiscoveryResult,
    findings: Sequence[Finding],
    *,
    now: datetime,
    rules: RuleSet,
    snapshot: SnapshotInfo | None = None,
) -> Report:
    """The report content shared by the three formats."""
    return Report(
        as_of=now,
        company=result.company,
        snapshot=snapshot,
        rules=rules,
        findings=tuple(findings),
        grants=tuple(grant_rows(result, findings, now)),
        statuses=Counter(status(u, now) for u in result.users),
        issues=tuple(result.issues),
        details=details(result, now),
        notes=run_notes(result),
        figures=_figures(result, snapshot),
    )


def _figures(result: DiscoveryResult, snapshot: SnapshotInfo | None) -> dict[str, int]:
    if snapshot is not None and snapshot.figures is not None:
        return figure_fields(snapshot.figures)
    counted = summarize(result)
    return {name: getattr(counted, name) for name in FIGURES}


def run_notes(result: DiscoveryResult) -> tuple[str, ...]:
    """Sentences about the run: approval limits read for the Global group only, endpoints
    Concur marked deprecated."""
    stats = result.stats
    if stats is None:
        return ()
    notes = [f"Concur marked {d.line()}." for d in stats.deprecations]
    if stats.limits_global_only:
        notes.append(
            "Concur refused `attributes` on the Spend user list: approval limits are those of "
            "the Global group only."
        )
    return tuple(notes)


def _document(report: Report) -> dict[str, Any]:
    """Every part of the JSON document but the grant rows and the data issues."""
    company = report.company
    return {
        "report": "oaa-concur access review",
        "version": 1,
        "as_of": report.as_of.isoformat(),
        "company": {
            "id": company.id,
            "name": company.display_name,
            "geolocation": company.geolocation,
        },
        "snapshot": _snapshot_json(report.snapshot),
        "rules_source": report.rules.source,
        "notes": list(report.notes),
        "summary": _summary_json(report),
        "charts": _charts_json(report),
        "findings": [_finding_json(f) for f in report.findings],
        "exemptions": [
            {
                "user": e.user,
                "rule": e.rule,
                "reason": e.reason,
                "expires": e.expires.isoformat(),
                "active": e.active(report.as_of),
            }
            for e in report.rules.exemptions
        ],
    }


def _summary_json(report: Report) -> dict[str, Any]:
    findings = list(report.findings)
    figures = report.figures
    return {
        **figures,
        "inactive": figures["users"] - figures["active"],
        "terminated_active": report.statuses.get("terminated-active", 0),
        "privileged_grants": sum(1 for g in report.grants if g.privileged),
        "privileged_users": len({g.user_id for g in report.grants if g.privileged}),
        "findings": counts(findings),
        "findings_line": summary_line(findings),
        "exempted": sum(1 for f in findings if f.exemption is not None),
        "delegations_out_of_window": len(report.details.delegations),
        "unknown_references": len(report.details.references),
        "approval_limits": len(report.details.limits),
    }


def _charts_json(report: Report) -> dict[str, dict[str, int]]:
    privileged = Counter(g.role_code for g in report.grants if g.privileged)
    return {
        "users_by_status": dict(sorted(report.statuses.items())),
        "grants_by_product": dict(Counter(g.product for g in report.grants).most_common()),
        "privileged_holders": dict(privileged.most_common()),
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


def render(report: Report, fmt: Format) -> str:
    """The report text in ``fmt`` (html, csv or json)."""
    if fmt == "json":
        return orjson.dumps(report.to_json(), option=orjson.OPT_INDENT_2).decode() + "\n"
    if fmt == "csv":
        return render_csv(report.grants)
    return render_html(report)


def render_csv(rows: Iterable[GrantRow]) -> str:
    """Every field quoted, so no character of a Concur string can end a field or a row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([_cell(text) for text in row.cells().values()])
    return out.getvalue()


_LINE_BREAKS = re.compile("\r\n|[\r\n\x0b\x0c\x85\u2028\u2029]")
_FORMULA_START = ("=", "+", "-", "@")
_LEADING = re.compile("[\\s\x00-\x1f\x7f-\x9f\u200b-\u200f\u2060-\u2064\ufeff]*")
"""What a spreadsheet may skip before it sees a formula: whitespace, controls, zero-widths."""


def _cell(value: str) -> str:
    """A CSV cell from a Concur string (user-controlled; OWASP "CSV Injection").

    Bidi controls and NUL are made visible (``safetext.visible``), line breaks become spaces
    (a bare CR starts a new row in some spreadsheets even inside quotes), and a formula is
    defused with a leading ``'`` when it starts with a tab, or with ``= + - @`` after any
    leading whitespace and control characters (`` =cmd()`` is a formula too).
    """
    text = _LINE_BREAKS.sub(" ", visible(value))
    lead = _LEADING.match(text)
    start = lead.end() if lead else 0
    if text[:1] == "\t" or text[start : start + 1] in _FORMULA_START:
        return "'" + text
    return text


def _visible_value(value: Any) -> Any:
    """Jinja ``finalize``: bidi controls and NUL in a rendered string made visible."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return visible(value)
    return value


def render_html(report: Report) -> str:
    env = Environment(
        loader=PackageLoader("oaa_concur.review", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        finalize=_visible_value,
    )
    template = env.get_template("report.html.j2")
    content = report.to_json(with_grants=False)
    return template.render(
        c=content,
        data=_script_json(_table_data(report)),
        severities=list(content["summary"]["findings"]),
    )


def _table_data(report: Report) -> dict[str, list[list[Any]]]:
    """The grant and finding tables, normalised (users and roles once) to keep 100k small."""
    users: dict[str, int] = {}
    roles: dict[str, int] = {}
    user_rows: list[list[Any]] = []
    role_rows: list[list[Any]] = []
    grants: list[list[Any]] = []
    for g in report.grants:
        if g.user_id not in users:
            users[g.user_id] = len(user_rows)
            user_rows.append(
                [g.display_name, g.user_id, g.email, g.status, g.cost_center, g.manager_name]
            )
        if g.role_code not in roles:
            roles[g.role_code] = len(role_rows)
            role_rows.append([g.role_code, g.role_name, g.product, _text(g.privileged)])
        grants.append([users[g.user_id], roles[g.role_code], g.scope, g.findings])
    findings: list[list[Any]] = [
        [
            f.severity,
            f.id,
            f.title,
            f.explanation,
            "exempted: " + f.exemption.reason if f.exemption else "",
        ]
        for f in report.findings
    ]
    return {"users": user_rows, "roles": role_rows, "grants": grants, "findings": findings}


_JSON_INVISIBLE = re.compile(r"\\\\|\\u0000|[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""In JSON text: an escaped backslash (skipped, so its second half is never read as the start
of an escape), the NUL escape, or a raw bidi control."""


def _visible_json(match: re.Match[str]) -> str:
    found = match.group()
    if found == "\\\\":
        return found
    if found == "\\u0000":
        return "\\\\u0000"
    return f"\\\\u{ord(found):04x}"


def _script_json(data: Any) -> Markup:
    """JSON safe inside <script type="application/json">: no "</script>" or "<!--" possible;
    bidi controls and NUL reach the page as the visible text ``\\u202e`` (``safetext``)."""
    text = orjson.dumps(data).decode()
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = _JSON_INVISIBLE.sub(_visible_json, text)
    return Markup(text)  # noqa: S704 - escaped above; this is data, not markup


def write_report(
    result: DiscoveryResult,
    out: Path | TextIO | None,
    fmt: Format = "html",
    *,
    now: datetime,
    rules: RuleSet | None = None,
    snapshot: SnapshotInfo | None = None,
) -> ReportOutcome:
    """Find, build and write the report to the file or stream ``out`` (None: findings only)."""
    rules = rules or default_rules()
    findings = find(result, rules, now=now)
    snapshot_id = snapshot.id if snapshot else None
    if out is None:
        return ReportOutcome(None, tuple(findings), snapshot_id)
    text = render(build(result, findings, now=now, rules=rules, snapshot=snapshot), fmt)
    if isinstance(out, Path):
        write_private(out, text)
        return ReportOutcome(out, tuple(findings), snapshot_id)
    out.write(text)
    return ReportOutcome(None, tuple(findings), snapshot_id)


def report_snapshot(
    store: SnapshotStore,
    out: Path | TextIO | None,
    fmt: Format,
    *,
    snapshot_id: int | None = None,
    rules: RuleSet,
    now: datetime,
) -> ReportOutcome:
    """The access review of snapshot ``snapshot_id`` (None: the newest) written to ``out``
    (None: ``./oaa-concur-report-<id>.<format>``; a stream: written to it)."""
    info = store.resolve(snapshot_id)
    target = out if out is not None else default_path(info.id, fmt)
    return write_report(store.load(info.id), target, fmt, now=now, rules=rules, snapshot=info)


def default_path(snapshot_id: int, fmt: Format) -> Path:
    """Where ``oaa-concur report`` writes when ``--out`` is not given."""
    return Path(f"oaa-concur-report-{snapshot_id}.{fmt}")
