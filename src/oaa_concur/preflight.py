"""Preflight: everything a run needs, checked before the first Concur page (``oaa-concur check``).

Each check is a typed result (``CheckResult``: name, ``ok``/``warn``/``fail``, one sentence, a
hint, the exit code a failure stands for, machine-readable facts). ``run_preflight`` runs them
in order and leaves out the ones whose prerequisite failed (no Concur refresh without the app's
credentials, no Veza provider lookup without a connection):

====================  ==================================================================
``config``            settings, CONCUR_URL (https or loopback), trusted hosts, CA bundle
``state_dir``         ours, private (not group/other-writable), no symlinks; or creatable
``lock``              no other run holds the state-directory lock (else exit 3)
``concur_app``        CONCUR_CLIENT_ID/SECRET set, a refresh token (variable or file)
``concur_refresh``    one refresh at the stored geolocation (rotates the token, saved)
``concur_scopes``     the seven scopes, each missing one with what it costs
``refresh_token``     its expiry: a warning within 30 days (design.md §3.2)
``veza_settings``     https URL, API key, VEZA_UNSAFE_HTTPS unset, names, CA bundle
``veza_connection``   DNS, TLS and the API key, in one authenticated GET (nothing pushed)
``veza_provider``     the provider by name, on the ``application`` template
``last_run``          the newest snapshot (and the last pushed one), read-only
====================  ==================================================================

``Preflight.exit_code`` is 0 unless a check failed, then the code of the first failure
(2 configuration, 1 Concur or Veza, 3 lock). ``Preflight.raise_for_failure`` re-raises the first
failure's own error, for ``discover``: a run whose preflight fails records nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from oaa_concur.concur.scopes import REQUIRED_SCOPES, ScopeReport
from oaa_concur.concur.session import TokenStatus
from oaa_concur.config import Secrets, Settings
from oaa_concur.errors import ExitCode, OaaConcurError, outcome_of
from oaa_concur.runtime import DEFAULT, Runtime

if TYPE_CHECKING:  # oaaclient is imported only when Veza is checked
    from oaa_concur.oaa.probe import VezaProbe

Status = Literal["ok", "warn", "fail"]
_RANK: dict[Status, int] = {"ok": 0, "warn": 1, "fail": 2}
EXPIRY_WARNING_DAYS = 30
"""Warn when the refresh token expires within this many days (design.md §3.2)."""


@dataclass(frozen=True)
class CheckResult:
    """One check: ``sentence`` says what was found, ``hint`` what to do about it."""

    name: str
    status: Status
    sentence: str
    hint: str | None = None
    exit_code: int = ExitCode.OK
    """For a failure: the exit code it stands for (as if the run had failed there)."""
    facts: Mapping[str, object] = field(default_factory=dict)
    error: OaaConcurError | None = field(default=None, repr=False, compare=False)
    """The failure's own error (re-raised by ``Preflight.raise_for_failure``)."""

    def as_dict(self) -> dict[str, object]:
        record: dict[str, object] = {
            "name": self.name,
            "status": self.status,
            "message": self.sentence,
        }
        if self.hint:
            record["hint"] = self.hint
        if self.status == "fail":
            record["exit_code"] = self.exit_code
        record.update(self.facts)
        return record


def ok(name: str, sentence: str, **facts: object) -> CheckResult:
    return CheckResult(name, "ok", sentence, facts=facts)


def warn(name: str, sentence: str, hint: str | None = None, **facts: object) -> CheckResult:
    return CheckResult(name, "warn", sentence, hint, facts=facts)


def failed(name: str, error: OaaConcurError, **facts: object) -> CheckResult:
    """A failed check from the error a run would have ended with."""
    return CheckResult(
        name, "fail", error.message, error.hint, error.exit_code, facts=facts, error=error
    )


@dataclass(frozen=True)
class Preflight:
    """The checks that ran, in order."""

    checks: tuple[CheckResult, ...]

    @property
    def worst(self) -> Status:
        return max((c.status for c in self.checks), key=_RANK.__getitem__, default="ok")

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks if c.status == "fail")

    @property
    def exit_code(self) -> int:
        return self.failures[0].exit_code if self.failures else ExitCode.OK

    def get(self, name: str) -> CheckResult | None:
        return next((c for c in self.checks if c.name == name), None)

    def raise_for_failure(self) -> None:
        """Raise the first failure's error (nothing when no check failed)."""
        for check in self.failures:
            if check.error is not None:
                raise check.error

    def counts(self) -> dict[Status, int]:
        return {s: sum(1 for c in self.checks if c.status == s) for s in ("ok", "warn", "fail")}

    def as_dict(self) -> dict[str, object]:
        return {
            "status": self.worst,
            "exit_code": self.exit_code,
            "outcome": outcome_of(self.exit_code),
            "checks": [c.as_dict() for c in self.checks],
        }


Check = Callable[[], CheckResult]


def guarded(name: str, check: Check) -> CheckResult:
    """Run ``check``; the ``OaaConcurError`` it raises is its failure."""
    try:
        return check()
    except OaaConcurError as error:
        return failed(name, error)


# -- local checks ------------------------------------------------------------------------


def check_config(settings: Settings) -> CheckResult:
    """What resolving the settings could not check: CONCUR_URL, trusted hosts, CA bundle."""
    from oaa_concur.concur.hosts import TrustedHosts
    from oaa_concur.concur.http import tls_verify

    trust = TrustedHosts.of(settings.concur_url, settings.trusted_hosts)
    tls_verify(settings.ca_bundle)
    where = f"the config file sets {len(settings.from_config)}" if settings.from_config else ""
    return ok(
        "config",
        f"the settings are valid{f' ({where})' if where else ''}",
        concur_url=settings.concur_url,
        trusted_hosts=sorted({trust.landing, *trust.named}),
        veza_url=settings.veza_url,
        state_dir=str(settings.state_dir),
    )


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if os.path.lexists(candidate):
            return candidate
    return Path("/")


def check_state_dir(settings: Settings) -> CheckResult:
    """Ours, private and writable; or, when missing, creatable (the first run makes it)."""
    from oaa_concur.errors import ConfigError
    from oaa_concur.state.credentials import CredentialStore
    from oaa_concur.state.files import check_private_dir, refuse_symlinks_in

    directory = settings.state_dir
    if not os.path.lexists(directory):
        parent = _nearest_existing(directory)
        if not os.access(parent, os.W_OK | os.X_OK):
            raise ConfigError(
                f"The state directory {directory} does not exist and {parent} is not writable",
                "create it (mode 0700) or point OAA_CONCUR_STATE_DIR or --state-dir elsewhere",
            )
        return ok(
            "state_dir",
            f"{directory} does not exist yet; the first run creates it (mode 0700)",
            path=str(directory),
            exists=False,
        )
    check_private_dir(directory)
    refuse_symlinks_in(directory)
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ConfigError(f"The state directory {directory} is not writable", "check its owner")
    stored = CredentialStore(directory).load()  # refuses an unsafe or corrupted file
    return ok(
        "state_dir",
        f"{directory} is private and writable"
        + ("; it holds a credentials file" if stored else ""),
        path=str(directory),
        exists=True,
        credentials=stored is not None,
    )


def check_payload_path(path: Path) -> None:
    """``--save-json``'s path can take the payload (checked before discovery, not after it):
    not a directory, and its directory exists and is writable, or can be created."""
    from oaa_concur.errors import ConfigError

    if path.is_dir():
        raise ConfigError(f"--save-json {path} is a directory", "give the path of a file")
    parent = path.parent if os.path.lexists(path.parent) else _nearest_existing(path.parent)
    if not parent.is_dir():
        raise ConfigError(
            f"--save-json {path} cannot be written ({parent} is not a directory)",
            "give a file path in a writable directory",
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(
            f"--save-json {path} cannot be written ({parent} is not writable)",
            "give a file path in a writable directory",
        )


def check_lock(settings: Settings) -> CheckResult:
    from oaa_concur.state.lock import LOCK_NAME, current_holder, locked_error

    holder = current_holder(settings.state_dir)
    if holder is not None:
        return failed("lock", locked_error(settings.state_dir / LOCK_NAME, holder), pid=holder.pid)
    return ok("lock", "no other oaa-concur run holds the state-directory lock")


def check_concur_app(settings: Settings, secrets: Secrets) -> CheckResult:
    """The app's id and secret are set and a refresh token is at hand (variable or file)."""
    from oaa_concur.concur.auth import client_credentials
    from oaa_concur.state.credentials import CredentialStore

    client_credentials(secrets)
    store = CredentialStore(settings.state_dir)
    _, stored, _ = store.resolve(secrets.refresh_token)
    source = f"the credentials file {store.path}" if stored else "CONCUR_REFRESH_TOKEN"
    return ok(
        "concur_app",
        f"CONCUR_CLIENT_ID and CONCUR_CLIENT_SECRET are set; the refresh token comes from {source}",
        refresh_token_from="credentials_file" if stored else "environment",
    )


# -- Concur ------------------------------------------------------------------------------


def _days(epoch: int, now: float) -> float:
    return (epoch - now) / 86400


def _when(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


def refresh_ok(status: TokenStatus) -> CheckResult:
    company = status.company_uuid or "unknown"
    return ok(
        "concur_refresh",
        f"the refresh at {status.geolocation} worked (company {company}); the rotated token "
        f"is saved in {status.credentials_path}",
        geolocation=status.geolocation,
        company_uuid=status.company_uuid,
    )


def scopes_result(granted: tuple[str, ...]) -> CheckResult:
    """``concur_scopes`` from the granted scopes (``ScopeReport``: fail without Spend)."""
    report = ScopeReport.of(granted)
    facts: dict[str, object] = {
        "granted": list(report.granted),
        "missing": dict(report.missing),
        "required": list(REQUIRED_SCOPES),
    }
    error = report.error()
    if error is not None:
        return failed("concur_scopes", error, **facts)
    if report.verdict == "warn":
        return warn("concur_scopes", report.sentence(), report.hint(), **facts)
    return ok("concur_scopes", report.sentence(), **facts)


def expiry_result(expires_at: int | None, now: float) -> CheckResult:
    """``refresh_token``: when it expires; a warning within ``EXPIRY_WARNING_DAYS``."""
    if expires_at is None:
        return warn(
            "refresh_token",
            "Concur did not say when the refresh token expires",
            "refresh tokens live about six months: note the date of `oaa-concur auth exchange`",
            expires_at=None,
        )
    days = _days(expires_at, now)
    facts: dict[str, object] = {
        "expires_at": datetime.fromtimestamp(expires_at, UTC).isoformat(),
        "expires_in_days": round(days, 1),
    }
    sentence = f"the refresh token expires {_when(expires_at)} (in {days:.0f} days)"
    if days <= EXPIRY_WARNING_DAYS:
        hint = "get a new Company Request Token and run `oaa-concur auth exchange` before then"
        return warn("refresh_token", sentence, hint, **facts)
    return ok("refresh_token", sentence, **facts)


def concur_checks(settings: Settings, secrets: Secrets, runtime: Runtime) -> Iterator[CheckResult]:
    """One refresh (under the state lock), then what its answer says."""
    from oaa_concur.concur.session import check_refresh_token

    try:
        status = check_refresh_token(settings, secrets, runtime)
    except OaaConcurError as error:
        yield failed("concur_refresh", error)
        return
    yield refresh_ok(status)
    yield scopes_result(status.scopes)
    yield expiry_result(status.refresh_expires_at, runtime.clock())


# -- Veza --------------------------------------------------------------------------------


def veza_checks(settings: Settings, secrets: Secrets, runtime: Runtime) -> Iterator[CheckResult]:
    """The settings, then one connection test, then the provider lookup (nothing pushed)."""
    from oaa_concur.oaa.probe import VezaProbe, check_settings

    try:
        host = check_settings(
            settings.veza_url,
            secrets.veza_api_key,
            provider_name=settings.provider_name,
            data_source_name=settings.data_source_name,
            ca_bundle=settings.ca_bundle,
        )
    except OaaConcurError as error:
        yield failed("veza_settings", error)
        return
    assert settings.veza_url is not None and secrets.veza_api_key is not None
    yield ok("veza_settings", f"VEZA_URL is https://{host} and VEZA_API_KEY is set", host=host)
    probe = VezaProbe(
        settings.veza_url,
        secrets.veza_api_key,
        ca_bundle=settings.ca_bundle,
        timeout_s=settings.timeout_s,
        runtime=runtime,
    )
    connection = guarded("veza_connection", lambda: _connected(probe, host))
    yield connection
    if connection.status != "fail":
        yield guarded("veza_provider", lambda: _provider(probe, settings.provider_name))


def _connected(probe: VezaProbe, host: str) -> CheckResult:
    probe.connect()
    return ok(
        "veza_connection",
        f"Veza at {host} answered over verified TLS and accepted the API key",
        host=host,
    )


def _provider(probe: VezaProbe, name: str) -> CheckResult:
    from oaa_concur.errors import ConfigError
    from oaa_concur.oaa.push import TEMPLATE

    found = probe.provider(name)
    if found.id is None:
        return ok(
            "veza_provider",
            f"the Veza provider {name!r} does not exist yet; the first push creates it",
            provider=name,
            exists=False,
        )
    if not found.usable:
        raise ConfigError(
            f"The Veza provider {name!r} uses the {found.template!r} template, not {TEMPLATE!r}",
            "choose another --provider-name",
        )
    return ok(
        "veza_provider",
        f"the Veza provider {name!r} exists (id {found.id})",
        provider=name,
        exists=True,
        provider_id=found.id,
    )


def veza_unconfigured() -> CheckResult:
    return warn(
        "veza_settings",
        "Veza is not configured (VEZA_URL is not set): discover can run with --no-push only",
        "set VEZA_URL and VEZA_API_KEY to push",
    )


# -- the last run ------------------------------------------------------------------------


def last_run(settings: Settings, now: datetime | None = None) -> CheckResult:
    """The newest snapshot and the last pushed one, from the snapshot store (read-only).

    The one place preflight reads the store (``SnapshotStore.list``), kept apart because
    the store's interface may change."""
    from oaa_concur.review.snapshot import SnapshotStore

    infos = SnapshotStore(settings.state_dir).list()
    if not infos:
        return ok("last_run", "no snapshot is recorded yet", snapshots=0)
    newest = infos[-1]
    pushed = [i for i in infos if i.pushed_at is not None]
    hours = ((now or datetime.now(UTC)) - newest.taken_at).total_seconds() / 3600
    status = f"pushed {newest.pushed_at:%Y-%m-%d %H:%M} UTC" if newest.pushed_at else "not pushed"
    return ok(
        "last_run",
        f"snapshot {newest.id} taken {newest.taken_at:%Y-%m-%d %H:%M} UTC ({hours:.0f} h ago): "
        f"{newest.user_count} users, {status}",
        snapshots=len(infos),
        snapshot_id=newest.id,
        taken_at=newest.taken_at.isoformat(),
        users=newest.user_count,
        pushed_at=newest.pushed_at.isoformat() if newest.pushed_at else None,
        last_pushed_snapshot_id=pushed[-1].id if pushed else None,
    )


# -- all of them -------------------------------------------------------------------------


def run_preflight(
    settings: Settings,
    secrets: Secrets,
    *,
    concur: bool = True,
    refresh: bool = True,
    veza: bool | None = None,
    history: bool = True,
    runtime: Runtime = DEFAULT,
) -> Preflight:
    """Run the checks. ``veza``: True must push (a missing VEZA_URL fails), None checks Veza
    when it is configured (else one warning), False skips it. ``concur`` False skips the
    Concur checks; ``refresh`` False checks the app's credentials but not the refresh
    (``discover`` refreshes as its own first request, before any page); ``history`` False
    skips the last run."""
    results = [guarded("config", lambda: check_config(settings))]
    state = guarded("state_dir", lambda: check_state_dir(settings))
    results.append(state)
    if state.status != "fail":
        results.append(guarded("lock", lambda: check_lock(settings)))
    if concur:
        app = guarded("concur_app", lambda: check_concur_app(settings, secrets))
        results.append(app)
        if refresh and app.status != "fail" and all(r.status != "fail" for r in results):
            results.extend(concur_checks(settings, secrets, runtime))
    if veza or (veza is None and (settings.veza_url or secrets.veza_api_key)):
        results.extend(veza_checks(settings, secrets, runtime))
    elif veza is None:
        results.append(veza_unconfigured())
    if history and state.status != "fail":
        results.append(guarded("last_run", lambda: last_run(settings)))
    return Preflight(tuple(results))
