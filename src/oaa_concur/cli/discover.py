"""CLI command ``discover``: full discovery, payload file, snapshot and push (design.md §2.1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from oaa_concur.cli.options import common_options, runtime_of, settings_from
from oaa_concur.cli.output import result_record
from oaa_concur.cli.progress import progress_display
from oaa_concur.config import Secrets
from oaa_concur.summary import Summary, summarize
from oaa_concur.sync import SyncOptions, SyncOutcome, run_sync


def register(root: click.Group) -> None:
    @root.command("discover")
    @click.option(
        "--save-json",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="Write the OAA payload to this file (mode 0600).",
    )
    @click.option("--no-push", is_flag=True, help="Discover and record a snapshot, do not push.")
    @click.option("--dry-run", is_flag=True, help="Same as --no-push.")
    @click.option(
        "--allow-shrink",
        is_flag=True,
        default=None,
        help="Push even if the user count fell more than the limit.",
    )
    @click.option(
        "--max-shrink",
        type=float,
        default=None,
        help="Largest allowed drop in users against the last push (default 0.10).",
    )
    @click.option(
        "--run-deadline",
        "run_deadline_s",
        type=float,
        default=None,
        metavar="SECONDS",
        help="Fail the run if its Concur requests take longer than this (default: no limit).",
    )
    @common_options
    def discover(
        save_json: Path | None,
        no_push: bool,
        dry_run: bool,
        allow_shrink: bool | None,
        max_shrink: float | None,
        run_deadline_s: float | None,
        **kwargs: Any,
    ) -> None:
        """Discover Concur users and roles; record a snapshot; push to Veza."""
        settings = settings_from(
            kwargs, allow_shrink=allow_shrink, max_shrink=max_shrink, run_deadline_s=run_deadline_s
        )
        secrets = Secrets.from_env().register()
        options = SyncOptions(save_json=save_json, push=not (no_push or dry_run))
        if options.push:  # refused before discovery, not after it
            from oaa_concur.oaa.probe import check_settings

            check_settings(
                settings.veza_url,
                secrets.veza_api_key,
                provider_name=settings.provider_name,
                data_source_name=settings.data_source_name,
                ca_bundle=settings.ca_bundle,
            )
        with progress_display(log_format=settings.log_format) as display:
            outcome = run_sync(
                settings, secrets, options, progress=display.progress, runtime=runtime_of()
            )
        summary = summarize(outcome.result, warnings=len(outcome.warnings), seconds=outcome.seconds)
        click.echo(summary_output(summary, outcome, as_json=settings.log_format == "json"))


def summary_output(summary: Summary, outcome: SyncOutcome, *, as_json: bool) -> str:
    """The run's last line on stdout: the summary, the snapshot and whether it was pushed.

    JSON mode: one record (``event: summary``) with every figure of ``Summary.as_dict``,
    ``snapshot_id`` and ``pushed``; text: ``<figures>; snapshot 12; pushed to Veza.``"""
    if as_json:
        fields = {**summary.as_dict(), "snapshot_id": outcome.snapshot_id, "pushed": outcome.pushed}
        return result_record("run complete", fields, event="summary")
    where = "pushed to Veza" if outcome.pushed else "not pushed"
    return f"{summary.line()}; snapshot {outcome.snapshot_id}; {where}."
