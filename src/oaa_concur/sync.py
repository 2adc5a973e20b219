"""The orchestrator of one run: discover into the store, write the payload, record, push.

Order matters and is the product's promise (design.md §3.3):

1. discovery writes every page into a *pending* snapshot of the store as it arrives
   (``review.spool``) and joins it there; a page that cannot be read raises
   (``IncompleteDiscovery``), the pending rows are deleted, and nothing below runs;
2. the OAA payload is written as a stream from the store (``oaa.stream.save_stored``: one user
   at a time, memory bounded) to ``--save-json``'s path or, when pushing without it, to a
   private file in the state directory that is deleted after the push; the data issues the
   mapping found (over-long strings, unknown role codes) join discovery's;
3. the snapshot is completed (its issues and figures written, its status flipped in one
   transaction): every complete discovery is kept for review and diff;
4. the shrink guard compares the user count with the last *pushed* snapshot (so a refused
   run cannot become the new baseline and let the next one through);
5. the push from the payload file (in parts when it is large), then the wait until Veza
   parsed it (unless ``--no-wait``), then the snapshot is marked as pushed. A failed or
   unconfirmed parse leaves the snapshot unmarked (exit 1).

``SyncOptions.temporary_store`` spools into a private temporary store instead of the state
directory's (``--dry-run``: deleted at exit, so nothing is recorded).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from oaa_concur.config import Secrets, Settings
from oaa_concur.errors import ConfigError, PushRefused
from oaa_concur.models import (
    Company,
    DataIssue,
    DiscoveryResult,
    PhaseCallback,
    ProgressCallback,
    RunStats,
)
from oaa_concur.phases import phase
from oaa_concur.runtime import DEFAULT, Runtime
from oaa_concur.summary import Summary, figure_fields

if TYPE_CHECKING:
    from oaa_concur.oaa import PushOptions, PushResult
    from oaa_concur.review.snapshot import SnapshotStore
    from oaa_concur.review.store import Figures

LOG = logging.getLogger(__name__)
PUSH_FILE = "pending-payload.json"
"""The payload of a push without ``--save-json``, in the state directory (0600), deleted after
the push; a run that crashed leaves it for the next run to replace."""


@dataclass(frozen=True)
class SyncOptions:
    save_json: Path | None = None
    """Where to write the OAA payload (mode 0600); None: nowhere."""
    push: bool = True
    push_options: PushOptions | None = None
    """Part size and parse wait of the push (None: the defaults)."""
    temporary_store: bool = False
    """Spool into a private temporary store (deleted at exit): nothing is recorded."""


@dataclass(frozen=True)
class SyncOutcome:
    """What one run did: the company, its snapshot and figures, the issues, the push."""

    company: Company
    snapshot_id: int
    figures: Figures
    issues: list[DataIssue]
    """The data issues recorded (the first 1,000 per kind, then one count per kind)."""
    stats: RunStats | None = None
    pushed: bool = False
    warnings: list[str] = field(default_factory=list)
    """Veza's warnings about the pushed payload."""
    seconds: float = 0.0
    push: PushResult | None = None
    """What Veza said about the push (None: not pushed)."""
    recorded: bool = True
    """False for a run into a temporary store (``--dry-run``)."""

    def summary(self) -> Summary:
        """The one-line summary of the run, from the snapshot's figures (``review.store``)."""
        stats = self.stats
        fields = figure_fields(self.figures)
        return Summary(
            users=fields["users"],
            active=fields["active"],
            roles=fields["roles"],
            grants=fields["grants"],
            spend_grants=fields["spend_grants"],
            data_issues=fields["data_issues"],
            warnings=len(self.warnings) if self.pushed else None,
            requests=stats.requests if stats else 0,
            seconds=self.seconds,
            token_requests=stats.token_requests if stats else 0,
            identity_pages=stats.identity_pages if stats else 0,
            spend_pages=stats.spend_pages if stats else 0,
            deprecations=stats.deprecations if stats else (),
        )


def check_shrink(previous: int | None, current: int, settings: Settings) -> None:
    """Refuse a push whose user count fell by more than ``settings.max_shrink``."""
    if previous is None or previous == 0 or settings.allow_shrink:
        return
    drop = (previous - current) / previous
    if drop > settings.max_shrink:
        raise PushRefused(
            f"Refusing to push: Concur returned {current} users, {drop:.0%} fewer than the "
            f"{previous} of the last pushed snapshot (limit {settings.max_shrink:.0%})",
            "if the drop is real, run again with --allow-shrink",
        )


def data_source_name(settings: Settings, company: Company) -> str:
    return settings.data_source_name or f"Concur - {company.id}"


def with_issues(result: DiscoveryResult, found: Sequence[DataIssue]) -> DiscoveryResult:
    """``result`` with ``found`` after its own issues (a copy; the same object when none)."""
    if not found:
        return result
    return dataclasses.replace(result, issues=[*result.issues, *found])


def run_sync(
    settings: Settings,
    secrets: Secrets,
    options: SyncOptions,
    *,
    progress: ProgressCallback | None = None,
    phases: PhaseCallback | None = None,
    runtime: Runtime = DEFAULT,
) -> SyncOutcome:
    """Run one discovery and everything after it; raise an ``OaaConcurError`` on failure.

    Each phase logs one INFO record with its counts and duration (``phases.phase``); the ones
    after fetching show a spinner through ``phases``."""
    from oaa_concur.concur.discovery import discover_to_spool
    from oaa_concur.oaa.stream import save_stored

    started = time.monotonic()
    if options.push:
        _require_veza(settings, secrets)
    with _store(settings, options) as store, store.spool(progress) as spool:
        with phase("discovering Concur") as step:
            found = discover_to_spool(spool, settings, secrets, runtime=runtime)
            step.count(**_fetched(found.stats))
        company, now = found.company, found.stats.started_at
        with _payload_path(settings, options) as path:
            with phase(_payload_phase(path), phases) as step:
                written, mapped = save_stored(spool, company, now, path)
                if written is not None:
                    step.count(users=written.users, bytes=written.size)
                step.count(mapping_issues=len(mapped))
            issues = spool.issues() + mapped
            with phase(_record_phase(options), phases) as step:
                figures = spool.complete(company, found.stats, mapped)
                step.count(**figure_fields(figures))
            outcome = SyncOutcome(
                company,
                spool.snap,
                figures,
                issues,
                found.stats,
                recorded=not options.temporary_store,
            )
            if not options.push or path is None:
                return dataclasses.replace(outcome, seconds=time.monotonic() - started)
            baseline = store.last_pushed_user_count(company.id)
            check_shrink(baseline, figures.users, settings)
            with phase("pushing to Veza", phases) as step:
                pushed = _push(path, settings, secrets, company, options, runtime)
                step.count(bytes=pushed.payload_bytes, parts=pushed.parts)
    store.mark_pushed(outcome.snapshot_id)
    seconds = time.monotonic() - started
    return dataclasses.replace(
        outcome, pushed=True, warnings=pushed.warnings, seconds=seconds, push=pushed
    )


def _fetched(stats: RunStats) -> dict[str, int]:
    return {
        "identity_pages": stats.identity_pages,
        "spend_pages": stats.spend_pages,
        "requests": stats.requests,
        "retries": stats.retries,
    }


def _payload_phase(path: Path | None) -> str:
    return "mapping the OAA payload" if path is None else "writing the OAA payload"


def _record_phase(options: SyncOptions) -> str:
    if options.temporary_store:
        return "checking the snapshot (dry run: not recorded)"
    return "recording the snapshot"


@contextlib.contextmanager
def _store(settings: Settings, options: SyncOptions) -> Iterator[SnapshotStore]:
    """The state directory's store, or a private temporary one (0700, deleted at exit)."""
    from oaa_concur.review.snapshot import SnapshotStore

    if not options.temporary_store:
        yield SnapshotStore(settings.state_dir, retention=settings.retention)
        return
    with tempfile.TemporaryDirectory(prefix="oaa-concur-dry-run-") as tmp:
        yield SnapshotStore(Path(tmp))


@contextlib.contextmanager
def _payload_path(settings: Settings, options: SyncOptions) -> Iterator[Path | None]:
    """``--save-json``'s path (kept), else a private file in the state directory when pushing
    (deleted afterwards, whatever happened), else None: no file at all."""
    if options.save_json is not None:
        yield options.save_json
        return
    if not options.push:
        yield None
        return
    path = settings.state_dir / PUSH_FILE
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def _require_veza(settings: Settings, secrets: Secrets) -> None:
    if not settings.veza_url:
        raise ConfigError("No Veza URL is set", "set VEZA_URL or --veza-url, or run with --no-push")
    if not secrets.veza_api_key:
        raise ConfigError("VEZA_API_KEY is not set", "export it, or run with --no-push")


def _push(
    path: Path,
    settings: Settings,
    secrets: Secrets,
    company: Company,
    options: SyncOptions,
    runtime: Runtime,
) -> PushResult:
    from oaa_concur import oaa

    assert settings.veza_url is not None and secrets.veza_api_key is not None
    return oaa.push(
        path,
        veza_url=settings.veza_url,
        api_key=secrets.veza_api_key,
        provider_name=settings.provider_name,
        data_source_name=data_source_name(settings, company),
        ca_bundle=settings.ca_bundle,
        timeout_s=settings.timeout_s,  # else oaaclient waits 300 s for a silent Veza, 5 times
        runtime=runtime,
        options=options.push_options,
    )
