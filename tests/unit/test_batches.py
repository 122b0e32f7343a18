"""Bulk writes (db.batches): the rows land exactly as the ORM would store them on both
databases, and text is refused as text_guard refuses it for any statement."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from backoffice.db.batches import (
    BULK_PAGE_CACHE_KIB,
    bulk_page_cache,
    insert_rows,
    insert_rows_returning_ids,
    insert_rows_written,
    read_back,
    update_rows,
)
from backoffice.db.engine import Database
from backoffice.db.models import Item, PosImport, PosSaleLine, SalesDaily, table_of
from backoffice.domain.enums import QuantityType
from backoffice.domain.units import Unit
from backoffice.errors import ValidationError


def _items(db: Database, count: int) -> list[int]:
    with db.transaction() as session:
        items = [
            Item(
                sku=f"B-{n}",
                name=f"Batch {n}",
                category="Edible",
                quantity_type=QuantityType.COUNT_BASED,
                unit=Unit.EACH,
            )
            for n in range(count)
        ]
        session.add_all(items)
        session.flush()
        return [item.id for item in items]


def test_inserted_and_updated_rows_read_back_exactly(db: Database) -> None:
    item_ids = _items(db, 2)
    with db.transaction() as session:
        table = table_of(SalesDaily)
        day = date(2031, 5, 4)
        insert_rows(
            session.connection(),
            table,
            [
                {"item_id": i, "day": day, "units": Decimal("1.2345"), "revenue": Decimal("7.50"), "lines": 1}
                for i in item_ids
            ],
        )
        update_rows(
            session.connection(),
            table,
            ("item_id", "day"),
            [{"units": Decimal("3"), "revenue": Decimal("1234567.89"), "lines": 4, "item_id": item_ids[0], "day": day}],
        )
    with db.read() as session:
        rows = session.execute(
            select(SalesDaily.item_id, SalesDaily.units, SalesDaily.revenue, SalesDaily.lines)
            .where(SalesDaily.day == day)
            .order_by(SalesDaily.item_id)
        ).all()
    assert [tuple(r) for r in rows] == [
        (item_ids[0], Decimal("3"), Decimal("1234567.89"), 4),
        (item_ids[1], Decimal("1.2345"), Decimal("7.50"), 1),
    ]


def test_a_fifth_decimal_place_is_refused(db: Database) -> None:
    [item_id] = _items(db, 1)
    # SQLAlchemy wraps the type's ValueError on PostgreSQL; on SQLite it comes through as raised
    with pytest.raises(Exception, match="more than 4 decimal places"), db.transaction() as session:
        row = {"item_id": item_id, "day": date(2031, 5, 5), "units": Decimal("0.00001"), "revenue": 0, "lines": 1}
        insert_rows(session.connection(), table_of(SalesDaily), [row])


def test_nul_and_over_long_text_are_refused_with_the_field_named(db: Database) -> None:
    rows = [{"file_name": "a.csv", "file_sha256": "0" * 64, "layout": "x\x00", "line_count": 1}]
    with pytest.raises(ValidationError, match=r"the layout \(pos_imports\) holds a NUL"), db.transaction() as session:
        insert_rows(session.connection(), table_of(PosImport), rows)
    rows[0]["layout"] = "L" * 61
    with pytest.raises(ValidationError, match=r"the layout .* 61 characters long"), db.transaction() as session:
        insert_rows(session.connection(), table_of(PosImport), rows)
    with db.read() as session:
        assert session.scalar(select(PosImport.id).where(PosImport.file_sha256 == "0" * 64)) is None


def test_inserted_rows_give_their_ids_in_order(db: Database) -> None:
    """The ids given back are the stored rows' own, each for the row at its place, after rows
    written one by one before."""
    with db.transaction() as session:
        session.add(PosImport(file_name="first.csv", file_sha256="1" * 64, layout="x", line_count=1))
    rows = [{"file_name": f"f{n}.csv", "file_sha256": f"{n:064d}", "layout": "x", "line_count": n} for n in range(3)]
    with db.transaction() as session:
        ids = insert_rows_returning_ids(session.connection(), table_of(PosImport), rows)
        again = insert_rows_returning_ids(session.connection(), table_of(PosImport), [])
    assert again == []
    with db.read() as session:
        stored = dict(session.execute(select(PosImport.id, PosImport.line_count).where(PosImport.id.in_(ids))).all())
        first = session.scalar(select(PosImport.id).where(PosImport.file_name == "first.csv"))
    assert len(set(ids)) == 3 and min(ids) > (first or 0)
    assert [stored[i] for i in ids] == [0, 1, 2]


def test_rows_written_read_back_as_a_query_returns_them(db: Database) -> None:
    """SQLite hands back the ids and the stored values, which read back exactly as a query
    returns the rows (scaled Decimals, UTC-aware times, enums); elsewhere nothing is inserted
    and the caller takes the ordinary path."""
    at = datetime(2026, 11, 30, 9, 30, 1, 250, tzinfo=ZoneInfo("America/Denver"))
    rows = [
        {
            "receipt_number": f"R{n}",
            "line_key": "k",
            "sold_at": at,
            "business_date": date(2026, 11, 30),
            "product_name": "Gummies",
            "quantity": Decimal("1.5") * n,
            "unit": Unit.GRAMS,
            "amount": Decimal("12.5"),
        }
        for n in range(3)
    ]
    table = table_of(PosSaleLine)
    with db.transaction() as session:
        written = insert_rows_written(session.connection(), table, rows)
        if not db.is_sqlite:
            assert written is None and session.scalar(select(func.count()).select_from(table)) == 0
            return
        assert written is not None
        got = [
            dict(zip(written.stored, values, strict=True))
            for values in zip(
                *(read_back(session.connection(), table.c[k], v) for k, v in written.stored.items()), strict=True
            )
        ]
        queried = session.execute(
            select(*(table.c[k] for k in written.stored)).where(table.c.id.in_(written.ids)).order_by(table.c.id)
        )
    assert got == [row._asdict() for row in queried] == [{**row, "sold_at": at} for row in rows]
    assert {row["sold_at"].tzinfo for row in got} == {UTC} and got[1]["quantity"] == Decimal("1.5000")


def test_text_is_checked_on_every_bulk_path(db: Database) -> None:
    """Rows given back their ids and rows updated in bulk go through the same text check."""
    bad = [{"file_name": "a.csv", "file_sha256": "9" * 64, "layout": "x\x00", "line_count": 1}]
    with pytest.raises(ValidationError, match=r"the layout \(pos_imports\) holds a NUL"), db.transaction() as session:
        insert_rows_returning_ids(session.connection(), table_of(PosImport), bad)
    with db.transaction() as session:
        [import_id] = insert_rows_returning_ids(session.connection(), table_of(PosImport), [{**bad[0], "layout": "x"}])
    with pytest.raises(ValidationError, match=r"the layout .* 61 characters long"), db.transaction() as session:
        update_rows(session.connection(), table_of(PosImport), ("id",), [{"id": import_id, "layout": "L" * 61}])
    with db.read() as session:
        assert session.scalar(select(PosImport.layout).where(PosImport.id == import_id)) == "x"


def test_a_bulk_page_cache_is_given_back_after_the_bulk_write(db: Database) -> None:
    with db.transaction() as session:
        connection = session.connection()
        if not db.is_sqlite:
            with bulk_page_cache(connection):  # PostgreSQL sizes its own buffers: nothing to change
                return
        before = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
        with bulk_page_cache(connection):
            assert connection.exec_driver_sql("PRAGMA cache_size").scalar_one() == -BULK_PAGE_CACHE_KIB
        assert connection.exec_driver_sql("PRAGMA cache_size").scalar_one() == before
        with pytest.raises(ValidationError), bulk_page_cache(connection):
            insert_rows(connection, table_of(PosImport), [{"file_name": "\x00", "file_sha256": "1", "layout": "x"}])
        assert connection.exec_driver_sql("PRAGMA cache_size").scalar_one() == before  # also when it fails
