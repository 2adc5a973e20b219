"""Settings precedence (CLI > env > TOML > default) and refusal of bad or secret-bearing config."""

from pathlib import Path

import pytest

from oaa_concur.config import Secrets, resolve_settings
from oaa_concur.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "oaa-concur.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_precedence_cli_over_env_over_file_over_default(tmp_path: Path) -> None:
    cfg = write(
        tmp_path,
        'concur-url = "https://file.example"\nconcurrency = 3\nprovider_name = "FromFile"\n',
    )
    env = {"CONCUR_URL": "https://env.example", "HOME": str(tmp_path)}
    s = resolve_settings({"concurrency": 5}, env=env, config_path=cfg)
    assert s.concur_url == "https://env.example"
    assert s.concurrency == 5
    assert s.provider_name == "FromFile"
    assert s.data_source_name is None
    s2 = resolve_settings({"concur_url": "https://cli.example"}, env=env, config_path=cfg)
    assert s2.concur_url == "https://cli.example"


def test_default_state_dir_follows_xdg(tmp_path: Path) -> None:
    s = resolve_settings({}, env={"XDG_STATE_HOME": str(tmp_path)})
    assert s.state_dir == tmp_path / "oaa-concur"
    s = resolve_settings({}, env={"OAA_CONCUR_STATE_DIR": str(tmp_path / "x")})
    assert s.state_dir == tmp_path / "x"


@pytest.mark.parametrize(
    "key", ["access_token", "VEZA_API_KEY", "veza-api-key", "CONCUR_CLIENT_SECRET", "password"]
)
def test_every_secret_name_is_refused_as_a_config_key(tmp_path: Path, key: str) -> None:
    """One list of secret names (``redact.SECRET_NAMES``), whatever the spelling."""
    cfg = write(tmp_path, f'{key} = "hunter2hunter2"\n')
    with pytest.raises(ConfigError, match="holds a secret") as info:
        resolve_settings({}, env={}, config_path=cfg)
    assert "hunter2" not in str(info.value)


def test_config_file_with_a_secret_is_refused(tmp_path: Path) -> None:
    cfg = write(tmp_path, 'client_secret = "hunter2hunter2"\n')
    with pytest.raises(ConfigError) as info:
        resolve_settings({}, env={}, config_path=cfg)
    assert "holds a secret (client_secret)" in str(info.value)
    assert "hunter2" not in str(info.value)
    assert info.value.exit_code == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("concurrency = [", "is not valid TOML"),
        ('concurrency = "many"', "sets 'concurrency' to a string, but it must be an integer"),
        ("concurrency = 0", "at least 1"),
        ('log_format = "xml"', "text or json"),
        ("max_shrink = 5", "between 0 and 1"),
    ],
)
def test_malformed_config_is_one_clear_error(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_settings({}, env={}, config_path=write(tmp_path, text))
    assert expected in str(info.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_settings({}, env={}, config_path=tmp_path / "nope.toml")


def test_secrets_come_from_the_environment_only() -> None:
    s = Secrets.from_env(
        {"CONCUR_CLIENT_ID": "id", "CONCUR_CLIENT_SECRET": "", "VEZA_API_KEY": "k" * 10}
    )
    assert s.client_id == "id"
    assert s.client_secret is None
    assert s.veza_api_key == "k" * 10
