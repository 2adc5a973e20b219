"""The options of `oaa-concur simulator`: one row per SimulatorConfig knob.

Every knob but the injected clock and sleep is one ``Knob``: its option, the config field it
sets, how the option's text becomes the field's value, and its help. docs/simulator.md lists
the same options.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from oaa_concur.simulator import SimulatorConfig
from oaa_concur.simulator.config import Deprecation
from oaa_concur.simulator.oauth_codes import TOKEN_CODES

_KINDS = ("identity", "spend")
F = TypeVar("F", bound=Callable[..., Any])
_DEFAULTS = SimulatorConfig()


def _page(value: str) -> tuple[str, int]:
    """KIND:N (e.g. identity:3) for the page faults."""
    kind, _, number = value.partition(":")
    if kind not in _KINDS or not number.isdigit() or int(number) < 1:
        raise click.BadParameter(f"{value!r}: expected identity:N or spend:N with N >= 1")
    return kind, int(number)


def _statuses(value: str) -> tuple[int, ...]:
    try:
        statuses = tuple(int(v) for v in value.replace(",", " ").split())
    except ValueError:
        raise click.BadParameter(f"{value!r}: expected HTTP statuses such as 500,503") from None
    if not statuses or not all(500 <= s <= 599 for s in statuses):
        raise click.BadParameter(f"{value!r}: expected 5xx statuses such as 500,503")
    return statuses


def _words(value: str) -> tuple[str, ...]:
    return tuple(value.replace(",", " ").split())


def _deprecation(value: str) -> Deprecation:
    """ENDPOINT=REPLACEMENT@YYYY-MM-DD, e.g. /profile/identity/v4/Users=/profile/identity/
    v4.1/Users@2026-12-31."""
    endpoint, _, rest = value.partition("=")
    replacement, _, day = rest.rpartition("@")
    try:
        sunset = dt.date.fromisoformat(day)
    except ValueError:
        sunset = None
    if not endpoint.startswith("/") or not replacement or sunset is None:
        raise click.BadParameter(f"{value!r}: expected /ENDPOINT=/REPLACEMENT@YYYY-MM-DD")
    return Deprecation(endpoint, replacement, sunset)


def _ms(value: float) -> float:
    return value / 1000.0


@dataclass(frozen=True)
class Knob:
    """One option: ``flag`` sets config ``field`` to ``convert(value)`` when given."""

    flag: str
    field: str
    help: str
    type: Any = None
    convert: Callable[[Any], Any] | None = None
    is_flag: bool = False
    multiple: bool = False

    @property
    def param(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


_RATE = click.FloatRange(0.0, 1.0)
_PAGE = "KIND:N (identity:N or spend:N)"
KNOBS: tuple[Knob, ...] = (
    Knob("--users", "users", "Identity users of the tenant.", click.IntRange(0, 2_000_000)),
    Knob("--seed", "seed", "Seed of the tenant and of every seeded fault.", int),
    Knob(
        "--split-geolocation",
        "split_geolocation",
        "Token landing host and data-center host on two ports.",
        is_flag=True,
    ),
    Knob(
        "--rotate-refresh-tokens",
        "rotate_refresh_tokens",
        "Every refresh returns a new refresh token; the old one dies.",
        is_flag=True,
    ),
    Knob(
        "--access-token-ttl",
        "access_token_ttl",
        "Access-token lifetime, seconds.",
        click.IntRange(1),
    ),
    Knob(
        "--refresh-token-ttl",
        "refresh_token_ttl",
        "Refresh-token idle lifetime, seconds (sliding).",
        int,
    ),
    Knob("--scopes", "scopes", "Space-separated scopes granted to the app.", str, _words),
    Knob(
        "--latency-ms",
        "latency_s",
        "Server time added to every Identity and Spend request.",
        click.FloatRange(0),
        _ms,
    ),
    Knob(
        "--latency-per-record-ms",
        "latency_per_record_s",
        "Server time per record a page returns (a 1,000-user page costs 1,000x).",
        click.FloatRange(0),
        _ms,
    ),
    Knob(
        "--concurrency-limit",
        "concurrency_limit",
        "More simultaneous API requests are answered 429.",
        click.IntRange(1),
    ),
    Knob("--rate-429", "rate_429", "Fraction of API requests answered 429.", _RATE),
    Knob("--retry-after", "retry_after", 'Retry-After of the 429 answers (Concur sends "0").', str),
    Knob(
        "--rate-5xx",
        "rate_5xx",
        "Fraction of API requests answered 5xx (see --fault-statuses).",
        _RATE,
    ),
    Knob("--rate-drop", "rate_drop", "Fraction of API requests dropped unanswered.", _RATE),
    Knob(
        "--fault-statuses",
        "fault_statuses",
        "Statuses --rate-5xx draws from, e.g. 503 or 500,502.",
        str,
        _statuses,
    ),
    Knob("--fail-page", "fail_page", f"{_PAGE} answered --fail-status.", str, _page),
    Knob("--fail-status", "fail_status", "Status of --fail-page.", click.IntRange(400, 599)),
    Knob(
        "--fail-times",
        "fail_times",
        "--fail-page fails this often, then heals (default: always).",
        click.IntRange(1),
    ),
    Knob(
        "--malformed-page",
        "malformed_page",
        f"{_PAGE} answered 200 with a truncated (Identity) or HTML (Spend) body.",
        str,
        _page,
    ),
    Knob(
        "--wrong-shape-page",
        "wrong_shape_page",
        f"{_PAGE} answered 200 JSON of the wrong shape.",
        str,
        _page,
    ),
    Knob(
        "--wrong-shape",
        "wrong_shape",
        "resources: Resources is an object; record: a string where a user belongs.",
        click.Choice(["resources", "record"]),
    ),
    Knob("--slow-page", "slow_page", f"{_PAGE} answered after --slow-ms.", str, _page),
    Knob("--slow-ms", "slow_s", "Delay of --slow-page.", click.FloatRange(0), _ms),
    Knob(
        "--slow-times",
        "slow_times",
        "--slow-page is slow this often (default: always).",
        click.IntRange(1),
    ),
    Knob(
        "--repeat-cursor-page",
        "repeat_cursor_page",
        "Identity page N (>= 2) hands back the cursor that asked for it.",
        click.IntRange(2),
    ),
    Knob(
        "--spend-total-offset",
        "spend_total_offset",
        "Added to Spend's totalResults (it claims more or fewer than it serves).",
        int,
    ),
    Knob(
        "--omit-refresh-token",
        "omit_refresh_token",
        "Refresh answers carry no refresh_token.",
        is_flag=True,
    ),
    Knob(
        "--no-elsewhere-geolocation",
        "elsewhere_geolocation",
        "OAuth code 16 (lives elsewhere) without the geolocation.",
        is_flag=True,
        convert=lambda on: not on,
    ),
    Knob(
        "--revoke-after-refreshes",
        "revoke_after_refreshes",
        "After N refreshes every refresh token is revoked (code 108).",
        click.IntRange(1),
    ),
    Knob(
        "--allowed-grants",
        "allowed_grants",
        "Grant types the app may use; others get code 60, refresh_token 107.",
        str,
        _words,
    ),
    Knob(
        "--client-disabled",
        "client_disabled",
        "Token requests get code 59 (client disabled).",
        is_flag=True,
    ),
    Knob(
        "--ip-restricted",
        "ip_restricted",
        "Token requests get code 20 (logon denied: IP restriction).",
        is_flag=True,
    ),
    Knob(
        "--company-disabled",
        "company_disabled",
        "Exchange and refresh get code 53 (company not enabled for this client).",
        is_flag=True,
    ),
    Knob(
        "--token-error",
        "token_error",
        "Token requests get this documented OAuth code.",
        click.Choice([str(c) for c in TOKEN_CODES]),
        int,
    ),
    Knob(
        "--token-error-times",
        "token_error_times",
        "--token-error answers this often, then heals (default: always).",
        click.IntRange(1),
    ),
    Knob(
        "--refuse-filters",
        "refuse_filters",
        "Every filtered .search gets 400 invalidFilter.",
        is_flag=True,
    ),
    Knob(
        "--stray-ids",
        "stray_ids",
        'N users whose ids the id sw "0".."f" partitions miss.',
        click.IntRange(0),
    ),
    Knob(
        "--stray-id-style",
        "stray_id_style",
        "alphabet: first character g-v; case: upper case, id compared case-exactly.",
        click.Choice(["alphabet", "case"]),
    ),
    Knob(
        "--grow-after-requests",
        "grow_after_requests",
        "After N Identity and Spend requests the tenant gains --grow-users users.",
        click.IntRange(0),
    ),
    Knob("--grow-users", "grow_users", "Users added by --grow-after-requests.", click.IntRange(0)),
    Knob(
        "--deprecate",
        "deprecations",
        "ENDPOINT=REPLACEMENT@YYYY-MM-DD: answers carry x-api-warn and sunset (repeatable).",
        str,
        _deprecation,
        multiple=True,
    ),
)


def _default(knob: Knob) -> Any:
    value = getattr(_DEFAULTS, knob.field)
    if knob.field.endswith("_s") and isinstance(value, float):
        return value * 1000.0  # the option is in milliseconds
    if isinstance(value, tuple) and knob.field in ("scopes", "allowed_grants"):
        return " ".join(value)
    if isinstance(value, tuple) and knob.field == "fault_statuses":
        return ",".join(map(str, value))
    return None if knob.is_flag or knob.multiple or isinstance(value, tuple) else value


def _callback(knob: Knob) -> Callable[[click.Context, click.Parameter, Any], Any]:
    """Converts the option's text into the field's value, so errors name the option."""

    def convert(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value is None or knob.convert is None:
            return value
        if knob.multiple:
            return tuple(knob.convert(v) for v in value)
        return knob.convert(value)

    return convert


def options(command: F) -> F:
    """Add every knob's option to ``command``."""
    for knob in reversed(KNOBS):
        default = _default(knob)
        command = click.option(
            knob.flag,
            knob.param,
            type=None if knob.is_flag else knob.type,
            is_flag=knob.is_flag,
            multiple=knob.multiple,
            default=default,
            show_default=default is not None,
            callback=_callback(knob),
            help=knob.help,
        )(command)
    return command


def build_config(params: dict[str, Any]) -> SimulatorConfig:
    """SimulatorConfig from the command's (converted) options; unset ones keep the defaults."""
    values = {k.field: params[k.param] for k in KNOBS if params.get(k.param) is not None}
    link = params.get("deprecation_link")
    if link:
        values["deprecations"] = tuple(
            dataclasses.replace(d, link=link) for d in values.get("deprecations", ())
        )
    return SimulatorConfig(**values)
