"""CLI commands ``report``, ``diff`` and ``snapshots``: the access review without Veza (§2.1).

Thin: each command resolves settings, opens the snapshot store and calls ``report``, ``diff``
or ``findings``. Findings never change the exit code unless ``--fail-on`` asks (§2.3).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import orjson
from rich.console import Console
from rich.table import Table

from oaa_concur.cli import common_options, settings_from
from oaa_concur.errors import ConfigError
from oaa_concur.review.diff import diff, render_text
from oaa_concur.review.findings import at_or_above, find, summary_line
from oaa_concur.review.report import FORMATS, build, render
from oaa_concur.review.rules import SEVERITIES, load_rules
from oaa_concur.review.snapshot import SnapshotInfo, SnapshotStore
from oaa_concur.state.files import write_private


def _store(kwargs: dict[str, Any]) -> SnapshotStore:
    settings = settings_from(kwargs)
    return SnapshotStore(settings.state_dir, retention=settings.retention)


def _require(store: SnapshotStore) -> int:
    latest = store.latest_id()
    if latest is None:
        raise ConfigError(
            f"No snapshot in {store.state_dir} yet",
            "run `oaa-concur discover` or `oaa-concur demo` first",
        )
    return latest


def _info(store: SnapshotStore, snap_id: int) -> SnapshotInfo:
    for info in store.list():
        if info.id == snap_id:
            return info
    raise ConfigError(
        f"There is no snapshot {snap_id} in {store.path}", "list them with `oaa-concur snapshots`"
    )


def _as_of(text: str | None) -> datetime:
    """``--as-of``: an ISO date or datetime (UTC when no offset); default now."""
    if text is None:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"--as-of {text!r} is not an ISO date or datetime",
            "use e.g. 2025-06-30 or 2025-06-30T12:00:00+00:00",
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def report_cmd(
    fmt: str,
    out: Path | None,
    snapshot: int | None,
    rules_file: Path | None,
    fail_on: str | None,
    as_of: str | None,
    store: SnapshotStore,
) -> None:
    snap_id = snapshot if snapshot is not None else _require(store)
    info = _info(store, snap_id)
    rules = load_rules(rules_file)
    result = store.load(snap_id)
    now = _as_of(as_of)
    findings = find(result, rules, now=now)
    text = render(build(result, findings, now=now, rules=rules, snapshot=info), fmt)
    if out is not None and str(out) == "-":
        sys.stdout.write(text)
    else:
        path = out or Path(f"oaa-concur-report-{snap_id}.{fmt}")
        write_private(path, text)
        click.echo(f"report: {path} (snapshot {snap_id}); {summary_line(findings)}", err=True)
    failing = at_or_above(findings, fail_on) if fail_on else []
    if failing:
        click.echo(
            f"error: {len(failing)} findings at or above {fail_on} "
            f"(first: {failing[0].id}); see the report.",
            err=True,
        )
        sys.exit(1)


def diff_cmd(old: int | None, new: int | None, fmt: str, store: SnapshotStore) -> None:
    new = _require(store) if new is None else new
    if old is None:
        old = store.previous(new)
        if old is None:
            raise ConfigError(
                f"Snapshot {new} is the only one in {store.state_dir}",
                "run discovery again, then diff",
            )
    for snap_id in (old, new):
        _info(store, snap_id)
    before, after = store.load(old), store.load(new)
    changes = diff(before, after)
    if fmt == "json":
        doc = {"old": old, "new": new, **changes.to_json()}
        click.echo(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode())
        return
    names = {u.id: u.name for u in [*before.users, *after.users]}
    click.echo(f"snapshot {old} -> {new}")
    click.echo(render_text(changes, names))


def snapshots_cmd(store: SnapshotStore) -> None:
    infos = store.list()
    if not infos:
        click.echo(f"No snapshots in {store.state_dir} yet.")
        return
    table = Table(title=f"Snapshots in {store.path}")
    for col in (
        "id",
        "taken at (UTC)",
        "company",
        "users",
        "spend grants",
        "issues",
        "duration",
        "pushed",
    ):
        table.add_column(
            col,
            justify="right" if col in ("id", "users", "spend grants") else "left",
            no_wrap=col != "company",
        )
    for i in infos:
        table.add_row(
            str(i.id),
            i.taken_at.strftime("%Y-%m-%d %H:%M:%S"),
            i.company_name or i.company_id,
            str(i.user_count),
            str(i.grant_count),
            str(i.issue_count),
            f"{i.duration_s:.1f} s" if i.duration_s else "",
            "yes" if i.pushed_at else "",
        )
    # Piped output (cron mail, a file) gets a fixed width instead of rich's 80-column default.
    Console(width=None if sys.stdout.isatty() else 160).print(table)


def register(root: click.Group) -> None:
    @root.command("report")
    @click.option("--format", "fmt", type=click.Choice(FORMATS), default="html", show_default=True)
    @click.option(
        "--out",
        type=click.Path(path_type=Path),
        default=None,
        help="Output file ('-' = stdout); default ./oaa-concur-report-<id>.<format>.",
    )
    @click.option("--snapshot", type=int, default=None, help="Snapshot id (default: latest).")
    @click.option(
        "--rules",
        "rules_file",
        type=click.Path(path_type=Path),
        default=None,
        help="TOML file with extra SoD rules and exemptions (docs/review.md).",
    )
    @click.option(
        "--fail-on",
        type=click.Choice(SEVERITIES),
        default=None,
        help="Exit 1 when a finding of this severity or worse is not exempted.",
    )
    @click.option(
        "--as-of",
        default=None,
        help="Judge dates (terminations, exemptions) as of this ISO date; default now.",
    )
    @common_options
    def report(
        fmt: str,
        out: Path | None,
        snapshot: int | None,
        rules_file: Path | None,
        fail_on: str | None,
        as_of: str | None,
        **kwargs: Any,
    ) -> None:
        """Write the access review (findings, grants) of the latest or a given snapshot."""
        report_cmd(fmt, out, snapshot, rules_file, fail_on, as_of, _store(kwargs))

    @root.command("diff")
    @click.argument("old", type=int, required=False)
    @click.argument("new", type=int, required=False)
    @click.option(
        "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
    )
    @common_options
    def diff_command(old: int | None, new: int | None, fmt: str, **kwargs: Any) -> None:
        """Changes between two snapshots (default: the last two; one id: that one vs latest)."""
        diff_cmd(old, new, fmt, _store(kwargs))

    @root.command("snapshots")
    @common_options
    def snapshots(**kwargs: Any) -> None:
        """List the recorded snapshots."""
        snapshots_cmd(_store(kwargs))
