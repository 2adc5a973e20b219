"""HTTPS except on loopback, TLS verification on, --ca-bundle, HTTPS_PROXY/HTTP_PROXY/NO_PROXY.

The proxy is tests/fakes/proxy.py (a real one on loopback); the Concur simulator is plain HTTP
on loopback, so its calls are proxied through HTTP_PROXY, and the fake Veza is HTTPS, so the
push goes through a CONNECT tunnel from HTTPS_PROXY with TLS verified end to end.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import Result

from oaa_concur.simulator import RunningSimulator, SimulatorConfig
from tests.fakes.proxy import LocalProxy
from tests.fakes.veza import FakeVeza
from tests.support.cli import run_cli, sim_env

# None unsets a variable for the run (an empty lower-case one would cancel the upper-case one).
_NO_PROXY_ENV: dict[str, str | None] = dict.fromkeys(
    ("NO_PROXY", "no_proxy", "http_proxy", "https_proxy", "all_proxy")
)


SIMULATOR = SimulatorConfig(users=120, seed=4)  # the `sim` fixture (tests/conftest.py)


def env_for(
    sim: RunningSimulator, state: Path, veza: FakeVeza | None = None, **extra: str
) -> dict[str, str | None]:
    token = sim.state.tokens.new_refresh_token()
    return {**sim_env(sim, state, veza), **_NO_PROXY_ENV, "CONCUR_REFRESH_TOKEN": token, **extra}


def last_line(result: Result) -> str:
    assert "Traceback" not in result.output
    return result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("var", ["CONCUR_URL", "VEZA_URL"])
def test_plain_http_to_a_remote_host_is_refused(
    var: str, sim: RunningSimulator, tmp_path: Path, fake_veza: FakeVeza
) -> None:
    env = env_for(sim, tmp_path, fake_veza, **{var: "http://example.com"})
    result = run_cli(["discover"], env)
    assert result.exit_code == 2, result.output
    line = last_line(result)
    assert "example.com" in line and "https" in line.lower()


def test_untrusted_certificate_is_refused_and_ca_bundle_fixes_it(
    sim: RunningSimulator, tmp_path: Path, fake_veza: FakeVeza
) -> None:
    env = env_for(sim, tmp_path, fake_veza)
    env.pop("REQUESTS_CA_BUNDLE")  # the fake Veza's CA is trusted by nothing now
    refused = run_cli(["discover"], env)
    assert refused.exit_code == 1, refused.output
    assert "certificate" in last_line(refused).lower()
    assert fake_veza.pushes == []
    done = run_cli(["discover", "--ca-bundle", str(fake_veza.ca_path)], env)
    assert done.exit_code == 0, done.output
    assert len(fake_veza.pushes) == 1


def test_missing_ca_bundle_is_a_config_error(
    sim: RunningSimulator, tmp_path: Path, fake_veza: FakeVeza
) -> None:
    result = run_cli(
        ["discover", "--ca-bundle", str(tmp_path / "nope.pem")], env_for(sim, tmp_path, fake_veza)
    )
    assert result.exit_code == 2 and "nope.pem" in last_line(result)


def test_concur_calls_and_the_veza_push_go_through_the_proxies(
    sim: RunningSimulator, tmp_path: Path, fake_veza: FakeVeza
) -> None:
    with LocalProxy.running() as proxy:
        env = env_for(sim, tmp_path, fake_veza, HTTP_PROXY=proxy.url, HTTPS_PROXY=proxy.url)
        result = run_cli(["discover"], env)
    assert result.exit_code == 0, result.output
    sim_host = sim.url.removeprefix("http://")
    veza_host = fake_veza.url.removeprefix("https://")
    assert f"POST {sim_host}/oauth2/v0/token" in proxy.forwarded
    assert any("/Users/.search" in f for f in proxy.forwarded)
    assert any("/spend/" in f.lower() or "Spend" in f for f in proxy.forwarded)
    assert veza_host in proxy.connects  # TLS tunnelled: the push still verified the cert
    assert len(fake_veza.pushes) == 1


def test_no_proxy_bypasses_the_proxy(
    sim: RunningSimulator, tmp_path: Path, fake_veza: FakeVeza
) -> None:
    with LocalProxy.running() as proxy:
        env = env_for(
            sim,
            tmp_path,
            fake_veza,
            HTTP_PROXY=proxy.url,
            HTTPS_PROXY=proxy.url,
            NO_PROXY="127.0.0.1",
        )
        result = run_cli(["discover"], env)
    assert result.exit_code == 0, result.output
    assert proxy.forwarded == [] and proxy.connects == []
    assert len(fake_veza.pushes) == 1
