#!/usr/bin/env python3
"""Open an HTML report in headless Chromium and check that it renders, sorts and filters.

Usage: ``python scripts/browser_check.py REPORT.html [--term WORD] [--chromium PATH]``.
Exit 0 when every check passes, 1 with one line per problem otherwise.

How: Chromium loads ``REPORT.html#selftest=WORD`` with ``--dump-dom``; the report's own script
then clicks the grant table's "Role" header twice, pages forward, types WORD into the filter and
sorts the findings, and writes what the tables showed into ``<pre id="selftest-result">``. This
script recomputes the expected values in Python from the JSON data embedded in the page, so the
JavaScript is checked against an independent implementation. Console output is read from
Chromium's log (``--enable-logging=stderr``): the report logs nothing, so any ``CONSOLE`` line
(an uncaught error, a blocked resource) is a failure. No network is used.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--enable-logging=stderr",
    "--v=0",
]
SEVERITY = ["critical", "high", "medium", "low", "info"]
ROLE_COL = 6


def run_chromium(
    report: Path, term: str, chromium: str = CHROMIUM, timeout: float = 120, width: int = 1280
) -> tuple[str, str]:
    """Return (dumped DOM, stderr) of the report opened with the self-test fragment; the
    self-test lays the page out ``width`` pixels wide (headless Chromium's windows are at least
    500 px wide, so a narrower page is checked by setting the body's width)."""
    url = report.resolve().as_uri() + "#selftest=" + term + f"@{width}"
    with tempfile.TemporaryDirectory(prefix="oaa-concur-chromium-") as profile:
        proc = subprocess.run(
            [
                chromium,
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={max(width, 500)},900",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    if proc.returncode != 0:
        raise RuntimeError(f"chromium exited {proc.returncode}: {proc.stderr[-500:]}")
    return proc.stdout, proc.stderr


def screenshot(
    report: Path, png: Path, width: int, chromium: str = CHROMIUM, timeout: float = 120
) -> str:
    """Save a screenshot of the report's first screen at ``width`` pixels; Chromium's log."""
    with tempfile.TemporaryDirectory(prefix="oaa-concur-chromium-") as profile:
        proc = subprocess.run(
            [
                chromium,
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={width},1400",
                "--hide-scrollbars",
                f"--screenshot={png}",
                report.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    if proc.returncode != 0:
        raise RuntimeError(f"chromium exited {proc.returncode}: {proc.stderr[-500:]}")
    return proc.stderr


def embedded_data(report: Path) -> dict[str, Any]:
    text = report.read_text(encoding="utf-8")
    match = re.search(
        r'<script type="application/json" id="report-data">(.*?)</script>', text, re.S
    )
    if not match:
        raise RuntimeError("the report has no embedded data")
    return dict(json.loads(match.group(1)))


def selftest_result(dom: str) -> dict[str, Any] | None:
    match = re.search(r'<pre id="selftest-result">(.*?)</pre>', dom, re.S)
    return dict(json.loads(html.unescape(match.group(1)))) if match else None


def grant_rows(data: dict[str, Any]) -> list[list[str]]:
    """The grant table's rows as the page builds them (people and roles normalised)."""
    rows = []
    for person, role, scope, severity, findings in data["grants"]:
        u, r = data["people"][person], data["roles"][role]
        rows.append([u[1], u[0], u[3], u[4], u[7], u[9], r[0], r[1], r[2], r[3], scope, findings])
        rows[-1].append(severity)
    return rows


def people_matching(data: dict[str, Any], term: str) -> list[list[Any]]:
    """The people the person search finds: every word in name, id, login, email or number."""
    words = term.lower().split()
    found = []
    for u in data["people"]:
        key = "\x01".join([u[1], u[0], u[2], u[3], u[5]]).lower()
        if all(w in key for w in words):
            found.append(u)
    return found


def matches(row: list[str], term: str) -> bool:
    key = "\x01".join(row).lower()
    return all(word in key for word in term.lower().split())


def problems(report: Path, term: str, chromium: str = CHROMIUM, width: int = 1280) -> list[str]:
    """Every failed check, as one line each (empty: the report works)."""
    dom, log = run_chromium(report, term, chromium, width=width)
    found = [f"console: {line.strip()[:200]}" for line in log.splitlines() if ":CONSOLE" in line]
    result = selftest_result(dom)
    if result is None:
        return [*found, "the self-test did not run (no #selftest-result in the DOM)"]
    data = embedded_data(report)
    found += [f"page error: {e}" for e in result["errors"]]
    found += _grant_problems(result, grant_rows(data), term)
    found += _finding_problems(result, data["findings"])
    found += _view_problems(result, data, term)
    return found


def _view_problems(result: dict[str, Any], data: dict[str, Any], term: str) -> list[str]:
    """The exact status filter, printing, the person search and the page's width."""
    rows = grant_rows(data)
    people = people_matching(data, term)
    checks = [
        ("status = inactive", result["status_inactive"], sum(r[3] == "inactive" for r in rows)),
        ("rows printed", result["print_rows"], result["print_view"]),
        ("rows printed = rows held", result["print_view"], len(rows)),
        ("rows after print", result["after_print_rows"], min(100, len(rows))),
        ("person hits", result["person_hits"], len(people)),
        ("person buttons", result["person_buttons"], min(20, len(people))),
        ("role choices", result["role_options"], len(data["roles"])),
    ]
    if people:
        checks += [
            ("person shown", result.get("person_id"), people[0][0]),
            ("person heading", result.get("person_heading"), people[0][1]),
        ]
    bad = [
        f"{name}: got {got!r:.200}, expected {want!r:.200}"
        for name, got, want in checks
        if got != want
    ]
    if result["scroll_width"] > result["width"]:
        bad.append(f"the page is {result['scroll_width']} px wide in a {result['width']} px window")
    return bad


def _grant_problems(result: dict[str, Any], rows: list[list[str]], term: str) -> list[str]:
    page = 100
    codes = sorted((r[ROLE_COL] for r in rows), key=str.lower)
    expected_filter = [r for r in rows if matches(r, term)]
    checks = [
        ("grant count", result["grants_total"], len(rows)),
        ("first page size", result["initial_rows"], min(page, len(rows))),
        ("ascending sort", result["asc"], codes[:page]),
        ("aria-sort", result["asc_aria"], "ascending"),
        ("descending sort", result["desc"], codes[::-1][:page]),
        ("filter count", result["filtered"], len(expected_filter)),
        # The filter keeps the descending Role sort; ties keep the original order (stable).
        (
            "filter rows",
            result["filtered_rows"],
            sorted(expected_filter, key=lambda r: r[ROLE_COL].lower(), reverse=True)[:page],
        ),
    ]
    if len(rows) > page:
        checks.append(
            (
                "second page",
                result.get("page2_count"),
                f"{page + 1:,}\u2013{min(2 * page, len(rows)):,} of {len(rows):,}",
            )
        )
    bad = [
        f"{name}: got {got!r:.200}, expected {want!r:.200}"
        for name, got, want in checks
        if got != want
    ]
    bad += [
        f"filtered row does not contain {term!r}: {row}"
        for row in result["filtered_rows"]
        if not matches(row, term)
    ]
    return bad


def _finding_problems(result: dict[str, Any], findings: list[list[str]]) -> list[str]:
    shown = result["findings_by_severity"]
    want_sorted = sorted(shown, key=SEVERITY.index)
    critical = sum(1 for f in findings if f[0] == "critical")
    bad = []
    if result["findings_total"] != len(findings):
        bad.append(f"findings count {result['findings_total']} != {len(findings)}")
    if shown != want_sorted or len(shown) != min(200, len(findings)):
        bad.append(f"findings not sorted by severity: {shown[:20]}")
    if result["findings_critical"] != critical:
        bad.append(f"findings severity = critical: {result['findings_critical']} != {critical}")
    return bad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("report", type=Path)
    parser.add_argument("--term", default="active", help="word to type into the grant filter")
    parser.add_argument("--chromium", default=CHROMIUM)
    args = parser.parse_args(argv)
    found = problems(args.report, args.term, args.chromium)
    for line in found:
        print(f"FAIL {line}")
    if not found:
        print(f"OK {args.report}: renders with no console output; tables sort, page and filter.")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
