"""Pausing Python's cyclic garbage collector around one big computation.

A refresh builds millions of short-lived objects (cell values, rows, frame columns) and
frees them by reference counting; the cyclic collector's full passes over them find
nothing to free yet cost about a quarter of a 100k-deal refresh
(``python bench/workbook_io.py``: 9.1 s -> 7.6 s).
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

__all__ = ["collector_paused"]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Disable the cyclic collector inside the block; restore its previous state after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
