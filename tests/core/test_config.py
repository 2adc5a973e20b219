"""Settings precedence (CLI > env > TOML > default) and refusal of bad or secret-bearing config."""

from pathlib import Path

import pytest

from oaa_concur.config import Secrets, resolve_settings, watched
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


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[oaa-concur]\nveza-url = "https://v.example"\n[veza]\napi_key = "k"\n', "veza.api_key"),
        ('[oaa-concur.deep.er]\nmy_token = "t"\n', "oaa-concur.deep.er.my_token"),
        ('concur_client_secret = "s"\n', "concur_client_secret"),
        ('refreshToken = "t"\n', "refreshToken"),
        ('[[hosts]]\nname = "x"\npassword = "p"\n', "hosts.0.password"),
        ('db_passwd = "p"\n', "db_passwd"),
        ('veza-apikey = "k"\n', "veza-apikey"),
    ],
)
def test_a_secret_looking_key_anywhere_in_the_file_is_refused(
    tmp_path: Path, text: str, named: str
) -> None:
    with pytest.raises(ConfigError, match="holds a secret") as info:
        resolve_settings({}, env={}, config_path=write(tmp_path, text))
    assert named in str(info.value)
    assert info.value.exit_code == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("concurency = 4\n", "unknown setting 'concurency': did you mean 'concurrency'?"),
        ('concur_uri = "https://x"\n', "did you mean 'concur-url'?"),
        ("allow-shrinks = true\n", "did you mean 'allow-shrink'?"),
        ("zzz = 1\n", "unknown setting 'zzz': see the README"),
        ("[oaa-concur]\nconcurrency = 2\n[other]\nx = 1\n", "'other' outside the [oaa-concur]"),
        ("[oaa-concur]\n[oaa-concur.nested]\nx = 1\n", "unknown table [nested]"),
        ("extra = 1\n", "unknown setting 'extra'"),
        ("from_config = []\n", "unknown setting 'from_config'"),
    ],
)
def test_unknown_keys_are_refused_naming_the_nearest_known_one(
    tmp_path: Path, text: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_settings({}, env={}, config_path=write(tmp_path, text))
    assert expected in str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('allow-shrink = "yes"\n', "sets 'allow-shrink' to a string, but it must be true or false"),
        ("concurrency = true\n", "sets 'concurrency' to a boolean, but it must be an integer"),
        ("timeout_s = [1]\n", "sets 'timeout_s' to a list, but it must be a number"),
        ('trusted-hosts = "a.example"\n', "must be a list of strings"),
        ("trusted-hosts = [1]\n", "must be a list of strings"),
        ("ca-bundle = 3\n", "sets 'ca-bundle' to a integer"),
        ("max-response-bytes = 0\n", "max-response-bytes must be a positive number"),
        ("request-deadline-s = -1\n", "request-deadline-s must be a positive number"),
        ("run-deadline-s = nan\n", "run-deadline-s must be a positive number"),
        ("timeout-s = inf\n", "timeout-s must be a positive number"),
    ],
)
def test_wrong_types_and_values_are_refused_naming_the_key(
    tmp_path: Path, text: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_settings({}, env={}, config_path=write(tmp_path, text))
    assert expected in str(info.value)


def test_settings_that_matter_are_remembered_when_the_file_set_them(tmp_path: Path) -> None:
    cfg = write(
        tmp_path,
        'concur-url = "https://x.example"\nca-bundle = "/ca.pem"\nallow-shrink = true\n'
        "timeout-s = 900\nrequest-deadline-s = 5\nconcurrency = 3\n"
        'trusted-hosts = ["gw.example"]\n',
    )
    s = resolve_settings(
        {"timeout_s": 30}, env={"CONCUR_URL": "https://env.example"}, config_path=cfg
    )
    assert watched(s) == [
        ("trusted-hosts", ("gw.example",)),
        ("ca-bundle", Path("/ca.pem")),
        ("allow-shrink", True),
        ("request-deadline-s", 5.0),
    ]  # concur-url and timeout-s were overridden by the environment and the command line


def test_trusted_hosts_from_the_environment_and_options() -> None:
    env = {"OAA_CONCUR_TRUSTED_HOSTS": " a.example, b.example  c.example,"}
    assert resolve_settings({}, env=env).trusted_hosts == ("a.example", "b.example", "c.example")
    cli = {"trusted_hosts": ("d.example",)}
    assert resolve_settings(cli, env=env).trusted_hosts == ("d.example",)
    assert resolve_settings({"trusted_hosts": ()}, env={}).trusted_hosts == ()
