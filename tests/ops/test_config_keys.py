"""A config file's misspelt keys, unknown tables and wrong types are refused through the real
CLI before anything runs, naming the key and the nearest known one (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.outcomes import last_line
from tests.support.cli import run_cli

CASES = [
    ("max-shrnk = 0.2\n", "has an unknown setting 'max-shrnk': did you mean 'max-shrink'?"),
    (
        'veza_urll = "https://x.vezacloud.com"\n',
        "unknown setting 'veza_urll': did you mean 'veza-url'?",
    ),
    (
        '[concur]\nurl = "https://us2.api.concursolutions.com"\n',
        "has an unknown table [concur]: settings go at the top level or in an [oaa-concur] "
        "table; did you mean 'concur-url'?",
    ),
    ('concurrency = "eight"\n', "sets 'concurrency' to a string, but it must be an integer"),
    ("[oaa-concur]\nconcurency = 4\n", "unknown setting 'concurency': did you mean 'concurrency'?"),
]


@pytest.mark.parametrize(("toml", "said"), CASES, ids=[c[0].split()[0] for c in CASES])
@pytest.mark.parametrize("command", ["discover", "check", "snapshots"])
def test_config_file_mistakes_name_the_key(
    toml: str, said: str, command: str, tmp_path: Path
) -> None:
    config = tmp_path / "oaa-concur.toml"
    config.write_text(toml)
    state = tmp_path / "state"
    result = run_cli([command, "--config", str(config)], {"OAA_CONCUR_STATE_DIR": str(state)})
    assert result.exit_code == 2, result.output
    assert said in last_line(result.stderr)
    assert not state.exists()  # refused before anything was created


def test_a_wrong_type_on_the_command_line_names_the_option(tmp_path: Path) -> None:
    result = run_cli(["discover", "--concurrency", "eight"], {})
    assert result.exit_code == 2
    assert "Invalid value for '--concurrency': 'eight' is not a valid integer" in result.stderr
