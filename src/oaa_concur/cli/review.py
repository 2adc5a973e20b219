"""CLI commands ``report``, ``diff`` and ``snapshots``: the access review without Veza (§2.1).

Thin: each command parses its options, opens the snapshot store and calls the review package
(``report_snapshot``, ``open_diff``, ``SnapshotStore.list``). Findings never change the
exit code unless ``--fail-on`` asks (design.md §2.3).

What reaches the terminal holds Concur's strings (display names, company names): raw escapes
and other control characters are stripped (``safetext``) and, in rich tables, markup such as
``[link=...]`` is escaped, so a name cannot recolour, hide or rewrite the screen.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from oaa_concur.cli.options import (
    as_of_time,
    common_options,
    open_store,
    settings_from,
    text_or_json,
)
from oaa_concur.cli.output import result_record
from oaa_concur.errors import ConfigError, FindingsFailed
from oaa_concur.review.decisions import evidence, import_decisions, write_evidence_csv
from oaa_concur.review.diff import DIFF_FORMATS, FAIL_ON, RISKY, DiffFormat, FailOn, open_diff
from oaa_concur.review.query import json_text
from oaa_concur.review.report import FORMATS, Format, ReportOutcome, report_snapshot
from oaa_concur.review.rules import SEVERITIES, Severity, load_rules
from oaa_concur.review.snapshot import SnapshotInfo, SnapshotStore
from oaa_concur.review.tables import TABLES
from oaa_concur.review.tables import Table as ReportTable
from oaa_concur.safetext import one_line, terminal
from oaa_concur.summary import FIGURES, figure_fields

_FIGURES = tuple(name.replace("_", " ") for name in FIGURES)
"""The figure columns, under the names the discover summary and the report use."""
_COLUMNS = ("id", "taken at (UTC)", "company", *_FIGURES, "duration")
_RIGHT = {"id", *_FIGURES}


def _store(kwargs: dict[str, Any]) -> SnapshotStore:
    return open_store(settings_from(kwargs))


def _target(out: Path | None) -> Path | TextIO | None:
    """``--out``: a file, ``-`` for stdout, or None for the default file name."""
    return sys.stdout if out is not None and str(out) == "-" else out


def _tell(outcome: ReportOutcome, fail_on: Severity | None, *, as_json: bool = False) -> None:
    """Where the report went (a JSON record in JSON mode), then ``FindingsFailed`` (exit 5)
    if findings at or above ``--fail-on`` are open."""
    if outcome.path is not None and as_json:
        fields = {"path": str(outcome.path), "snapshot_id": outcome.snapshot_id}
        click.echo(
            result_record("report written", {**fields, "summary": outcome.summary}), err=True
        )
    elif outcome.path is not None:
        click.echo(
            one_line(f"report: {outcome.path} (snapshot {outcome.snapshot_id}); {outcome.summary}"),
            err=True,
        )
    failing, first = outcome.failing(fail_on)
    if failing:
        raise FindingsFailed(
            f"{failing} findings at or above {fail_on} (first: {first})",
            "see the report",
        )


def _csv_table(fmt: Format, table: ReportTable | None) -> ReportTable:
    """``--table`` names the one table a CSV holds; the other formats hold them all."""
    if table is not None and fmt != "csv":
        raise ConfigError(
            f"--table applies to --format csv only ({fmt} holds every table)",
            "drop --table, or add --format csv",
        )
    return table or "grants"


def cell(text: str) -> str:
    """A rich table cell from untrusted text: one line, no control characters, markup escaped."""
    return escape(one_line(text))


def _table(store: SnapshotStore, infos: list[SnapshotInfo]) -> Table:
    table = Table(title=cell(f"Snapshots in {store.path}"))
    for col in (*_COLUMNS, "pushed"):
        table.add_column(
            col, justify="right" if col in _RIGHT else "left", no_wrap=col != "company"
        )
    for i in infos:
        table.add_row(
            str(i.id),
            i.taken_at.strftime("%Y-%m-%d %H:%M:%S"),
            cell(i.company_name or i.company_id),
            *(str(value) for value in _figures_of(i).values()),
            f"{i.duration_s:.1f} s" if i.duration_s else "",
            "yes" if i.pushed_at else "",
        )
    return table


def _figures_of(info: SnapshotInfo) -> dict[str, int]:
    """The snapshot's figures under ``summary.FIGURES``' names (the store's, as the discover
    summary shows them)."""
    assert info.figures is not None  # the listing fills them (stored, or counted)
    return figure_fields(info.figures)


def _snapshot_record(info: SnapshotInfo) -> dict[str, object]:
    """One snapshot for ``snapshots --format json`` (times in ISO 8601, UTC), its figures
    under the names of the discover summary."""
    return {
        "id": info.id,
        "taken_at": info.taken_at.isoformat(),
        "company_id": info.company_id,
        "company_name": info.company_name,
        **_figures_of(info),
        "duration_s": info.duration_s,
        "pushed_at": info.pushed_at.isoformat() if info.pushed_at else None,
    }


def _snapshots_json(store: SnapshotStore) -> None:
    """One JSON object on one line: ``{"store": path, "snapshots": [...oldest first]}``."""
    infos = store.list()
    document = {"store": str(store.path), "snapshots": [_snapshot_record(i) for i in infos]}
    click.echo(json.dumps(document, ensure_ascii=False))


def _snapshots(store: SnapshotStore) -> None:
    infos = store.list()
    if not infos:
        click.echo(one_line(f"No snapshots in {store.state_dir} yet."))
        return
    # Piped output (cron mail, a file) gets a fixed width instead of rich's 80-column default.
    Console(width=None if sys.stdout.isatty() else 160).print(_table(store, infos))


@click.command("report")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="html", show_default=True)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Output file ('-' = stdout); default ./oaa-concur-report-<id>.<format>.",
)
@click.option("--snapshot", type=int, default=None, help="Snapshot id (default: latest).")
@click.option(
    "--table",
    type=click.Choice(TABLES),
    default=None,
    help="With --format csv: the table to write (default grants; XLSX and JSON hold all).",
)
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
    help="Exit 5 when a finding of this severity or worse is not exempted.",
)
@click.option(
    "--as-of",
    default=None,
    help="Judge dates (terminations, exemptions) as of this ISO date; default now.",
)
@common_options
def report(
    fmt: Format,
    out: Path | None,
    snapshot: int | None,
    table: ReportTable | None,
    rules_file: Path | None,
    fail_on: Severity | None,
    as_of: str | None,
    **kwargs: Any,
) -> None:
    """Write the access review (findings, grants, approvers, delegates) of a snapshot."""
    settings = settings_from(kwargs)
    store, now, which = open_store(settings), as_of_time(as_of), _csv_table(fmt, table)
    outcome = report_snapshot(
        store,
        _target(out),
        fmt,
        snapshot_id=snapshot,
        rules=load_rules(rules_file),
        now=now,
        table=which,
    )
    _tell(outcome, fail_on, as_json=settings.log_format == "json")


@click.command("diff")
@click.argument("old", type=int, required=False)
@click.argument("new", type=int, required=False)
@click.option("--format", "fmt", type=click.Choice(DIFF_FORMATS), default="text", show_default=True)
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    multiple=True,
    help="Exit 5 when the diff has this risky change (repeatable).",
)
@click.option(
    "--rules",
    "rules_file",
    type=click.Path(path_type=Path),
    default=None,
    help="TOML file with extra SoD rules (for the new-conflict check).",
)
@common_options
def diff_command(
    old: int | None,
    new: int | None,
    fmt: DiffFormat,
    fail_on: tuple[FailOn, ...],
    rules_file: Path | None,
    **kwargs: Any,
) -> None:
    """Changes between two snapshots (default: the last two; one id: that one vs latest)."""
    with open_diff(_store(kwargs), old, new, load_rules(rules_file)) as changes:
        if fmt == "json":
            summary = changes.write_json(sys.stdout, clean=terminal)
        else:
            # a display name with a newline must not forge a line of the text diff
            summary = changes.write_text(sys.stdout, clean=lambda line: terminal(one_line(line)))
    failing = [(c, summary[RISKY[c]]) for c in fail_on if summary[RISKY[c]]]
    if failing:
        what = ", ".join(f"{n} {c}" for c, n in failing)
        raise FindingsFailed(f"The diff has risky changes ({what})", "see its sections")


@click.command("snapshots")
@text_or_json("one JSON object (the store and every snapshot) on one line")
@common_options
def snapshots(fmt: str, **kwargs: Any) -> None:
    """List the recorded snapshots."""
    store = _store(kwargs)
    if fmt == "json":
        _snapshots_json(store)
    else:
        _snapshots(store)


def register(root: click.Group) -> None:
    for command in (report, diff_command, snapshots, review_group):
        root.add_command(command)


# -- issue 14: reviewers' decisions (review.decisions) -----------------------------------------


@click.group("review")
def review_group() -> None:
    """Record reviewers' decisions and export the evidence of what became of them."""


@review_group.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@common_options
def review_import(file: Path, **kwargs: Any) -> None:
    """Record the keep/revoke decisions of a review CSV or XLSX against its snapshot."""
    result = import_decisions(_store(kwargs), file, datetime.now(UTC))
    for error in result.errors:
        click.echo(one_line(f"{file}:{error.line}: {error.message}"), err=True)
    if result.error_count:
        raise ConfigError(
            f"{result.error_count} rows of {file} are invalid, so no decision was recorded",
            "fix the rows listed above and import the file again",
        )
    click.echo(
        f"recorded {result.recorded} decisions ({result.skipped} rows without a decision)",
        err=True,
    )


@review_group.command("evidence")
@click.option("--format", "fmt", type=click.Choice(("csv", "json")), default="csv")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="File; default stdout.")
@common_options
def review_evidence(fmt: str, out: Path | None, **kwargs: Any) -> None:
    """Every decision, its reviewer and dates and, for a revoke, whether Concur carried it out."""
    rows = evidence(_store(kwargs))
    with _output(out) as stream:
        if fmt == "csv":
            write_evidence_csv(rows, stream)
        else:
            stream.write(json_text({"decisions": list(rows)}) + "\n")


@contextmanager
def _output(out: Path | None) -> Iterator[TextIO]:
    if out is None or str(out) == "-":
        yield sys.stdout
        return
    with out.open("w", encoding="utf-8", newline="") as f:
        yield f
