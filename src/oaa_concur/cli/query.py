"""CLI commands ``access USER`` and ``who-can``: questions about one snapshot (issue 14).

Thin: parse the options, open the snapshot (``--snapshot``, default the latest) and call
``review.query``. Text by default, ``--format json`` with named fields. Every line of text is
one line of Concur's strings with control characters stripped (``safetext.one_line``), so a
display name cannot forge a line. An unknown or ambiguous USER is a ``ConfigError`` (exit 2).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, get_args

import click
import orjson

from oaa_concur.cli.options import as_of_time, common_options, open_store, settings_from
from oaa_concur.errors import ConfigError
from oaa_concur.review import query as q
from oaa_concur.review.rules import load_rules
from oaa_concur.review.store import SnapshotReader
from oaa_concur.safetext import one_line

QueryFormat = Literal["text", "json"]
QUERY_FORMATS: tuple[QueryFormat, ...] = get_args(QueryFormat)

_snapshot = click.option(
    "--snapshot", type=int, default=None, help="Snapshot id (default: latest)."
)
_format = click.option(
    "--format", "fmt", type=click.Choice(QUERY_FORMATS), default="text", show_default=True
)
_as_of_option = click.option(
    "--as-of", default=None, help="Judge dates (windows, terminations) as of this ISO date."
)


@contextmanager
def _reader(kwargs: dict[str, Any], snapshot: int | None) -> Iterator[SnapshotReader]:
    store = open_store(settings_from(kwargs))
    with store.read(store.resolve(snapshot).id) as reader:
        yield reader


def _day(value: datetime | None) -> str:
    return value.date().isoformat() if value else "-"


def _echo(text: str) -> None:
    click.echo(one_line(text))


@click.command("access")
@click.argument("user")
@_snapshot
@_format
@_as_of_option
@click.option("--rules", "rules_file", type=click.Path(path_type=Path), default=None)
@common_options
def access_command(
    user: str,
    snapshot: int | None,
    fmt: QueryFormat,
    as_of: str | None,
    rules_file: Path | None,
    **kwargs: Any,
) -> None:
    """What USER (email, login, employee number or id) can do, over whom, and their findings."""
    with _reader(kwargs, snapshot) as r:
        answer = q.access(r.db, r.snap, user, load_rules(rules_file), as_of_time(as_of))
    if fmt == "json":
        click.echo(q.json_text(answer.to_json()))
        return
    for line in access_lines(answer):
        _echo(line)


def access_lines(a: q.Access) -> Iterator[str]:
    """The text form of ``access``: one section per question."""
    p = a.person
    yield f"{p.name} ({p.id}) in snapshot {a.snapshot_id}"
    yield (
        f"  login {p.user_name or '-'}, email {p.email or '-'}, employee number "
        f"{p.employee_number or '-'}, {'active' if p.active else 'inactive'}, start "
        f"{_day(p.start_date)}, termination {_day(p.termination_date)}"
    )
    yield f"  department {p.department or '-'}, cost center {p.cost_center or '-'}"
    yield f"products: {', '.join(a.products) or 'none'}"
    yield f"Spend roles ({len(a.roles)}):"
    for role in a.roles:
        flag = " [privileged]" if role.privileged else ""
        yield f"  {role.role_code} ({role.name}){flag}: {role.scope}"
    yield from _approvals("approves the items of", a.approves)
    yield from _approvals("items approved by", a.approved_by)
    yield from _delegations("acts as delegate for", a.delegate_for)
    yield from _delegations("delegates acting for them", a.delegates)
    if a.approval_limits:
        yield "approval limits:"
        yield from (f"  {text}" for text in a.approval_limits)
    yield f"findings ({len(a.findings)}):"
    for f in a.findings:
        exempt = " (exempted)" if f.exemption else ""
        yield f"  {f.severity} {f.id}{exempt}: {f.explanation}"


def _approvals(title: str, edges: tuple[q.Approval, ...]) -> Iterator[str]:
    yield f"{title} ({len(edges)}):"
    for e in edges:
        primary = "" if e.primary else ", not primary"
        yield f"  {e.kind}{primary}: {e.other} ({e.other_id})"


def _delegations(title: str, edges: tuple[q.Delegation, ...]) -> Iterator[str]:
    yield f"{title} ({len(edges)}):"
    for e in edges:
        window = ""
        if e.temporary_from or e.temporary_to:
            window = f", {_day(e.temporary_from)} to {_day(e.temporary_to)}"
        flags = ", ".join(e.permissions) or "no rights"
        yield f"  {e.kind}: {e.other} ({e.other_id}): {flags}{window}, {e.state}"


@click.command("who-can", context_settings={"ignore_unknown_options": False})
@click.argument("what")
@click.argument("user", required=False)
@click.option("--kind", default=None, help="With `approve USER`: only this approver kind.")
@_snapshot
@_format
@_as_of_option
@common_options
def who_can_command(
    what: str,
    user: str | None,
    kind: str | None,
    snapshot: int | None,
    fmt: QueryFormat,
    as_of: str | None,
    **kwargs: Any,
) -> None:
    """`who-can approve USER [--kind K]`: who can approve USER's items, and why.
    `who-can ROLE_OR_PERMISSION`: every holder of a role code, permission or product."""
    with _reader(kwargs, snapshot) as r:
        if user is not None and what.lower() == "approve":
            _approvers(r, user, kind, fmt, as_of_time(as_of))
        elif user is not None:
            raise ConfigError(
                f"who-can {what} takes no user", "use `who-can approve USER` or `who-can ROLE`"
            )
        else:
            _holders(r, what, fmt)


def _approvers(
    r: SnapshotReader, user: str, kind: str | None, fmt: QueryFormat, now: datetime
) -> None:
    kinds = q.approver_kinds(r.db, r.snap)
    if kind is not None and kind not in kinds:
        raise ConfigError(
            f"--kind {kind!r} is not an approver kind of snapshot {r.snap}",
            f"use one of {', '.join(kinds)}",
        )
    person, found = q.who_can_approve(r.db, r.snap, user, kind, now)
    if fmt == "json":
        doc = {"snapshot_id": r.snap, "user_id": person.id, "user": person.name, "kind": kind}
        click.echo(q.json_text(doc | {"approvers": [asdict(a) for a in found]}))
        return
    what = f"{kind} items" if kind else "items"
    _echo(f"who can approve the {what} of {person.name} ({person.id}): {len(found)}")
    for a in found:
        status = "" if a.active else " [inactive]"
        _echo(f"  {a.kind}: {a.name} ({a.user_id}){status}: {a.reason}")


def _holders(r: SnapshotReader, what: str, fmt: QueryFormat) -> None:
    codes, products = q.role_codes_for(r.db, r.snap, what)
    holders = q.who_holds(r.db, r.snap, codes, products)
    if fmt == "json":
        _stream_json(r.snap, what, codes, products, holders)
        return
    _echo(f"holders of {what} in snapshot {r.snap} (roles: {', '.join(codes) or '-'}):")
    n = 0
    for n, h in enumerate(holders, 1):  # noqa: B007
        scope = ", ".join(h.scope) if h.scope else "company-wide"
        status = "" if h.active else " [inactive]"
        _echo(f"  {h.role_code}: {h.name} ({h.user_id}){status}: {scope}")
    _echo(f"{n} grants")


def _stream_json(
    snap: int, what: str, codes: list[str], products: list[str], holders: Iterator[q.Holder]
) -> None:
    """The holders as one JSON document written as it is read (a role everyone holds)."""
    head = {"snapshot_id": snap, "query": what, "role_codes": codes, "products": products}
    out = sys.stdout
    out.write(orjson.dumps(head).decode()[:-1] + ', "holders": [')
    for i, h in enumerate(holders):
        out.write(("," if i else "") + "\n  " + orjson.dumps(asdict(h)).decode())
    out.write("\n]}\n")


def register(root: click.Group) -> None:
    for command in (access_command, who_can_command):
        root.add_command(command)
