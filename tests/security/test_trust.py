"""Hole 1 of issue 11: the Concur host was taken from the server. Secrets go only to trusted hosts.

Each test runs the real CLI against a hostile Concur on 127.0.0.1 that names another host,
``evil``: a second hostile server on 127.0.0.2 (the same machine, another host name). ``evil``
must see no request at all: neither the client secret nor the refresh token ever reach it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result

from oaa_concur.concur.hosts import TrustedHosts, UntrustedHost
from oaa_concur.errors import ConfigError
from oaa_concur.simulator import SimulatorConfig, running_simulator
from oaa_concur.state.credentials import CredentialStore, StoredCredentials, fingerprint
from tests.fakes.hostile import (
    CLIENT_SECRET,
    IDENTITY,
    REFRESH_TOKEN,
    SPEND,
    TOKEN,
    Hostile,
    client_env,
    code_16,
    hostile_concur,
    routes,
    token,
)
from tests.support.cli import run_cli, sim_env

DISCOVER = ["discover", "--no-push"]


@pytest.fixture
def evil() -> Iterator[Hostile]:
    """A working Concur on another host name: whatever reaches it has leaked."""
    with hostile_concur(routes(), host="127.0.0.2") as server:
        yield server


def refusal(result: Result) -> str:
    assert result.exit_code == 1, result.output
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: Refusing the Concur geolocation"), last
    assert "Traceback" not in result.output
    return last


def never_reached(evil: Hostile) -> None:
    assert evil.seen == []
    assert not evil.received(CLIENT_SECRET) and not evil.received(REFRESH_TOKEN)


def test_token_answer_naming_another_host_is_refused_after_saving_the_rotated_token(
    tmp_path: Path, evil: Hostile
) -> None:
    state = tmp_path / "state"
    with hostile_concur(routes(token=token(evil.url))) as concur:
        result = run_cli(DISCOVER, client_env(concur, str(state)))
    line = refusal(result)
    assert f"{evil.url} from Concur's token answer" in line
    assert "--trust-host 127.0.0.2" in line
    never_reached(evil)
    assert concur.paths() == [TOKEN]  # nothing after the refused answer
    saved = CredentialStore(state).load()
    assert saved is not None
    assert saved.refresh_token.endswith("-rotated")  # the rotation was not thrown away
    assert saved.geolocation == concur.url  # and the file never names the refused host


@pytest.mark.parametrize(
    "geolocation",
    [
        "http://concur.example.com",  # plain HTTP to a remote host: was exit 2, token lost
        "https://us2.api.concursolutions.com.evil.example",
        "https://evilconcursolutions.com",
        "ftp://us2.api.concursolutions.com",
        "not a url at all",
    ],
)
def test_untrusted_or_malformed_geolocations_are_refused_and_the_token_kept(
    tmp_path: Path, geolocation: str
) -> None:
    state = tmp_path / "state"
    with hostile_concur(routes(token=token(geolocation))) as concur:
        result = run_cli(DISCOVER, client_env(concur, str(state)))
    refusal(result)
    saved = CredentialStore(state).load()
    assert saved is not None and saved.refresh_token.endswith("-rotated")
    assert saved.geolocation == concur.url


def test_code_16_naming_another_host_is_refused_before_the_secret_is_sent(
    tmp_path: Path, evil: Hostile
) -> None:
    with hostile_concur(routes(token=code_16(evil.url))) as concur:
        result = run_cli(DISCOVER, client_env(concur, str(tmp_path / "state")))
    assert "from an OAuth code-16 answer" in refusal(result)
    never_reached(evil)
    assert concur.paths() == [TOKEN]


def test_planted_credentials_file_naming_another_host_is_refused_before_any_request(
    tmp_path: Path, evil: Hostile
) -> None:
    state = tmp_path / "state"
    CredentialStore(state).save(
        StoredCredentials(
            refresh_token=REFRESH_TOKEN,
            geolocation=evil.url,
            seed_fingerprint=fingerprint(REFRESH_TOKEN),
        )
    )
    with hostile_concur(routes()) as concur:
        result = run_cli(DISCOVER, client_env(concur, str(state)))
        check = run_cli(["auth", "check"], client_env(concur, str(state)))
    assert f"from the credentials file {state / 'credentials.json'}" in refusal(result)
    refusal(check)
    never_reached(evil)
    assert concur.seen == []  # refused before the first refresh, not after it


@pytest.mark.parametrize("how", ["option", "variable", "config file"])
def test_a_host_the_user_names_is_trusted(tmp_path: Path, evil: Hostile, how: str) -> None:
    with hostile_concur(routes(token=token(evil.url))) as concur:
        env = client_env(concur, str(tmp_path / "state"))
        args = list(DISCOVER)
        if how == "option":
            args += ["--trust-host", "127.0.0.2"]
        elif how == "variable":
            env["OAA_CONCUR_TRUSTED_HOSTS"] = "other.example.com, 127.0.0.2"
        else:
            config = tmp_path / "oaa-concur.toml"
            config.write_text('trusted-hosts = ["127.0.0.2"]\n')
            args += ["--config", str(config), "-v"]
        result = run_cli(args, env)
    assert result.exit_code == 0, result.output
    assert {IDENTITY, SPEND} <= set(evil.paths())  # the API calls went to the named host
    if how == "config file":
        assert "sets trusted-hosts = ('127.0.0.2',)" in result.stderr


def test_a_move_to_another_trusted_data_center_is_logged_as_a_warning(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with hostile_concur(routes()) as new, hostile_concur(routes(token=token(new.url))) as old:
        CredentialStore(state).save(
            StoredCredentials(
                refresh_token=REFRESH_TOKEN,
                geolocation=old.url,
                seed_fingerprint=fingerprint(REFRESH_TOKEN),
            )
        )
        result = run_cli(DISCOVER, client_env(old, str(state)))
    assert result.exit_code == 0, result.output
    assert f"WARNING Concur moved the company from {old.url} to {new.url}" in result.stderr
    saved = CredentialStore(state).load()
    assert saved is not None and saved.geolocation == new.url


def test_the_simulators_split_geolocation_on_loopback_keeps_working(tmp_path: Path) -> None:
    """CONCUR_URL's host name is trusted on any port (token host and API host differ)."""
    with running_simulator(SimulatorConfig(users=20, split_geolocation=True)) as sim:
        result = run_cli(DISCOVER, sim_env(sim, tmp_path / "state"))
    assert result.exit_code == 0, result.output
    saved = CredentialStore(tmp_path / "state").load()
    assert saved is not None and saved.geolocation == sim.api_url != sim.url


DOCUMENTED = TrustedHosts.of("https://glz.api.concursolutions.com")


@pytest.mark.parametrize(
    "url",
    [
        "https://us2.api.concursolutions.com",  # platform/base-uris.md, Production
        "https://www-eu2.api.concursolutions.com",
        "https://us-impl.api.concursolutions.com",  # Implementation
        "https://US.API.Concursolutions.com/oauth2/v0/token",  # TMC sample: case, path
        "https://cn.api.concurcdc.cn",  # removed from base-uris.md in 2025-10, still trusted
        "https://glz.api.concursolutions.com:8443",
    ],
)
def test_documented_concur_hosts_are_trusted(url: str) -> None:
    assert DOCUMENTED.check(url, "test").startswith("https://")


@pytest.mark.parametrize(
    "url",
    [
        "http://us2.api.concursolutions.com",  # plain HTTP
        "https://concursolutions.com.evil.example",
        "https://evil.example/concursolutions.com",
        "https://xconcursolutions.com",
        "https://cn.api.concurcdc.cn.example",
        "https://127.0.0.1",
        "http://localhost:8080",  # loopback, but not CONCUR_URL's host name
    ],
)
def test_other_hosts_are_refused(url: str) -> None:
    with pytest.raises(UntrustedHost) as info:
        DOCUMENTED.check(url, "test")
    assert info.value.exit_code == 1


def test_concur_url_host_is_trusted_on_any_port_and_named_hosts_too() -> None:
    trust = TrustedHosts.of("http://127.0.0.1:9000", ["https://proxy.example.com:443", "gw.corp"])
    assert trust.check("http://127.0.0.1:9001/x", "t") == "http://127.0.0.1:9001"
    assert trust.check("https://proxy.example.com", "t") == "https://proxy.example.com"
    assert trust.check("https://gw.corp:8443", "t") == "https://gw.corp:8443"
    with pytest.raises(UntrustedHost):
        trust.check("http://gw.corp", "t")  # a named host is still HTTPS-only off loopback
    with pytest.raises(ConfigError):
        TrustedHosts.of("http://127.0.0.1:9000", ["exa mple.com"])
