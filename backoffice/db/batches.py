"""Split long key lists so each ``IN (...)`` stays well under every driver's parameter limit,
and write thousands of rows at once."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Table, bindparam, func, select
from sqlalchemy.engine import Connection

from backoffice.db import text_guard

IN_CHUNK = 500  # values per IN (...)
BULK_PAGE_CACHE_KIB = 32 * 1024


@contextmanager
def bulk_page_cache(connection: Connection) -> Iterator[None]:
    """A larger SQLite page cache for one bulk write on ``connection``, given back after.

    The default 2 MB holds little of a large store's indexes: a day's 10,000 sale lines go to
    random places in four of them, and each page would be read again and again (a month's
    import spends ~0.8 s more). Only for the bulk work, so the GUI's pooled connections do
    not each keep 32 MB of pages for the rest of the day."""
    if connection.dialect.name != "sqlite":
        yield
        return
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
    connection.exec_driver_sql(f"PRAGMA cache_size=-{BULK_PAGE_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size={int(before)}")


def in_chunks(values: Sequence[Any], size: int = IN_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def insert_rows(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """``INSERT`` rows that all have the same keys, as ``connection.execute(table.insert(), rows)``.

    On SQLite the rows go to the driver's executemany, each column's bind conversion applied
    to its values in one pass: SQLAlchemy's per-row parameter handling costs more than the
    insert itself at 10,000 rows. Text is checked as ``text_guard`` checks every statement.
    Other databases (and a table with Python-side defaults the rows leave out) keep the
    ordinary path, whose batched ``INSERT … VALUES`` is the fast one there."""
    if not rows:
        return
    keys = list(rows[0])
    columns = [table.c[key] for key in keys]
    if not _direct(connection, table, set(keys), updating=False):
        connection.execute(table.insert(), rows)
        return
    _insert_direct(connection, table, columns, list(zip(*_stored(connection, columns, rows, keys), strict=True)))


def insert_rows_returning_ids(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """``insert_rows`` for a table with an integer ``id`` key, giving each row's new id, in
    the rows' order.

    On SQLite the ids are given here: the transaction holds the write lock (``BEGIN
    IMMEDIATE``), so the next ids are the current largest plus one onward, which is what
    SQLite would choose, without reading 10,000 rows back. Elsewhere ``INSERT … RETURNING``
    (SQLAlchemy's batched form, kept in the rows' order)."""
    if not rows:
        return []
    written = insert_rows_written(connection, table, rows)
    if written is not None:
        return written.ids
    returning = table.insert().returning(table.c.id, sort_by_parameter_order=True)
    return [int(row_id) for (row_id,) in connection.execute(returning, rows)]


@dataclass(frozen=True)
class Written:
    """Rows inserted by ``insert_rows_written``: their new ids, and each column's values as
    the database holds them (``read_back`` turns them into what a query would return)."""

    ids: list[int]
    stored: dict[str, list[Any]]


def insert_rows_written(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> Written | None:
    """``insert_rows_returning_ids``'s SQLite path, handing back what was stored as well; None,
    and nothing inserted, where that path is not taken (another database, a Python-side default)."""
    keys = list(rows[0]) if rows else []
    if not rows or not _direct(connection, table, set(keys), updating=False):
        return None
    first = int(connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1
    ids = list(range(first, first + len(rows)))
    columns = [table.c.id, *(table.c[key] for key in keys)]
    stored = _stored(connection, columns[1:], rows, keys)
    _insert_direct(connection, table, columns, list(zip(ids, *stored, strict=True)))
    return Written(ids, dict(zip(keys, stored, strict=True)))


def read_back(connection: Connection, column: Column[Any], stored: Sequence[Any]) -> list[Any]:
    """Values ``column`` holds as a query returns them (a UTC-aware timestamp, a Decimal at the
    column's scale, an enum), converted once per distinct value. SQLite returns what it stored."""
    dialect = connection.dialect
    result = column.type.dialect_impl(dialect).result_processor(dialect, None)
    if result is None:
        return list(stored)
    done: dict[Any, Any] = {}
    return [done[v] if v in done else done.setdefault(v, result(v)) for v in stored]


def _insert_direct(
    connection: Connection, table: Table, columns: list[Column[Any]], values: list[tuple[Any, ...]]
) -> None:
    quote = connection.dialect.identifier_preparer
    sql = (
        f"INSERT INTO {quote.format_table(table)} ({', '.join(quote.format_column(c) for c in columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)})"
    )
    connection.exec_driver_sql(sql, values)


def update_rows(connection: Connection, table: Table, match: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    """``UPDATE table SET … WHERE`` the ``match`` columns equal the row's, per row (same keys in
    every row, ``match`` among them), as ``insert_rows`` does it: straight to the driver on SQLite."""
    if not rows:
        return
    keys = [k for k in rows[0] if k not in match] + list(match)
    setting = keys[: -len(match)]
    if not _direct(connection, table, set(keys), updating=True):
        for k in keys:  # text_guard's own hook cannot tell the renamed parameters' columns
            text_guard.check_column(table, k, [row[k] for row in rows])
        connection.execute(
            table.update()
            .where(*(table.c[k] == bindparam(f"b_{k}") for k in match))
            .values({k: bindparam(f"b_{k}") for k in setting}),
            [{f"b_{k}": row[k] for k in keys} for row in rows],
        )
        return
    quote = connection.dialect.identifier_preparer
    sets = ", ".join(f"{quote.format_column(table.c[k])} = ?" for k in setting)
    where = " AND ".join(f"{quote.format_column(table.c[k])} = ?" for k in match)
    sql = f"UPDATE {quote.format_table(table)} SET {sets} WHERE {where}"
    connection.exec_driver_sql(
        sql, list(zip(*_stored(connection, [table.c[k] for k in keys], rows, keys), strict=True))
    )


def _direct(connection: Connection, table: Table, given: set[str], *, updating: bool) -> bool:
    if connection.dialect.name != "sqlite":
        return False
    # a column left out that has a Python-side default (or onupdate) needs SQLAlchemy to fill it in
    return not any((c.onupdate if updating else c.default) is not None for c in table.columns if c.key not in given)


def _stored(
    connection: Connection, columns: list[Column[Any]], rows: Sequence[Mapping[str, Any]], keys: list[str]
) -> list[list[Any]]:
    """Each column's values as the database stores them: the text checked as ``text_guard``
    checks every statement, then the column's bind processor (the scaled Decimals, UTC
    timestamps, enums) applied once per distinct value (a day's sales repeat a few prices,
    units and receipt times thousands of times)."""
    dialect = connection.dialect
    converted = []
    for column, k in zip(columns, keys, strict=True):
        values = [row[k] for row in rows]
        text_guard.check_column(column.table, column.key, values)  # type: ignore[arg-type]
        process = column.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            done: dict[Any, Any] = {}
            values = [done[v] if v in done else done.setdefault(v, process(v)) for v in values]
        converted.append(values)
    return converted
