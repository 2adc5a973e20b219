"""The orchestrator of one run: discover, check, write the payload, record a snapshot, push.

Order matters and is the product's promise (design.md §3.3):

1. discovery reads everything or raises (``IncompleteDiscovery``): nothing below runs;
2. the OAA payload is written as a stream (``oaa.stream``: one user at a time, no object
   graph) to ``--save-json``'s path, or, when pushing without it, to a private file in the
   state directory that is deleted after the push; the data issues the mapping found
   (over-long strings, unknown role codes) join the result's own here, so the snapshot and
   the summary count them (the mapping only reports them, design.md §3.7);
3. the shrink guard compares the user count with the last *pushed* snapshot (so a refused
   run cannot become the new baseline and let the next one through);
4. the snapshot is recorded (every complete discovery is kept for review and diff);
5. the push from the payload file (in parts when it is large), then the wait until Veza
   parsed it (unless ``--no-wait``), then the snapshot is marked as pushed. A failed or
   unconfirmed parse leaves the snapshot unmarked (exit 1).
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from oaa_concur.config import Secrets, Settings
from oaa_concur.errors import ConfigError, PushRefused
from oaa_concur.models import DataIssue, DiscoveryResult, ProgressCallback
from oaa_concur.runtime import DEFAULT, Runtime

if TYPE_CHECKING:
    from oaa_concur.oaa import PushOptions, PushResult

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


@dataclass(frozen=True)
class SyncOutcome:
    """What one run did: the result (with the mapping's data issues), its snapshot, the push."""

    result: DiscoveryResult
    snapshot_id: int
    pushed: bool = False
    warnings: list[str] = field(default_factory=list)
    """Veza's warnings about the pushed payload."""
    seconds: float = 0.0
    push: PushResult | None = None
    """What Veza said about the push (None: not pushed)."""


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
    from oaa_concur.concur.discovery import run_discovery
    from oaa_concur.review.snapshot import SnapshotStore

    started = time.monotonic()
    if options.push:
        _require_veza(settings, secrets)
    result = run_discovery(settings, secrets, progress=progress, runtime=runtime)
    with _payload_path(settings, options) as path:
        result = with_issues(result, _write_payload(result, path))
        store = SnapshotStore(settings.state_dir, retention=settings.retention)
        baseline = store.last_pushed_user_count(result.company.id) if options.push else None
        snapshot_id = store.record(result)
        if not options.push or path is None:
            return SyncOutcome(result, snapshot_id, seconds=time.monotonic() - started)
        check_shrink(baseline, len(result.users), settings)
        pushed = _push(path, settings, secrets, result, options, runtime)
    store.mark_pushed(snapshot_id)
    seconds = time.monotonic() - started
    return SyncOutcome(result, snapshot_id, True, pushed.warnings, seconds, pushed)


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


def _write_payload(result: DiscoveryResult, path: Path | None) -> list[DataIssue]:
    """Write the payload to ``path`` as a stream (or only map it); the mapping's issues."""
    from oaa_concur.oaa.build import application_parts
    from oaa_concur.oaa.stream import save_streamed

    if path is not None:
        written, issues = save_streamed(result, path)
        LOG.info("wrote the OAA payload (%d users, %d bytes)", written.users, written.size)
        return issues
    parts = application_parts(result)
    collections.deque(parts.users, maxlen=0)  # the mapping's issues, without a file
    return parts.issues


def _require_veza(settings: Settings, secrets: Secrets) -> None:
    if not settings.veza_url:
        raise ConfigError("No Veza URL is set", "set VEZA_URL or --veza-url, or run with --no-push")
    if not secrets.veza_api_key:
        raise ConfigError("VEZA_API_KEY is not set", "export it, or run with --no-push")


def _push(
    path: Path,
    settings: Settings,
    secrets: Secrets,
    result: DiscoveryResult,
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
        data_source_name=data_source_name(settings, result),
        ca_bundle=settings.ca_bundle,
        timeout_s=settings.timeout_s,  # else oaaclient waits 300 s for a silent Veza, 5 times
        runtime=runtime,
        options=options.push_options,
    )
