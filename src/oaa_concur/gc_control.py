"""Cyclic garbage-collector control for bulk work on 100,000-user results.

Building the OAA application, its payload and the snapshot rows allocates millions of small
containers and frees none of them, so every cyclic GC pass only re-walks a growing heap (it
took half of the OAA build and 60 % of a snapshot write at 100,000 users). ``gc_paused`` turns
it off for such a block and restores the previous state afterwards.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic GC inside the block; reference counting still frees what it can."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
