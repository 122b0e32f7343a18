"""JSON from files and from METRC, read within limits.

METRC's documents nest four or five levels deep and a day's receipts are a few megabytes;
a file nested thousands of levels deep, far larger, or carrying NUL characters or
page-long strings is refused with its source and the place in the document, instead of
exhausting Python's stack or the database's text columns.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from backoffice.errors import ImportFileError
from backoffice.importers.csv_common import MAX_CELL

MAX_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 32


def load_json(text: str, source: str, *, decimals: bool = False) -> Any:
    """Parse ``text``; ``decimals`` keeps JSON numbers exact (the METRC client's answers)."""
    if len(text) > MAX_BYTES:
        raise ImportFileError(
            f"{source} is {len(text) / 1_048_576:,.0f} MB of JSON; METRC documents are far "
            f"smaller (at most {MAX_BYTES // 1_048_576} MB is read). Export a shorter period."
        )
    try:
        data = json.loads(text, parse_float=Decimal) if decimals else json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFileError(
            f"{source} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
        ) from None
    except RecursionError:
        raise ImportFileError(
            f"{source} nests its JSON deeper than {MAX_DEPTH} levels; it is not a METRC document."
        ) from None
    check_json(data, source)
    return data


def check_json(data: Any, source: str) -> None:
    """Depth, NUL characters and string length, walked without recursion."""
    stack: list[tuple[Any, str, int]] = [(data, "$", 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, dict):
            if depth > MAX_DEPTH:
                raise ImportFileError(
                    f"{source}, at {path}: nested deeper than {MAX_DEPTH} levels; it is not a METRC document."
                )
            for key, item in value.items():
                _check_text(key, f"{path} (a key)", source)
                stack.append((item, f"{path}.{key}"[:200], depth + 1))
        elif isinstance(value, list):
            if depth > MAX_DEPTH:
                raise ImportFileError(
                    f"{source}, at {path}: nested deeper than {MAX_DEPTH} levels; it is not a METRC document."
                )
            stack.extend((item, f"{path}[{i}]"[:200], depth + 1) for i, item in enumerate(value))
        elif isinstance(value, str):
            _check_text(value, path, source)


def _check_text(text: str, path: str, source: str) -> None:
    if "\x00" in text:
        raise ImportFileError(f"{source}, at {path}: the text holds a NUL character; the file is damaged.")
    if len(text) > MAX_CELL:
        raise ImportFileError(
            f"{source}, at {path}: {len(text):,} characters of text, more than any METRC field holds ({MAX_CELL:,})."
        )
