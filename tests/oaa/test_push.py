"""Pushing with oaaclient to the fake Veza over HTTPS: get-or-create, retries, one-line errors.

Retries run under the one retry policy (oaa_concur.retry) with an injected ``FakeTime``.
"""

from __future__ import annotations

import logging
import socket
import stat
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from oaa_concur import oaa
from oaa_concur.errors import ConfigError, VezaError
from oaa_concur.models import Company, DiscoveryResult, RoleGrant, SpendProfile, User
from oaa_concur.oaa.push import VEZA_POLICY
from oaa_concur.retry import RetryPolicy
from tests.fakes.clock import FakeTime, full_backoff
from tests.fakes.veza import FakeVeza

UID = "55555555-5555-4555-8555-555555555555"


def _app() -> oaa.BuiltApplication:
    user = User(id=UID, user_name="eve@acme.example", active=True)
    result = DiscoveryResult(
        Company("acme-uuid", "https://us2.api.concursolutions.com"),
        [user],
        {UID: SpendProfile(UID, roles=(RoleGrant("EXP_USER"),))},
    )
    return oaa.build_application(result)


def _push(fake: FakeVeza, app: Any, time: FakeTime | None = None, **kw: Any) -> list[str]:
    args: dict[str, Any] = {
        "veza_url": fake.url,
        "api_key": fake.api_key,
        "provider_name": "Concur",
        "data_source_name": "Concur - acme-uuid",
        "ca_bundle": fake.ca_path,
        "runtime": (time or FakeTime()).runtime(),
    }
    args.update(kw)
    result: oaa.PushResult = oaa.push(app, **args)
    return result.warnings


def test_push_creates_provider_and_data_source(fake_veza: FakeVeza) -> None:
    app = _app()
    fake_veza.warnings = [{"message": "Cannot find identity by names eve@acme.example"}]
    warnings = _push(fake_veza, app)
    assert warnings == ["Cannot find identity by names eve@acme.example"]
    (provider,) = fake_veza.providers.values()
    assert provider["name"] == "Concur" and provider["custom_template"] == "application"
    (source,) = fake_veza.data_sources[provider["id"]].values()
    assert source["name"] == "Concur - acme-uuid"
    (pushed,) = fake_veza.pushes
    assert pushed["payload"] == oaa.payload(app)
    assert pushed["body"]["compression_type"] == "GZIP"
    assert all(
        r.headers["authorization"] == f"Bearer {fake_veza.api_key}" for r in fake_veza.requests
    )


def test_second_push_reuses_provider_and_data_source(fake_veza: FakeVeza) -> None:
    app = _app()
    _push(fake_veza, app)
    _push(fake_veza, app)
    assert len(fake_veza.providers) == 1
    assert sum(len(s) for s in fake_veza.data_sources.values()) == 1
    assert len(fake_veza.pushes) == 2
    posts = [r.path for r in fake_veza.requests if r.method == "POST"]
    assert posts.count("/api/v1/providers/custom") == 1


def test_503_is_retried_with_backoff(fake_veza: FakeVeza) -> None:
    fake_veza.fail_next(2, 503)
    time = FakeTime(rand=full_backoff)
    _push(fake_veza, _app(), time)
    assert len(fake_veza.pushes) == 1
    assert time.slept_sync == [1.0, 2.0]


def test_the_backoff_is_jittered_by_the_injected_random(fake_veza: FakeVeza) -> None:
    fake_veza.fail_next(2, 503)
    time = FakeTime(rand=lambda: 0.0)
    _push(fake_veza, _app(), time)
    assert time.slept_sync == [0.5, 1.0]  # half the backoff: jitter 0.5 (VEZA_POLICY)
    assert VEZA_POLICY.jitter == 0.5


@pytest.mark.parametrize("retry_after", ["7", "date"])
def test_a_retry_after_from_veza_is_honoured(fake_veza: FakeVeza, retry_after: str) -> None:
    """Seconds or an HTTP-date (RFC 9110 §10.2.3), the date read against the injected clock."""
    time = FakeTime(start=1_800_000_000.0, rand=full_backoff)
    if retry_after == "date":
        retry_after = format_datetime(datetime.fromtimestamp(time.now + 7, UTC), usegmt=True)
    fake_veza.fail_next(1, 429, retry_after=retry_after)
    _push(fake_veza, _app(), time)
    assert len(fake_veza.pushes) == 1 and time.slept_sync == [7.0]


def test_503_every_time_gives_up(fake_veza: FakeVeza) -> None:
    fake_veza.fail_next(10, 503)
    time = FakeTime()
    with pytest.raises(VezaError) as caught:
        _push(fake_veza, _app(), time, policy=RetryPolicy(max_attempts=3))
    assert "HTTP 503 after 3 attempts" in str(caught.value)
    assert len(time.slept_sync) == 2 and fake_veza.pushes == []


def test_the_retry_budget_bounds_a_slow_failing_step(fake_veza: FakeVeza) -> None:
    """No retry whose wait would end past ``total_budget_s`` after the first attempt."""
    fake_veza.fail_next(10, 503)
    time = FakeTime(rand=full_backoff)
    with pytest.raises(VezaError, match=r"after 3 attempts"):
        _push(fake_veza, _app(), time, policy=RetryPolicy(max_attempts=10, total_budget_s=4))
    assert time.slept_sync == [1.0, 2.0]  # a third wait (4 s) would end at 7 s


def test_400_names_the_details(fake_veza: FakeVeza) -> None:
    fake_veza.fail_next(
        1,
        400,
        message="invalid payload",
        details=[
            {"message": "local_users[0].custom_properties.start_date: invalid timestamp"},
            {"message": "second problem"},
            {"message": "third"},
            {"message": "fourth"},
        ],
    )
    time = FakeTime()
    with pytest.raises(VezaError) as caught:
        _push(fake_veza, _app(), time)
    text = str(caught.value)
    assert "HTTP 400" in text and "invalid payload" in text
    assert "start_date: invalid timestamp" in text and "third" in text
    assert "fourth" not in text and "1 more" in text
    assert time.slept_sync == []  # a 400 is not retried


def test_401_points_at_the_api_key(fake_veza: FakeVeza, caplog: pytest.LogCaptureFixture) -> None:
    wrong = "wrong-key-0123456789abcdef"
    caplog.set_level(logging.DEBUG)
    with pytest.raises(VezaError) as caught:
        _push(fake_veza, _app(), api_key=wrong)
    assert str(caught.value) == "Veza refused the API key (HTTP 401): check VEZA_API_KEY"
    assert fake_veza.pushes == []
    assert wrong not in caplog.text and wrong not in str(caught.value)


def test_api_key_never_logged(fake_veza: FakeVeza, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake_veza.fail_next(1, 503)
    fake_veza.fail_next(1, 400, details=[{"message": "bad"}])
    with pytest.raises(VezaError) as caught:
        _push(fake_veza, _app())
    assert "Veza push failed" in caplog.text  # the retry was logged
    assert fake_veza.api_key not in caplog.text
    assert fake_veza.api_key not in str(caught.value)


def test_unreachable_veza(veza_ca: tuple[object, Path]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"https://127.0.0.1:{port}"
    time = FakeTime()
    with pytest.raises(VezaError) as caught:
        oaa.push(
            _app(),
            veza_url=url,
            api_key="some-api-key-123456",
            provider_name="Concur",
            data_source_name="Concur - x",
            ca_bundle=veza_ca[1],
            runtime=time.runtime(),
            policy=RetryPolicy(max_attempts=3),
        )
    assert str(caught.value) == (
        f"cannot reach Veza at {url} after 3 attempts: check VEZA_URL and the network/proxy"
    )
    assert len(time.slept_sync) == 2


def test_untrusted_certificate(
    fake_veza: FakeVeza, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    time = FakeTime()
    with pytest.raises(VezaError) as caught:
        _push(fake_veza, _app(), time, ca_bundle=None)
    assert "cannot verify the TLS certificate" in str(caught.value)
    assert time.slept_sync == []


def test_requests_ca_bundle_is_honoured(
    fake_veza: FakeVeza, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake_veza.ca_path))
    _push(fake_veza, _app(), ca_bundle=None)
    assert len(fake_veza.pushes) == 1


@pytest.mark.parametrize("name", ["Concur/Prod", "", "   ", "a+b", "x[1]"])
def test_bad_names_are_config_errors(fake_veza: FakeVeza, name: str) -> None:
    with pytest.raises(ConfigError):
        _push(fake_veza, _app(), provider_name=name)
    with pytest.raises(ConfigError):
        _push(fake_veza, _app(), data_source_name=name)
    assert fake_veza.requests == []


def test_plain_http_url_is_a_config_error(fake_veza: FakeVeza) -> None:
    with pytest.raises(ConfigError, match="not HTTPS"):
        _push(fake_veza, _app(), veza_url=fake_veza.url.replace("https://", "http://"))
    assert fake_veza.requests == []


def test_check_name_accepts_what_veza_allows() -> None:
    assert oaa.check_name("Concur - Acme (Prod) #1", "x") == "Concur - Acme (Prod) #1"


def test_save_payload_is_private_and_atomic(tmp_path: Path) -> None:
    app = _app()
    path = oaa.save_payload(app, tmp_path / "out" / "payload.json")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes() == oaa.payload_json(app)
    assert [p.name for p in path.parent.iterdir()] == ["payload.json"]
    oaa.save_payload(b"{}", path)
    assert path.read_bytes() == b"{}"
