"""Split long key lists so each ``IN (...)`` stays well under every driver's parameter limit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

IN_CHUNK = 500  # values per IN (...)


def in_chunks(values: Sequence[Any], size: int = IN_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
