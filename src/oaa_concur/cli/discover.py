"""CLI command ``discover``: full discovery, payload file, snapshot and push (design.md §2.1).

Before the first Concur request the preflight runs (``preflight.run_preflight``: settings,
state directory, lock, the Concur app's credentials and, when pushing, Veza's URL, TLS, API
key and provider), then ``--save-json``'s path is checked; a failure there records nothing
(no snapshot, no payload file). The Concur refresh is discovery's own first request, before
any page, so a run does not refresh twice; its failure records nothing either.

``--no-push``: discover, write ``--save-json`` if given, record a snapshot, do not push.
``--dry-run``: discover and check everything a run would write, and keep none of it: no
snapshot (a private temporary store, deleted at exit), no payload file (``--save-json`` is
refused with it), no push. The state directory keeps only what it must not lose: the refresh
token Concur rotates on every refresh (``credentials.json``, under the lock).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from oaa_concur.cli.options import common_options, runtime_of, settings_from
from oaa_concur.cli.output import result_record
from oaa_concur.cli.progress import progress_display
from oaa_concur.config import Secrets, Settings
from oaa_concur.errors import ConfigError
from oaa_concur.phases import phase
from oaa_concur.preflight import check_payload_path, run_preflight
from oaa_concur.sync import SyncOptions, SyncOutcome, run_sync

if TYPE_CHECKING:
    from oaa_concur.oaa.push import PushOptions


def register(root: click.Group) -> None:
    @root.command("discover")
    @click.option(
        "--save-json",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="Write the OAA payload to this file (mode 0600).",
    )
    @click.option("--no-push", is_flag=True, help="Discover and record a snapshot, do not push.")
    @click.option(
        "--dry-run",
        is_flag=True,
        help="Discover and check, keep nothing: no snapshot, no payload file, no push.",
    )
    @click.option(
        "--retention",
        type=click.IntRange(min=0),
        default=None,
        metavar="N",
        help="Keep the newest N snapshots and the last pushed one (default 30; 0: keep all).",
    )
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
    @click.option(
        "--no-wait",
        is_flag=True,
        help="Do not wait for Veza to confirm that it parsed the push.",
    )
    @click.option(
        "--parse-timeout",
        "parse_timeout_s",
        type=click.FloatRange(min=0, min_open=True),
        default=None,
        metavar="SECONDS",
        help="How long to wait for Veza's parse of the push before failing (default 900).",
    )
    @click.option(
        "--part-size",
        "part_size_mb",
        type=click.FloatRange(min=0, min_open=True, max=75),
        default=None,
        metavar="MB",
        help="Part size of a multipart push; payloads over 50 MB go in parts (default 32).",
    )
    @common_options
    def discover(
        save_json: Path | None,
        no_push: bool,
        dry_run: bool,
        allow_shrink: bool | None,
        max_shrink: float | None,
        run_deadline_s: float | None,
        retention: int | None,
        no_wait: bool,
        parse_timeout_s: float | None,
        part_size_mb: float | None,
        **kwargs: Any,
    ) -> None:
        """Discover Concur users and roles; record a snapshot; push to Veza."""
        settings = settings_from(
            kwargs,
            allow_shrink=allow_shrink,
            max_shrink=max_shrink,
            run_deadline_s=run_deadline_s,
            retention=retention,
        )
        secrets = Secrets.from_env().register()
        if dry_run and save_json is not None:
            raise ConfigError(
                "--dry-run writes no file, so it cannot take --save-json",
                "use --no-push --save-json PATH to keep the payload (that records a snapshot)",
            )
        options = SyncOptions(
            save_json=save_json,
            push=not (no_push or dry_run),
            temporary_store=dry_run,
            push_options=_push_options(no_wait, parse_timeout_s, part_size_mb),
        )
        preflight(settings, secrets, options)
        with progress_display(log_format=settings.log_format) as display:
            outcome = run_sync(
                settings,
                secrets,
                options,
                progress=display.progress,
                phases=display.phase,
                runtime=runtime_of(),
            )
        click.echo(summary_output(outcome, as_json=settings.log_format == "json"))


def preflight(settings: Settings, secrets: Secrets, options: SyncOptions) -> None:
    """Everything that can be checked before the first Concur request; raise the first
    failure's own error (its exit code: 2 configuration, 3 lock, 1 Veza unreachable)."""
    with phase("preflight") as step:
        checks = run_preflight(
            settings,
            secrets,
            refresh=False,
            veza=options.push,
            history=False,
            runtime=runtime_of(),
        )
        checks.raise_for_failure()
        if options.save_json is not None:
            check_payload_path(options.save_json)
        step.count(checks=len(checks.checks), warnings=checks.counts()["warn"])


def summary_output(outcome: SyncOutcome, *, as_json: bool) -> str:
    """The run's last line on stdout: the summary, the snapshot and whether it was pushed.

    JSON mode: one record (``event: summary``) with every figure of ``Summary.as_dict``,
    ``snapshot_id`` and ``pushed``; text: ``<figures>; snapshot 12; pushed to Veza.``"""
    summary = outcome.summary()
    snapshot_id = outcome.snapshot_id if outcome.recorded else None
    if as_json:
        fields = {**summary.as_dict(), "snapshot_id": snapshot_id, "pushed": outcome.pushed}
        return result_record("run complete", fields, event="summary")
    where = "pushed to Veza" if outcome.pushed else "not pushed"
    recorded = f"snapshot {snapshot_id}" if outcome.recorded else "dry run, no snapshot"
    return f"{summary.line()}; {recorded}; {where}."


def _push_options(
    no_wait: bool, timeout_s: float | None, part_size_mb: float | None
) -> PushOptions:
    """The push's options from the command line (imported here: oaaclient loads only when a
    command pushes)."""
    from oaa_concur.oaa.confirm import WaitPolicy
    from oaa_concur.oaa.push import PushOptions

    options = PushOptions()
    if part_size_mb is not None:
        options = dataclasses.replace(options, part_size=max(1, round(part_size_mb * 1e6)))
    if no_wait:
        return dataclasses.replace(options, wait=None)
    if timeout_s is not None:
        options = dataclasses.replace(options, wait=WaitPolicy(timeout_s=timeout_s))
    return options
