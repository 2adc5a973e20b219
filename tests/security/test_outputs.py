"""The smaller holes of issue 11: what a hostile Concur's strings do to our outputs.

A hostile Concur on loopback serves users whose ids, display names and company name carry
line breaks, formulas, terminal escapes, rich markup, bidi overrides and NUL; each test runs
the real CLI and reads what it wrote: the CSV and HTML reports, the text and JSON logs, the
final error line, and the terminal output of ``snapshots`` and ``diff``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

from oaa_concur.concur.parse import ENTERPRISE, SPEND_ROLE
from oaa_concur.safetext import one_line, terminal, visible
from tests.fakes.hostile import client_env, error, hostile_concur, routes, spend, user
from tests.support.cli import run_cli

FORMULAS = [
    '=HYPERLINK("http://evil.example","x")',
    " =cmd|' /C calc'!A0",  # a leading space is no protection
    "\x01@SUM(1+1)*cmd|' /C calc'!A0",  # nor a control character
    "\t=1+1",
    "+1+1",
    "-2+3",
    'Eve\r=HYPERLINK("http://evil.example")',  # a bare CR used to start a row here
    "Mallory\n@evil",
]
BIDI = "\u202eexe.txt\u202c \u2066isolate\u2069 \u200fmark \u200e"
NUL = "nul\x00byte"
ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x1b[31mred\x1b[0m \x9b31m"
MARKUP = "[bold red]LOUD[/bold red] [link=https://evil.example]click[/link]"


def tricky_users() -> list[dict[str, Any]]:
    names = [*FORMULAS, BIDI, NUL, ESCAPES, MARKUP]
    users = [
        user(f"u{i}", displayName=name, **{ENTERPRISE: {"costCenter": name}})
        for i, name in enumerate(names)
    ]
    users[0][ENTERPRISE]["organization"] = f"{MARKUP} {ESCAPES}"
    return users


def with_roles(users: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": u["id"], SPEND_ROLE: {"roles": [{"roleName": "EXP_APPROVER"}]}} for u in users]


def discovered(tmp_path: Path, users: list[dict[str, Any]]) -> dict[str, str]:
    """Run one discovery of ``users``; the environment of the state directory it filled."""
    with hostile_concur(routes(users, spend=spend(with_roles(users)))) as concur:
        env = client_env(concur, str(tmp_path / "state"))
        result = run_cli(["discover", "--no-push"], env)
    assert result.exit_code == 0, result.output
    return env


_SKIPPED = re.compile(r"^[\s\x00-\x1f\x7f-\x9f\u200b-\u200f\u2060-\u2064\ufeff]*")


def test_csv_cells_are_quoted_one_row_each_and_no_formula_survives(tmp_path: Path) -> None:
    users = tricky_users()
    env = discovered(tmp_path, users)
    out = tmp_path / "review.csv"
    assert run_cli(["report", "--format", "csv", "--out", str(out)], env).exit_code == 0
    raw = out.read_bytes()
    assert b"\r" not in raw and b"\x00" not in raw and "\u202e".encode() not in raw
    assert raw.startswith("\ufeff".encode())  # UTF-8 with a BOM, for Excel (issue 14)
    lines = raw.decode("utf-8-sig").splitlines()
    assert len(lines) == 1 + len(users)  # every line break inside a cell was neutralised
    assert all(line.startswith('"') and line.endswith('"') for line in lines)
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    for row in rows:
        for value in row.values():
            start = _SKIPPED.sub("", value)
            assert start[:1] not in ("=", "+", "-", "@") or value.startswith("'"), value
    names = {row["display_name"] for row in rows}
    assert 'Eve =HYPERLINK("http://evil.example")' in names  # one cell, not a row and a formula
    assert "nul\\u0000byte" in names and any("\\u202eexe.txt\\u202c" in n for n in names)


def test_html_shows_bidi_and_nul_as_visible_escapes(tmp_path: Path) -> None:
    env = discovered(tmp_path, tricky_users())
    out = tmp_path / "review.html"
    assert run_cli(["report", "--format", "html", "--out", str(out)], env).exit_code == 0
    html = out.read_text(encoding="utf-8")
    for invisible in ("\u202e", "\u202c", "\u2066", "\u2069", "\u200e", "\u200f", "\x00"):
        assert invisible not in html, repr(invisible)
    data = json.loads(re.search(r'id="report-data">(.*?)</script>', html, re.S)[1])  # type: ignore[index]
    shown = {row[1] for row in data["people"]}
    assert "nul\\u0000byte" in shown
    assert "\\u202eexe.txt\\u202c \\u2066isolate\\u2069 \\u200fmark \\u200e" in shown
    # names reach the page only through the escaped data (the findings are drawn by script);
    # text the template renders goes through ``visible`` (tests/review/test_report_tables.py)
    assert "exe.txt" not in html.split('id="report-data"')[0]


def test_a_newline_in_a_user_id_cannot_forge_a_log_line(tmp_path: Path) -> None:
    forged = "u9\n2099-01-01 00:00:00,000 ERROR forged: all users deleted"
    users = [user("u1"), user(forged)]
    with hostile_concur(routes(users, spend=spend([{"id": "u1"}]))) as concur:
        env = client_env(concur, str(tmp_path / "state"))
        text = run_cli(["discover", "--no-push"], env)
        as_json = run_cli(["discover", "--no-push", "--log-format", "json"], env)
    assert text.exit_code == 0 and as_json.exit_code == 0, text.output
    assert "forged" in text.stderr  # the warning about that user is there, on its own line
    assert not [line for line in text.stderr.splitlines() if line.startswith("2099")]
    for line in as_json.stderr.splitlines():
        assert "\n" not in json.loads(line)["message"]


def test_a_newline_in_concurs_error_detail_stays_on_the_final_error_line(tmp_path: Path) -> None:
    detail = "bad filter\r\nerror: forged second sentence\x1b[2J"
    with hostile_concur(routes(spend=error(400, {"detail": detail}))) as concur:
        result = run_cli(["discover", "--no-push"], client_env(concur, str(tmp_path / "s")))
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: Concur answered 400 to GET /profile/spend/v4.1/Users")
    assert "bad filter  error: forged second sentence" in lines[-1]
    assert "\x1b" not in result.stderr
    assert [line for line in lines if line.startswith("error:")] == [lines[-1]]


def test_snapshots_and_diff_print_no_escape_and_no_markup(tmp_path: Path) -> None:
    everyone = tricky_users()
    users, roles = everyone[:6], with_roles(everyone[:6])
    with hostile_concur(routes(users, spend=spend(roles))) as concur:
        env = client_env(concur, str(tmp_path / "state"))
        assert run_cli(["discover", "--no-push"], env).exit_code == 0
        users[:] = everyone  # the next run sees more users: a diff to show
        roles[:] = with_roles(everyone)
        assert run_cli(["discover", "--no-push"], env).exit_code == 0
    listing = run_cli(["snapshots"], env)
    changes = run_cli(["diff"], env)
    as_json = run_cli(["diff", "--format", "json"], env)
    for result in (listing, changes, as_json):
        assert result.exit_code == 0, result.output
        assert not re.search(
            "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", result.stdout
        )
    assert "[bold red]LOUD[/bold red]" in listing.stdout  # shown as text, not as markup
    assert "[link=https://evil.example]" in listing.stdout
    assert "Mallory @evil (u7)" in changes.stdout  # a name's line break does not split a line
    assert json.loads(as_json.stdout)["sections"]["people_added"]


def test_safetext_rules() -> None:
    assert one_line("a\r\nb\tc\x1b[31md\x9be\u202ef\x00g") == "a  b c[31mdefg"
    assert terminal("line 1\nline\t2\r\x1b]0;t\x07") == "line 1\nline\t2]0;t"
    assert visible("a\u202eb\x00c\u200fd") == "a\\u202eb\\u0000c\\u200fd"
    assert (
        visible("plain \u05e9\u05dc\u05d5\u05dd") == "plain \u05e9\u05dc\u05d5\u05dd"
    )  # RTL text stays
