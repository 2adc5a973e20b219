"""`oaa-concur simulator` exposes every SimulatorConfig knob; each option sets its field."""

from __future__ import annotations

import dataclasses
import datetime as dt

import click
import pytest

from oaa_concur.cli import main
from oaa_concur.cli.simulator_options import KNOBS, build_config
from oaa_concur.simulator import SimulatorConfig
from oaa_concur.simulator.config import Deprecation

NOT_OPTIONS = {"clock", "sleep"}  # injected by tests, not configuration


def _config(*args: str) -> SimulatorConfig:
    command = main.commands["simulator"]
    context = command.make_context("simulator", list(args))
    return build_config(context.params)


def test_every_config_field_has_an_option_with_help() -> None:
    fields = {f.name for f in dataclasses.fields(SimulatorConfig)} - NOT_OPTIONS
    assert {knob.field for knob in KNOBS} == fields
    assert all(len(knob.help) > 15 for knob in KNOBS)


def test_no_options_is_the_default_config() -> None:
    assert _config() == SimulatorConfig()


def test_each_option_sets_its_field() -> None:
    config = _config(
        *("--users", "31", "--seed", "9", "--split-geolocation", "--rotate-refresh-tokens"),
        *("--access-token-ttl", "60", "--refresh-token-ttl", "120", "--scopes", "openid a.b"),
        *("--latency-ms", "250", "--latency-per-record-ms", "0.5", "--concurrency-limit", "4"),
        *("--rate-429", "0.1", "--retry-after", "7", "--rate-5xx", "0.2", "--rate-drop", "0.3"),
        *("--fault-statuses", "502,504", "--fail-page", "spend:2", "--fail-status", "503"),
        *("--fail-times", "2", "--malformed-page", "identity:1", "--wrong-shape-page", "spend:3"),
        *("--wrong-shape", "record", "--slow-page", "identity:2", "--slow-ms", "1500"),
        *("--slow-times", "1", "--repeat-cursor-page", "2", "--spend-total-offset", "-5"),
        *("--omit-refresh-token", "--no-elsewhere-geolocation", "--revoke-after-refreshes", "3"),
        *("--allowed-grants", "password", "--client-disabled", "--ip-restricted"),
        *("--company-disabled", "--token-error", "134", "--token-error-times", "2"),
        *("--refuse-filters", "--stray-ids", "4", "--stray-id-style", "case"),
        *("--grow-after-requests", "10", "--grow-users", "25"),
        *("--deprecate", "/profile/identity/v4/Users=/profile/identity/v4.1/Users@2026-12-31"),
        *("--deprecate", "/profile/spend/v4/Users=/profile/spend/v4.1/Users@2027-01-31"),
        *("--deprecation-link", "https://example.test/notes"),
    )
    link = "https://example.test/notes"
    assert config == SimulatorConfig(
        users=31,
        seed=9,
        split_geolocation=True,
        rotate_refresh_tokens=True,
        access_token_ttl=60,
        refresh_token_ttl=120,
        scopes=("openid", "a.b"),
        latency_s=0.25,
        latency_per_record_s=0.0005,
        concurrency_limit=4,
        rate_429=0.1,
        retry_after="7",
        rate_5xx=0.2,
        rate_drop=0.3,
        fault_statuses=(502, 504),
        fail_page=("spend", 2),
        fail_status=503,
        fail_times=2,
        malformed_page=("identity", 1),
        wrong_shape_page=("spend", 3),
        wrong_shape="record",
        slow_page=("identity", 2),
        slow_s=1.5,
        slow_times=1,
        repeat_cursor_page=2,
        spend_total_offset=-5,
        omit_refresh_token=True,
        elsewhere_geolocation=False,
        revoke_after_refreshes=3,
        allowed_grants=("password",),
        client_disabled=True,
        ip_restricted=True,
        company_disabled=True,
        token_error=134,
        token_error_times=2,
        refuse_filters=True,
        stray_ids=4,
        stray_id_style="case",
        grow_after_requests=10,
        grow_users=25,
        deprecations=(
            Deprecation(
                "/profile/identity/v4/Users",
                "/profile/identity/v4.1/Users",
                dt.date(2026, 12, 31),
                link,
            ),
            Deprecation(
                "/profile/spend/v4/Users", "/profile/spend/v4.1/Users", dt.date(2027, 1, 31), link
            ),
        ),
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--fail-page", "users:x"], "identity:N"),
        (["--slow-page", "spend:0"], "identity:N"),
        (["--fault-statuses", "200"], "5xx"),
        (["--deprecate", "/a=/b@tomorrow"], "YYYY-MM-DD"),
        (["--deprecate", "a=/b@2026-01-01"], "/ENDPOINT"),
        (["--token-error", "999"], "999"),
        (["--rate-429", "1.5"], "1.5"),
        (["--stray-id-style", "greek"], "greek"),
    ],
)
def test_bad_values_are_usage_errors(args: list[str], says: str) -> None:
    with pytest.raises(click.BadParameter, match=says):
        _config(*args)
