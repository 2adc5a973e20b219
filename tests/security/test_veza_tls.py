"""Hole 3 of issue 11: ``VEZA_UNSAFE_HTTPS=true`` (an oaaclient variable) silently turned TLS
verification to Veza off, API key included. It is refused with one sentence, before discovery."""

from __future__ import annotations

from pathlib import Path

import pytest

from oaa_concur import oaa
from oaa_concur.errors import ConfigError
from oaa_concur.models import Company, DiscoveryResult
from oaa_concur.oaa.push import check_veza_tls
from tests.fakes.clock import FakeTime
from tests.fakes.hostile import client_env, hostile_concur, routes
from tests.fakes.veza import FakeVeza
from tests.support.cli import run_cli


def test_unsafe_https_is_refused_before_discovery_and_the_api_key_never_leaves(
    tmp_path: Path, fake_veza: FakeVeza
) -> None:
    """The fake Veza's CA is trusted by nothing here: with verification off the push would go
    through to it (that is what oaaclient does with the variable)."""
    with hostile_concur(routes()) as concur:
        env = {
            **client_env(concur, str(tmp_path / "state")),
            "VEZA_URL": fake_veza.url,
            "VEZA_API_KEY": fake_veza.api_key,
            "VEZA_UNSAFE_HTTPS": "true",
        }
        result = run_cli(["discover"], env)
        dry = run_cli(["discover", "--no-push"], env)  # nothing goes to Veza: nothing to refuse
    assert result.exit_code == 2, result.output
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: VEZA_UNSAFE_HTTPS is set") and "--ca-bundle" in last
    assert fake_veza.requests == []
    assert dry.exit_code == 0, dry.output
    assert len(concur.paths()) == 3  # only the --no-push run talked to Concur


def test_the_library_push_refuses_it_too(
    fake_veza: FakeVeza, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VEZA_UNSAFE_HTTPS", "True")
    result = DiscoveryResult(Company("acme", "https://us2.api.concursolutions.com"), [], {})
    with pytest.raises(ConfigError, match="VEZA_UNSAFE_HTTPS"):
        oaa.push(
            oaa.build_application(result).app,
            veza_url=fake_veza.url,
            api_key=fake_veza.api_key,
            provider_name="Concur",
            data_source_name="Concur - acme",
            ca_bundle=fake_veza.ca_path,
            runtime=FakeTime().runtime(),
        )
    assert fake_veza.requests == []


@pytest.mark.parametrize("value", ["true", "TRUE", "1", "yes", "on", " true ", "anything"])
def test_every_true_value_is_refused(value: str) -> None:
    with pytest.raises(ConfigError) as info:
        check_veza_tls({"VEZA_UNSAFE_HTTPS": value})
    assert info.value.exit_code == 2


@pytest.mark.parametrize("env", [{}, {"VEZA_UNSAFE_HTTPS": ""}, {"VEZA_UNSAFE_HTTPS": "false"}])
def test_unset_empty_or_false_is_fine(env: dict[str, str]) -> None:
    check_veza_tls(env)
    check_veza_tls({"VEZA_UNSAFE_HTTPS": "0"})
