"""Python's cyclic garbage collector, paused for bulk work that builds no cycles.

Reading a 200,000-line export creates millions of small objects (cells, Decimals, dates,
line records) that all live to the end of the import. Each collection walks every one of
them again: about half of the time a large import spends in Python went to collections that
found nothing. The collector is paused for the import and started again after; reference
counting still frees everything as usual.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _Pause:
    """Counts the bulk jobs under way (a worker thread and another may overlap): the first
    pauses the collector, the last starts it again if it was running before."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.holders = 0
        self.was_enabled = True


_pause = _Pause()


@contextmanager
def paused_gc() -> Iterator[None]:
    with _pause.lock:
        if _pause.holders == 0:
            _pause.was_enabled = gc.isenabled()
            gc.disable()
        _pause.holders += 1
    try:
        yield
    finally:
        with _pause.lock:
            _pause.holders -= 1
            if _pause.holders == 0 and _pause.was_enabled:
                gc.enable()
