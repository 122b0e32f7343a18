"""A store created at revision 0001 and holding data upgrades to head and keeps working.

The rows are written with plain SQL against the tables as 0001 made them (reflected, not
the ORM models, which describe head), so the test keeps meaning what it says when later
revisions change those tables.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData

from backoffice.db.engine import Database
from backoffice.db.migrate import alembic_config, current_revision, upgrade
from backoffice.services import audit, inventory, ledger, receiving, transfers, users
from backoffice.services.actor import SYSTEM

AT = datetime(2026, 11, 2, 17, 30, tzinfo=UTC)
TAG = "1A4060300000000000001001"
ON_MANIFEST = "1A4060300000000000001002"
QTY = 10_000  # quantities are stored scaled by 10^4


def _rows_at_0001() -> dict[str, list[dict[str, object]]]:
    return {
        "store_settings": [{"key": "store_name", "value": '"Old Store"'}],
        "users": [
            {
                "id": 1,
                "username": "maria",
                "display_name": "Maria",
                "role": "manager",
                "pin_hash": users.hash_pin("2222"),
                "failed_attempts": 0,
                "active": True,
                "created_at": AT,
            }
        ],
        "locations": [
            {"id": 1, "name": "Vault", "kind": "vault", "metrc_name": "Vault", "active": True},
            {"id": 2, "name": "Sales Floor", "kind": "floor", "metrc_name": "Sales Floor", "active": True},
        ],
        "items": [
            {
                "id": 1,
                "sku": "GUM-10",
                "name": "Gummies 10 mg",
                "brand": "Kiva",
                "vendor": "Kiva",
                "category": "Edible",
                "strain": "",
                "quantity_type": "CountBased",
                "unit": "Each",
                "price": 2000,
                "unit_cost": 900,
                "floor_par": 5 * QTY,
                "created_at": AT,
            }
        ],
        "packages": [
            {
                "id": 1,
                "tag": TAG,
                "item_id": 1,
                "quantity": 12 * QTY,
                "unit": "Each",
                "location_id": 1,
                "status": "active",
                "packaged_date": date(2026, 10, 1),
                "lab_state": "TestPassed",
                "version": 1,
                "created_at": AT,
            }
        ],
        "stock_ledger": [
            {
                "id": 1,
                "package_id": 1,
                "at": AT,
                "kind": "opening",
                "quantity_delta": 12 * QTY,
                "unit": "Each",
                "to_location_id": 1,
                "doc_type": "import",
                "user_id": 1,
            }
        ],
        "manifests": [
            {
                "id": 1,
                "manifest_number": "0004412345",
                "shipper_name": "Kiva",
                "shipper_license": "C11-1",
                "status": "open",
                "created_at": AT,
            }
        ],
        "manifest_lines": [
            {
                "id": 1,
                "manifest_id": 1,
                "tag": ON_MANIFEST,
                "item_name": "Gummies 10 mg",
                "category": "Edible",
                "strain": "",
                "shipped_quantity": 6 * QTY,
                "unit": "Each",
                "lab_state": "TestPassed",
                "state": "pending",
            }
        ],
    }


def test_a_store_at_0001_with_data_upgrades_to_head(empty_db: Database) -> None:
    db = empty_db
    command.upgrade(alembic_config(db), "0001")
    assert current_revision(db) == "0001"
    with db.engine.begin() as conn:
        tables = MetaData()
        tables.reflect(conn)
        for name, rows in _rows_at_0001().items():
            conn.execute(tables.tables[name].insert(), rows)
        if db.engine.dialect.name == "postgresql":  # ids were given: move the sequences past them
            for name in ("users", "locations", "items", "packages", "stock_ledger", "manifests", "manifest_lines"):
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), 10)")

    upgrade(db, backup=False)
    assert current_revision(db) == ScriptDirectory.from_config(alembic_config(db)).get_current_head()

    # the old rows read back through today's services
    maria = users.authenticate(db, "maria", "2222").as_actor()
    row = inventory.find_by_tag(db, SYSTEM, TAG)
    assert row is not None and (row.quantity, row.location) == (Decimal(12), "Vault")
    assert ledger.check_balances(db, SYSTEM) == []
    manifest = receiving.get_manifest(db, maria, receiving.find_manifest(db, "0004412345"))
    assert [(line.tag, line.shipped_quantity, line.expiration_date) for line in manifest.lines] == [
        (ON_MANIFEST, Decimal(6), None)
    ]

    # and new work lands on them: a transfer of the old package, recorded with ledger and audit rows
    info = transfers.create_transfer(db, maria, "Vault", "Sales Floor", [TAG])
    transfers.record(db, maria, info.id)
    assert inventory.find_by_tag(db, SYSTEM, TAG).location == "Sales Floor"  # type: ignore[union-attr]
    assert ledger.check_balances(db, SYSTEM) == []
    users.add_user(db, SYSTEM, "alex", "Alex", "associate", "1111")
    assert audit.verify(db, maria).ok
