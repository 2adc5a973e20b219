"""A bounded collector of DataIssues: every issue counted, the first few per kind kept.

A tenant where every one of 100,000 users has the same bad date must not produce 100,000
report lines; each kind keeps ``limit`` examples and one summary issue says how many more.
"""

from __future__ import annotations

import logging
from collections import Counter

from oaa_concur.models import DataIssue, IssueKind

LOG = logging.getLogger(__name__)


class IssueSink:
    """Collects DataIssues; logs the first of each kind once (design.md §3.7)."""

    def __init__(self, limit: int = 1000) -> None:
        self.limit = limit
        self.counts: Counter[IssueKind] = Counter()
        self._kept: list[DataIssue] = []

    def add(self, kind: IssueKind, subject: str, detail: str) -> None:
        self.counts[kind] += 1
        count = self.counts[kind]
        if count == 1:
            LOG.warning(
                "Concur data issue (%s) for %s: %s; further ones are counted in the report",
                kind.value,
                subject,
                detail,
            )
        if count <= self.limit:
            self._kept.append(DataIssue(kind, subject, detail))

    def issues(self) -> list[DataIssue]:
        """The kept issues plus one summary per kind that went over the limit."""
        summary = [
            DataIssue(kind, "*", f"{n - self.limit} more {kind.value} issues not listed")
            for kind, n in self.counts.items()
            if n > self.limit
        ]
        return self._kept + summary
