"""The demo: the bundled simulator, a full discovery without push, payload, snapshot, report.

Everything runs on loopback with a generated tenant, so the demo needs no credentials and no
network. Its state directory lives under the output directory (never the user's real one);
the credentials file is reset on each run because every run starts a new simulator whose
refresh tokens the previous run's rotated token would not match.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from oaa_concur.config import Secrets, Settings
from oaa_concur.models import ProgressCallback
from oaa_concur.review.report import report_snapshot
from oaa_concur.review.rules import default_rules
from oaa_concur.review.snapshot import SnapshotStore
from oaa_concur.simulator import SimulatorConfig, running_simulator
from oaa_concur.sync import SyncOptions, SyncOutcome, run_sync


@dataclass(frozen=True)
class DemoOutcome:
    sync: SyncOutcome
    payload: Path
    report: Path
    state_dir: Path
    findings_line: str


def run_demo(
    users: int,
    out: Path,
    *,
    seed: int = 1,
    progress: ProgressCallback | None = None,
    concurrency: int = 8,
) -> DemoOutcome:
    """Start the simulator, discover it, write payload + snapshot + HTML report under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    state = out / "state"
    (state / "credentials.json").unlink(missing_ok=True)
    with running_simulator(SimulatorConfig(users=users, seed=seed)) as sim:
        settings = Settings(state_dir=state, concur_url=sim.url, concurrency=concurrency)
        secrets = Secrets(
            client_id=sim.client_id,
            client_secret=sim.client_secret,
            refresh_token=sim.refresh_token,
            request_token=None,
            veza_api_key=None,
        ).register()
        options = SyncOptions(save_json=out / "payload.json", push=False)
        outcome = run_sync(settings, secrets, options, progress=progress)
    report = report_snapshot(
        SnapshotStore(state),
        out / "report.html",
        "html",
        snapshot_id=outcome.snapshot_id,
        rules=default_rules(),
        now=datetime.now(UTC),
    )
    return DemoOutcome(
        sync=outcome,
        payload=out / "payload.json",
        report=out / "report.html",
        state_dir=state,
        findings_line=report.summary,
    )
