"""The HTML report: one self-contained file for people, usable at a million users.

What it shows in full: the summary figures, the charts, the findings by rule (every rule, its
severity, count and exemptions), the exemptions, the role list with every role's holder count.
What it shows up to a bound, saying "N of M ... shown; all are in the CSV" in the page and in
print (docs/review.md, "The HTML report at scale"):

* people (the person view): ``PEOPLE_SHOWN``, those with an open finding or a privileged
  grant first, then the others in id order; their grant rows (the grants table, the role
  view's holders) up to ``GRANTS_SHOWN``;
* approver and delegate edges that touch a person shown, up to ``EDGES_SHOWN`` each;
* findings: up to ``FINDINGS_PER_RULE`` per rule, plus every finding naming a person shown;
* access details and data issues: the first ``DETAIL_ROWS`` of each.

Below the bounds (the demo's 5,000 users) the file holds everything. The data sits in one
``<script type="application/json">`` block, escaped so that no Concur string can close it;
the page's script (``templates/report.js``) renders it with ``textContent`` only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any

import orjson
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from oaa_concur.review.rules import SEVERITIES
from oaa_concur.review.tables import day, status
from oaa_concur.review.workspace import Person, grant_walk
from oaa_concur.safetext import visible

if TYPE_CHECKING:
    from oaa_concur.review.report import Context

PEOPLE_SHOWN = 10_000
GRANTS_SHOWN = 50_000
EDGES_SHOWN = 50_000
FINDINGS_PER_RULE = 500
DETAIL_ROWS = 1_000


@dataclass
class Embedded:
    """The rows the page holds, and how many of each kind exist."""

    people: list[list[Any]] = field(default_factory=list)
    grants: list[list[Any]] = field(default_factory=list)
    finding_ids: set[str] = field(default_factory=set)
    roles: dict[str, int] = field(default_factory=dict)
    approvals: list[list[Any]] = field(default_factory=list)
    delegations: list[list[Any]] = field(default_factory=list)
    findings: list[list[Any]] = field(default_factory=list)
    shown_by_rule: dict[str, int] = field(default_factory=dict)


def _person_row(ctx: Context, p: Person) -> list[Any]:
    u = p.user
    manager = ctx.source.directory.user(u.manager_id) if u.manager_id else None
    return [
        u.id,
        u.name,
        u.user_name or "",
        u.email or "",
        status(u, ctx.now),
        u.employee_number or "",
        u.department or "",
        u.cost_center or "",
        day(u.termination_date),
        manager.name if manager else "",
        u.manager_id or "",
        " ".join(p.finding_ids),
    ]


def _people(ctx: Context, data: Embedded) -> None:
    chosen, _ = ctx.ws.notable(PEOPLE_SHOWN)
    fill = PEOPLE_SHOWN - len(chosen)
    codes = list(ctx.figures.roles)
    data.roles = {code: i for i, code in enumerate(codes)}
    for person in grant_walk(ctx.source, ctx.ws, ctx.stamp, ctx.now):
        if len(data.people) >= PEOPLE_SHOWN:
            break
        wanted = person.user.id in chosen or fill > 0
        if not wanted or len(data.grants) + len(person.grants) > GRANTS_SHOWN:
            continue
        if person.user.id not in chosen:
            fill -= 1
        index = len(data.people)
        data.people.append(_person_row(ctx, person))
        data.finding_ids.update(person.finding_ids)
        data.grants += [
            [index, data.roles[g.role_code], g.scope, g.severity, g.findings] for g in person.grants
        ]


def _edges(ctx: Context, data: Embedded) -> None:
    shown = {p[0] for p in data.people}
    for user_id, other, c in ctx.ws.side("approvers"):
        if (user_id in shown or other in shown) and len(data.approvals) < EDGES_SHOWN:
            data.approvals.append([c[0], c[1], c[3], c[4], c[5], c[7], c[8], c[9]])
    for user_id, other, c in ctx.ws.side("delegates"):
        if (user_id in shown or other in shown) and len(data.delegations) < EDGES_SHOWN:
            data.delegations.append(
                [c[0], c[1], c[3], c[4], c[6], c[7], c[8], c[10], c[11][:10], c[12][:10]]
            )


def _findings(ctx: Context, data: Embedded) -> None:
    rows = ctx.ws.db.execute(
        "SELECT cells, row_number() OVER (PARTITION BY rule ORDER BY rank, id) FROM findings"
        " ORDER BY rank, id"
    )
    for text, n in rows:
        cells = orjson.loads(text)
        if n <= FINDINGS_PER_RULE or cells[0] in data.finding_ids:
            fid, rule, severity, title, explanation, _, _, exemption = cells
            data.findings.append([severity, fid, rule, title, explanation, exemption])
            data.shown_by_rule[rule] = data.shown_by_rule.get(rule, 0) + 1


def _first(rows: Iterator[tuple[str, str, Any]]) -> list[Any]:
    out: list[Any] = []
    for _, _, doc in rows:
        if len(out) >= DETAIL_ROWS:
            break
        out.append(doc)
    return out


def _roles(ctx: Context) -> list[list[Any]]:
    fig = ctx.figures
    return [
        [code, info.name, info.product, "yes" if info.privileged else "no", fig.holders[code]]
        for code, info in fig.roles.items()
    ]


def _rules(ctx: Context, data: Embedded) -> list[dict[str, Any]]:
    """Findings by rule: one line per rule, its severities with counts, most severe first."""
    by: dict[str, dict[str, Any]] = {}
    for rule, severity, n, exempted in ctx.counts.by_rule:
        line = by.setdefault(rule, {"rule": rule, "severities": [], "total": 0, "exempted": 0})
        line["severities"].append((severity, n))
        line["total"] += n
        line["exempted"] += exempted
    for line in by.values():
        line["shown"] = data.shown_by_rule.get(line["rule"], 0)
        line["top"] = min(line["severities"], key=lambda s: SEVERITIES.index(s[0]))[0]
    return list(by.values())


def when(value: str | None) -> str:
    """An ISO timestamp as people read it: ``2025-06-15 12:00 UTC`` (offsets kept)."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value)
    offset = moment.strftime("%z")
    zone = "UTC" if offset in ("+0000", "") else f"UTC{offset[:3]}:{offset[3:]}"
    return f"{moment:%Y-%m-%d %H:%M} {zone}"


def num(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _visible_value(value: Any) -> Any:
    """Jinja ``finalize``: bidi controls and NUL in a rendered string made visible."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return visible(value)
    return value


def write_html(ctx: Context, out: IO[bytes]) -> None:
    from oaa_concur.review.report import document

    data = Embedded()
    _people(ctx, data)
    _edges(ctx, data)
    _findings(ctx, data)
    doc = document(ctx)
    fig, side = ctx.figures, ctx.figures.side
    details = {
        key: _first(ctx.ws.side(table))
        for key, table in (
            ("delegations_out_of_window", "delegations"),
            ("unknown_references", "references"),
            ("approval_limits", "limits"),
            ("processor_report_access", "processors"),
        )
    }
    issues = ctx.source.issues()
    shown = {
        "people": (len(data.people), fig.users),
        "grants": (len(data.grants), fig.grants),
        "approvals": (len(data.approvals), side["approvers"]),
        "delegations": (len(data.delegations), side["delegates"]),
        "findings": (len(data.findings), ctx.counts.total),
    }
    env = Environment(
        loader=PackageLoader("oaa_concur.review", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        finalize=_visible_value,
    )
    env.filters["num"] = num
    env.filters["when"] = when
    chunks = env.get_template("report.html.j2").generate(
        c=doc,
        d=details,
        totals={
            "delegations": side["delegations"],
            "unknown_references": side["references"],
            "approval_limits": side["limits"],
            "processor_report_access": side["processors"],
        },
        issues=[{"kind": str(i.kind), "subject": i.subject, "detail": i.detail} for i in issues],
        shown=shown,
        rules_table=_rules(ctx, data),
        bounds={"people": PEOPLE_SHOWN, "per_rule": FINDINGS_PER_RULE, "rows": DETAIL_ROWS},
        severities=list(SEVERITIES),
        data=script_json(
            {
                "people": data.people,
                "roles": _roles(ctx),
                "grants": data.grants,
                "approvals": data.approvals,
                "delegations": data.delegations,
                "findings": data.findings,
                "shown": shown,
            }
        ),
    )
    for chunk in chunks:  # the page is never one string: the data block is the largest part
        out.write(chunk.encode("utf-8"))


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


def script_json(data: Any) -> Markup:
    """JSON safe inside <script type="application/json">: no "</script>" or "<!--" possible;
    bidi controls and NUL reach the page as the visible text ``\\u202e`` (``safetext``)."""
    text = orjson.dumps(data).decode()
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = _JSON_INVISIBLE.sub(_visible_json, text)
    return Markup(text)  # noqa: S704 - escaped above; this is data, not markup
