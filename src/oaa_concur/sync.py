"""The orchestrator of one run: discover, check, write the payload, record a snapshot, push.

Order matters and is the product's promise (design.md §3.3):

1. discovery reads everything or raises (``IncompleteDiscovery``): nothing below runs;
2. the OAA application is built from the one in-memory ``DiscoveryResult``;
3. ``--save-json`` writes the payload (mode 0600) only after a complete discovery;
4. the shrink guard compares the user count with the last *pushed* snapshot (so a refused
   run cannot become the new baseline and let the next one through);
5. the snapshot is recorded (every complete discovery is kept for review and diff);
6. the push, then the snapshot is marked as pushed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oaa_concur.config import Secrets, Settings
from oaa_concur.errors import ConfigError, PushRefused
from oaa_concur.models import DiscoveryResult
from oaa_concur.runtime import Runtime

LOG = logging.getLogger(__name__)
Progress = Callable[[str, int, int | None], None]


@dataclass(frozen=True)
class SyncOptions:
    save_json: Path | None = None
    push: bool = True


@dataclass
class SyncOutcome:
    result: DiscoveryResult
    snapshot_id: int | None = None
    payload_path: Path | None = None
    pushed: bool = False
    warnings: list[str] = field(default_factory=list)
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


def run_sync(
    settings: Settings,
    secrets: Secrets,
    options: SyncOptions,
    *,
    progress: Progress | None = None,
    discover: Callable[..., DiscoveryResult] | None = None,
    runtime: Runtime | None = None,
) -> SyncOutcome:
    """Run one discovery and everything after it; raise an ``OaaConcurError`` on failure."""
    from oaa_concur import oaa
    from oaa_concur.concur.discovery import run_discovery
    from oaa_concur.review.snapshot import SnapshotStore

    started = time.monotonic()
    if options.push:
        _require_veza(settings, secrets)
    result = (discover or run_discovery)(
        settings, secrets, progress=progress, runtime=runtime or Runtime()
    )
    app = oaa.build_application(result)
    outcome = SyncOutcome(result=result)
    if options.save_json is not None:
        oaa.save_payload(app, options.save_json)
        outcome.payload_path = options.save_json
    store = SnapshotStore(settings.state_dir, retention=settings.retention)
    baseline = store.last_pushed_user_count(result.company.id) if options.push else None
    outcome.snapshot_id = store.record(result)
    if options.push:
        check_shrink(baseline, len(result.users), settings)
        outcome.warnings = _push(app, settings, secrets, result, runtime)
        store.mark_pushed(outcome.snapshot_id)
        outcome.pushed = True
    outcome.seconds = time.monotonic() - started
    return outcome


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
    runtime: Runtime | None,
) -> list[str]:
    from oaa_concur import oaa

    assert settings.veza_url is not None and secrets.veza_api_key is not None
    kwargs: dict[str, Any] = {
        "veza_url": settings.veza_url,
        "api_key": secrets.veza_api_key,
        "provider_name": settings.provider_name,
        "data_source_name": data_source_name(settings, result),
        "ca_bundle": settings.ca_bundle,
        "timeout_s": settings.timeout_s,  # else oaaclient waits 300 s for a silent Veza, 5 times
        "runtime": runtime or Runtime(),
    }
    warnings: list[str] = oaa.push(app, **kwargs)
    return warnings
