"""Receiving on the large demo store (a copy: the shared store stays as built): import and
open a 500-package manifest, scan-to-tick latency (service call and the table row updated),
finish in one transaction, and the receiving report PDF.
Run: python tests/benchmarks/bench_receiving.py"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.benchmarks.common import LARGE_DB, large_store, print_table, row  # noqa: E402

T = TypeVar("T")
PACKAGES = 500
NUMBER = "0009900500"


def _timed(work: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = work()
    return result, time.perf_counter() - start


def run() -> list[dict[str, Any]]:
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    large_store()
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "large.sqlite"
        shutil.copyfile(LARGE_DB, copy)
        return _measure(f"sqlite:///{copy}", Path(folder))


def _manifest_file(db: Any, folder: Path) -> Path:
    """A METRC incoming transfer of PACKAGES packages of items the store carries (API JSON shape)."""
    from sqlalchemy import select

    from backoffice.db.models import Item
    from backoffice.services import settings

    with db.read() as session:
        items = session.execute(
            select(Item.name, Item.category, Item.strain, Item.unit).order_by(Item.id).limit(PACKAGES)
        ).all()
        license_number = settings.get(session, settings.LICENSE_NUMBER)
    packages = [
        {
            "PackageLabel": f"1A4B{n:020d}",
            "ItemName": name,
            "ItemCategoryName": category,
            "ItemStrainName": strain,
            "LabTestingState": "TestPassed",
            "ProductionBatchNumber": f"PB-{n // 20}",
            "ShipperWholesalePrice": 120.0,
            "ShipmentPackageState": "Shipped",
            "ShippedQuantity": 10,
            "ShippedUnitOfMeasureName": unit.value,
        }
        for n, (name, category, strain, unit) in enumerate(items[n % len(items)] for n in range(PACKAGES))
    ]
    transfer = {
        "Id": 77001,
        "ManifestNumber": NUMBER,
        "ShipperFacilityLicenseNumber": "C11-0000456-LIC",
        "ShipperFacilityName": "Verde Labs Distribution",
        "DriverName": "J. Alvarez",
        "DeliveryId": 99901,
        "RecipientFacilityLicenseNumber": license_number,
        "EstimatedArrivalDateTime": "2026-11-20T13:30:00-08:00",
        "Packages": packages,
    }
    path = folder / "manifest-500.json"
    path.write_text(json.dumps(transfer, indent=1))
    return path


def _measure(url: str, folder: Path) -> list[dict[str, Any]]:
    from backoffice.db.engine import Database
    from backoffice.db.migrate import upgrade
    from backoffice.exporters.receiving_report import export_receiving_report
    from backoffice.labels.qtapp import ensure_gui_app
    from backoffice.services import receiving, users
    from ui.models.receiving_lines import ReceivingLineModel

    ensure_gui_app()
    db = Database(url)
    try:
        upgrade(db, backup=False)  # the shared store may predate the latest migration
        actor = users.actor_for(db, "alex")
        path = _manifest_file(db, folder)

        def import_and_open() -> receiving.ManifestView:
            result = receiving.import_file(db, actor, path)
            return receiving.get_manifest(db, actor, result.manifest_id)

        view, took = _timed(import_and_open)
        rows = [
            row(
                f"import and open a {len(view.lines)}-package manifest (JSON)",
                "< 0.5 s",
                f"{took:.3f} s",
                took < 0.5 and len(view.lines) == PACKAGES,
            )
        ]
        model = ReceivingLineModel()
        model.set_rows(view.lines)
        latencies = []
        for line in view.lines:

            def tick(tag: str = line.tag) -> None:
                result = receiving.scan(db, actor, view.id, tag)
                model.update_lines([result.line])

            _, took = _timed(tick)
            latencies.append(took)
        ticked = sum(1 for ln in model.rows if ln.scanned_at is not None)
        p99 = sorted(latencies)[int(len(latencies) * 0.99) - 1]
        rows.append(
            row(
                f"scan-to-tick latency, p99 of {len(latencies)} scans",
                "< 16 ms",
                f"{p99 * 1000:.1f} ms",
                p99 < 0.016 and ticked == PACKAGES,
            )
        )
        receiving.accept_scanned(db, actor, view.id)
        result, took = _timed(lambda: receiving.finish(db, actor, view.id))
        rows.append(
            row(
                f"finish: {len(result.received)} packages, ledger, audit, outbox (one transaction)",
                "< 3 s",
                f"{took:.2f} s",
                took < 3,
            )
        )
        report, took = _timed(lambda: export_receiving_report(db, actor, view.id, folder / "report.pdf"))
        rows.append(
            row(
                f"receiving report PDF, {report.packages} packages ({report.pages} pages)",
                "< 5 s",
                f"{took:.2f} s",
                took < 5,
            )
        )
        return rows
    finally:
        db.dispose()


if __name__ == "__main__":
    print_table(run())
