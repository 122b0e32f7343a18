"""Text is checked where it enters the database, for every table at once.

PostgreSQL refuses a value longer than its column or holding a NUL character with an error
that names neither the field nor the value; SQLite stores both silently. So before an
INSERT or UPDATE runs, every text parameter bound to a ``String(n)`` column is checked and
refused with the field's name: the same rule on both databases, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import String, Table, event
from sqlalchemy.engine import Engine
from sqlalchemy.sql.dml import Insert, Update

from backoffice.errors import ValidationError


def install(engine: Engine) -> None:
    @event.listens_for(engine, "before_execute")
    def _check(
        _conn: Any, statement: Any, multiparams: Sequence[Any], params: Mapping[str, Any], _options: Any
    ) -> None:
        if not isinstance(statement, Insert | Update) or not isinstance(statement.table, Table):
            return
        limits = _limits(statement.table)
        if not limits:
            return
        rows = multiparams[0] if multiparams and isinstance(multiparams[0], list) else [*multiparams, params]
        rows = [row for row in rows if isinstance(row, Mapping) and row]
        if rows:
            _check_rows(statement.table.name, rows, limits)


def check_column(table: Table, key: str, values: Sequence[Any]) -> None:
    """The same check for one column's values of bulk rows sent to the driver directly
    (``batches.insert_rows``, which has them column by column already)."""
    limits = _limits(table)
    if key in limits:
        _check_values(table.name, key, values, limits[key])


def _check_rows(table: str, rows: list[Mapping[str, Any]], limits: Mapping[str, int | None]) -> None:
    """Column by column: a day's import binds 10,000 rows at once, and this runs on every one."""
    keys = {key for row in (rows[0], rows[-1]) for key in row if key in limits}
    for key in keys:
        _check_values(table, key, [row.get(key) for row in rows], limits[key])


def _check_values(table: str, key: str, values: Sequence[Any], length: int | None) -> None:
    texts = [value for value in values if value.__class__ is str]
    if texts and ("\x00" in "".join(texts) or (length is not None and max(map(len, texts)) > length)):
        for value in texts:
            _check_text(table, key, value, length)


_CACHE: dict[Table, dict[str, int | None]] = {}


def _limits(table: Table) -> dict[str, int | None]:
    """Each text column's length (None: unlimited, still checked for NUL)."""
    found = _CACHE.get(table)
    if found is None:
        found = _CACHE[table] = {
            column.key: getattr(column.type, "length", None)
            for column in table.columns
            if isinstance(column.type, String) or isinstance(getattr(column.type, "impl", None), String)
        }
    return found


def _check_text(table: str, column: str, value: str, length: int | None) -> None:
    field = column.replace("_", " ")
    if "\x00" in value:
        raise ValidationError(
            f"the {field} ({table}) holds a NUL character, which a database cannot store; "
            "nothing was saved. Correct the text where it came from."
        )
    if length is not None and len(value) > length:
        shown = value if len(value) <= 40 else value[:37] + "…"
        raise ValidationError(
            f"the {field} {shown!r} ({table}) is {len(value):,} characters long; at most {length} "
            "fit. Nothing was saved; shorten it where it came from."
        )
