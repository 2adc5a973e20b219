"""Users by the first one and two characters of their id, for ``id sw "..."`` partitions.

Issue 13's partitioned Identity reads page through ``id sw "0"`` ... ``id sw "f"`` (and
two-character prefixes) concurrently. Without an index each page of a partition would scan
the tenant (O(users) per page); with it a page is a bisection into a sorted array plus the
page itself. Built once, on the first prefix filter: about a second for 1,000,000 users and
8 bytes per user. It covers the users the ``grow_users`` fault may add (callers stop at
``tenant.users``).
"""

from __future__ import annotations

import bisect
from array import array
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from oaa_concur.simulator.tenant import Tenant

_EMPTY = array("I")


class PrefixIndex:
    """Sorted user indices per id prefix of length 1 and 2.

    Keys follow the server's comparison: lower case (``id`` is ``caseExact: false``), or the
    id as it is when the ``stray_id_style="case"`` fault makes ``id`` case-exact.
    """

    def __init__(self, tenant: Tenant) -> None:
        self.case_exact = tenant.case_exact_ids
        ones = [array("I") for _ in range(16)]
        twos = [array("I") for _ in range(256)]
        stray = tenant.stray
        for index in range(tenant.capacity):
            if index in stray:
                continue
            lead = tenant.lead_byte(index)
            ones[lead >> 4].append(index)
            twos[lead].append(index)
        self.one = {f"{k:x}": bucket for k, bucket in enumerate(ones)}
        self.two = {f"{k:02x}": bucket for k, bucket in enumerate(twos)}
        for index in sorted(stray):
            key = self._fold(tenant.user_id(index))
            for table, width in ((self.one, 1), (self.two, 2)):
                bucket = table.setdefault(key[:width], array("I"))
                bucket.insert(bisect.bisect_left(bucket, index), index)

    def _fold(self, text: str) -> str:
        return text if self.case_exact else text.lower()

    def candidates(self, prefix: str) -> array[int] | None:
        """Sorted indices whose id may start with ``prefix``; exact for 1 or 2 characters,
        a superset for longer ones; None for the empty prefix (everyone)."""
        key = self._fold(prefix)
        if not key:
            return None
        if len(key) == 1:
            return self.one.get(key, _EMPTY)
        return self.two.get(key[:2], _EMPTY)
