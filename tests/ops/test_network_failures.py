"""Connection failures are named (DNS, certificate, refused, ...) and only the ones a retry can
fix are retried; every retry is a WARNING naming the host. Real exceptions from the real
libraries (httpx for Concur, requests under oaaclient for Veza), over loopback."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest
import requests

from oaa_concur import netfail
from oaa_concur.simulator import SimulatorConfig, running_simulator
from tests.fakes.clock import FakeTime
from tests.fakes.outcomes import last_line, no_run_left
from tests.fakes.veza import FakeVeza
from tests.support.cli import run_cli, sim_env

NO_SUCH_HOST = "no$such.example"
"""A name glibc refuses at once (EAI_NONAME), with or without a DNS server."""


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _httpx_error(url: str, **kwargs: object) -> Exception:
    try:
        httpx.get(url, timeout=5, **kwargs)  # type: ignore[arg-type]
    except Exception as error:
        return error
    raise AssertionError(f"{url} answered")


def _requests_error(url: str) -> Exception:
    try:
        requests.get(url, timeout=5)
    except Exception as error:
        return error
    raise AssertionError(f"{url} answered")


def test_httpx_failures_are_named(fake_veza: FakeVeza) -> None:
    assert netfail.failure_of(_httpx_error(f"https://{NO_SUCH_HOST}/")) is netfail.DNS
    assert (
        netfail.failure_of(_httpx_error(f"http://127.0.0.1:{_closed_port()}/")) is netfail.REFUSED
    )
    untrusted = netfail.failure_of(_httpx_error(fake_veza.url))
    assert untrusted.kind == "certificate" and not untrusted.retriable
    assert "unable to get local issuer certificate" in untrusted.label


def test_requests_failures_are_named(fake_veza: FakeVeza) -> None:
    assert netfail.failure_of(_requests_error(f"https://{NO_SUCH_HOST}/")) is netfail.DNS
    assert (
        netfail.failure_of(_requests_error(f"http://127.0.0.1:{_closed_port()}/"))
        is netfail.REFUSED
    )
    assert netfail.failure_of(_requests_error(fake_veza.url)).kind == "certificate"


def test_only_what_a_retry_can_fix_is_retriable() -> None:
    assert [f.retriable for f in (netfail.REFUSED, netfail.TIMEOUT, netfail.DROPPED)] == [True] * 3
    assert netfail.DNS_TEMPORARY.retriable and not netfail.DNS.retriable
    assert netfail.failure_of(RuntimeError("no cause")) is netfail.DROPPED


def test_a_concur_certificate_that_does_not_verify_is_named_and_not_retried(
    state: Path, tmp_path: Path, fake_veza: FakeVeza
) -> None:
    """CONCUR_URL at a TLS server whose CA nobody trusts (the fake Veza's): one attempt."""
    out = tmp_path / "payload.json"
    fake = FakeTime()
    host = fake_veza.url.removeprefix("https://")
    with running_simulator(SimulatorConfig(users=1)) as sim:
        env = {**sim_env(sim, state), "CONCUR_URL": fake_veza.url}
        result = run_cli(["discover", "--no-push", "--save-json", str(out)], env, fake.runtime())
    assert result.exit_code == 1
    line = last_line(result.stderr)
    assert line.startswith(
        f"error: The TLS connection to the Concur host {host} failed (certificate verification "
        "failed (unable to get local issuer certificate)) during POST /oauth2/v0/token"
    )
    assert "--ca-bundle" in line
    assert fake.slept == [] and "retrying" not in result.stderr
    no_run_left(None, state, out)


def test_a_concur_host_that_does_not_resolve_is_named(state: Path) -> None:
    """``.invalid`` never resolves (RFC 6761). A resolver that answers says "no such host":
    not retried; with no DNS server at all it says "temporary failure": retried, and named."""
    host = "oaa-concur-test.invalid"
    try:
        socket.getaddrinfo(host, 443)
        pytest.fail(f"{host} resolved")
    except socket.gaierror as error:
        temporary = error.errno == socket.EAI_AGAIN
    fake = FakeTime()
    with running_simulator(SimulatorConfig(users=1)) as sim:
        env = {**sim_env(sim, state), "CONCUR_URL": f"https://{host}"}
        result = run_cli(["discover", "--no-push"], env, fake.runtime())
    assert result.exit_code == 1
    line = last_line(result.stderr)
    if temporary:
        assert "(DNS lookup failed temporarily)" in line and len(fake.slept) == 5
        assert result.stderr.count(f"failed at {host} (DNS lookup failed temporarily)") == 5
    else:
        assert line.startswith(
            f"error: The Concur host {host} cannot be found (DNS lookup failed: no such host) "
            "during POST /oauth2/v0/token"
        )
        assert fake.slept == []


def test_a_veza_retry_is_a_warning_naming_the_host(state: Path, fake_veza: FakeVeza) -> None:
    fake_veza.fail_next(1, 503)
    fake = FakeTime()
    with running_simulator(SimulatorConfig(users=10, seed=3)) as sim:
        result = run_cli(["discover"], sim_env(sim, state, fake_veza), fake.runtime())
    assert result.exit_code == 0, result.output
    host = fake_veza.url.removeprefix("https://")
    [warning] = [line for line in result.stderr.splitlines() if "retrying in" in line]
    assert "WARNING" in warning
    assert f"Veza push failed at {host} (HTTP 503: fault injected by the fake Veza)" in warning
    assert f"attempt 1 of 5, retrying in {fake.slept_sync[0]:.1f} s" in warning
    assert len(fake.slept_sync) == 1 and len(fake_veza.pushes) == 1
