"""The HTML report in a real headless Chromium: no console output, tables sort/page/filter,
exact column filters, printing every row held, the person search, and a page that fits 400 px
(screenshots at 400 and 1280 px are kept in the test's tmp dir for a person to look at)."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from oaa_concur.review.report import write_report
from oaa_concur.review.rules import load_rules
from tests.review.bigtenant import big_tenant
from tests.review.tenant import NOW, RULES_FILE, tenant

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is absent"),
]
_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "browser_check.py"


Check = Callable[..., list[str]]


def _checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("browser_check", _SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def check() -> Check:
    module = _checker()

    def problems(path: Path, term: str, width: int = 1280) -> list[str]:
        found: list[str] = module.problems(path, term, shutil.which("chromium"), width=width)
        return found

    return problems


@pytest.fixture(scope="module")
def shoot() -> Callable[[Path, Path, int], str]:
    module = _checker()

    def screenshot(page: Path, png: Path, width: int) -> str:
        log: str = module.screenshot(page, png, width, shutil.which("chromium"))
        return log

    return screenshot


def test_tenant_report_works_in_chromium(tmp_path: Path, check: Check) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES_FILE)
    page = tmp_path / "report.html"
    write_report(tenant(), page, "html", now=NOW, rules=load_rules(rules))
    assert check(page, "alice") == []
    assert check(page, "expense inactive") == []


@pytest.mark.parametrize("width", [400, 1280])
def test_report_fits_the_window_and_finds_people(
    tmp_path: Path, check: Check, shoot: Callable[[Path, Path, int], str], width: int
) -> None:
    """At 400 and 1280 px: nothing wider than the window, no console output, the person
    search finds alice and opens her view; a screenshot of each width is kept."""
    page = tmp_path / "report.html"
    write_report(tenant(), page, "html", now=NOW)
    assert check(page, "alice", width) == []
    assert check(page, "u-ken", width) == []
    png = tmp_path / f"report-{width}.png"
    log = shoot(page, png, width)
    assert png.stat().st_size > 10_000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [line for line in log.splitlines() if ":CONSOLE" in line] == []


def test_paged_report_works_in_chromium(tmp_path: Path, check: Check) -> None:
    page = tmp_path / "big.html"
    write_report(big_tenant(1500), page, "html", now=NOW)
    assert check(page, "user 0001") == []


def test_the_check_catches_a_broken_sort(tmp_path: Path, check: Check) -> None:
    page = tmp_path / "report.html"
    write_report(big_tenant(300), page, "html", now=NOW)
    text = page.read_text()
    assert "return -dir;" in text
    page.write_text(text.replace("return -dir;", "return dir;", 1))
    found = check(page, "user")
    assert any(line.startswith("ascending sort") for line in found), found


def test_the_check_catches_a_script_error(tmp_path: Path, check: Check) -> None:
    page = tmp_path / "report.html"
    write_report(tenant(), page, "html", now=NOW)
    page.write_text(page.read_text().replace('"use strict";', '"use strict"; undefinedCall();', 1))
    found = check(page, "alice")
    assert any("undefinedCall" in line for line in found), found
    assert any("self-test did not run" in line for line in found)


def test_the_check_catches_a_page_wider_than_400_px(tmp_path: Path, check: Check) -> None:
    page = tmp_path / "report.html"
    write_report(tenant(), page, "html", now=NOW)
    page.write_text(page.read_text().replace("<main>", '<main><p style="width:460px">x</p>', 1))
    found = check(page, "alice", 400)
    assert any(line.startswith("the page is") for line in found), found
    assert check(page, "alice", 1280) == []
