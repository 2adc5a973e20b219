"""The HTML report in a real headless Chromium: no console output, tables sort/page/filter."""

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


Check = Callable[[Path, str], list[str]]


def _checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("browser_check", _SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def check() -> Check:
    module = _checker()

    def problems(path: Path, term: str) -> list[str]:
        found: list[str] = module.problems(path, term, shutil.which("chromium"))
        return found

    return problems


def test_tenant_report_works_in_chromium(tmp_path: Path, check: Check) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES_FILE)
    page = tmp_path / "report.html"
    write_report(tenant(), page, "html", now=NOW, rules=load_rules(rules))
    assert check(page, "alice") == []
    assert check(page, "expense inactive") == []


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
