"""The orchestrator of one run: discover, check, write the payload, record a snapshot, push.

Order matters and is the product's promise (design.md §3.3):

1. discovery reads everything or raises (``IncompleteDiscovery``): nothing below runs;
2. the OAA application is built from the one in-memory ``DiscoveryResult``; the data issues
   the mapping found (over-long strings, unknown role codes) join the result's own here, so
   the snapshot and the summary count them (the builder only reports them, design.md §3.7);
3. ``--save-json`` writes the payload (mode 0600) only after a complete discovery;
4. the shrink guard compares the user count with the last *pushed* snapshot (so a refused
   run cannot become the new baseline and let the next one through);
5. the snapshot is recorded (every complete discovery is kept for review and diff);
6. the push, then the snapshot is marked as pushed.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from oaa_concur.config import Secrets, Settings
from oaa_concur.errors import ConfigError, PushRefused
from oaa_concur.models import DataIssue, DiscoveryResult, ProgressCallback
from oaa_concur.runtime import DEFAULT, Runtime

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncOptions:
    save_json: Path | None = None
    """Where to write the OAA payload (mode 0600); None: nowhere."""
    push: bool = True


@dataclass(frozen=True)
class SyncOutcome:
    """What one run did: the result (with the mapping's data issues), its snapshot, the push."""

    result: DiscoveryResult
    snapshot_id: int
    pushed: bool = False
    warnings: list[str] = field(default_factory=list)
    """Veza's warnings about the pushed payload."""
    seconds: float = 0.0


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


def data_source_name(settings: Settings, result: DiscoveryResult) -> str:
    return settings.data_source_name or f"Concur - {result.company.id}"


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
    runtime: Runtime = DEFAULT,
) -> SyncOutcome:
    """Run one discovery and everything after it; raise an ``OaaConcurError`` on failure."""
    from oaa_concur import oaa
    from oaa_concur.concur.discovery import run_discovery
    from oaa_concur.review.snapshot import SnapshotStore

    started = time.monotonic()
    if options.push:
        _require_veza(settings, secrets)
    result = run_discovery(settings, secrets, progress=progress, runtime=runtime)
    built = oaa.build_application(result)
    result = with_issues(result, built.issues)
    if options.save_json is not None:
        oaa.save_payload(built.app, options.save_json)
    store = SnapshotStore(settings.state_dir, retention=settings.retention)
    baseline = store.last_pushed_user_count(result.company.id) if options.push else None
    snapshot_id = store.record(result)
    if not options.push:
        return SyncOutcome(result, snapshot_id, seconds=time.monotonic() - started)
    check_shrink(baseline, len(result.users), settings)
    warnings = _push(built.app, settings, secrets, result, runtime)
    store.mark_pushed(snapshot_id)
    return SyncOutcome(result, snapshot_id, True, warnings, time.monotonic() - started)


def _require_veza(settings: Settings, secrets: Secrets) -> None:
    if not settings.veza_url:
        raise ConfigError("No Veza URL is set", "set VEZA_URL or --veza-url, or run with --no-push")
    if not secrets.veza_api_key:
        raise ConfigError("VEZA_API_KEY is not set", "export it, or run with --no-push")


def _push(
    app: object,
    settings: Settings,
    secrets: Secrets,
    result: DiscoveryResult,
    runtime: Runtime,
) -> list[str]:
    from oaa_concur import oaa

    assert settings.veza_url is not None and secrets.veza_api_key is not None
    return oaa.push(
        app,
        veza_url=settings.veza_url,
        api_key=secrets.veza_api_key,
        provider_name=settings.provider_name,
        data_source_name=data_source_name(settings, result),
        ca_bundle=settings.ca_bundle,
        timeout_s=settings.timeout_s,  # else oaaclient waits 300 s for a silent Veza, 5 times
        runtime=runtime,
    )
