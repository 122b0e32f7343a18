"""METRC API v2 on the large demo store (a copy) against the simulator in its own process at
50 ms per call and 20 packages per page: a full drift check of every active package with at
most 4 calls in flight, 500 location changes sent (calls of 10), then an incremental check
(only what METRC changed). A few differences are planted in METRC's copy; the check must list
exactly those packages.
Run: python tests/benchmarks/bench_metrc.py"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.benchmarks.common import LARGE_DB, ROOT, large_store, print_table, row  # noqa: E402

T = TypeVar("T")
LATENCY_MS = 50
IN_FLIGHT = 4
MOVES = 500
VENDOR, USER = "bench-vendor-key", "bench-user-key"


def _timed(work: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = work()
    return result, time.perf_counter() - start


def run() -> list[dict[str, Any]]:
    large_store()
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "large.sqlite"
        shutil.copyfile(LARGE_DB, copy)
        return _measure(f"sqlite:///{copy}", Path(folder))


def _metrc_view(db: Any, folder: Path) -> tuple[list[str], str]:
    """METRC's copy of every active package (as the API answers it), with differences planted."""
    from sqlalchemy import select

    from backoffice.db.models import Location, Package
    from backoffice.domain.enums import PackageStatus
    from backoffice.services import settings

    with db.read() as session:
        rows = session.execute(
            select(
                Package.tag,
                Package.quantity,
                Package.unit,
                Location.metrc_name,
                Package.status,
                Package.lab_state,
                Package.packaged_date,
            )
            .join(Location, Location.id == Package.location_id)
            .where(Package.status != PackageStatus.FINISHED.value)
            .order_by(Package.id)
        ).all()
        license_number = settings.get(session, settings.LICENSE_NUMBER)
    old = (datetime.now(UTC) - timedelta(days=3)).isoformat(timespec="seconds")
    packages = [
        {
            "Id": n,
            "Label": tag,
            "Quantity": quantity,
            "UnitOfMeasureName": unit.value,
            "LocationName": room,
            "PackagedDate": (packaged or datetime(2025, 1, 1).date()).isoformat(),
            "LabTestingState": lab.value,
            "IsOnHold": status is PackageStatus.ON_HOLD,
            "IsOnRecall": False,
            "FinishedDate": None,
            "LastModified": old,
        }
        for n, (tag, quantity, unit, room, status, lab, packaged) in enumerate(rows, start=1)
    ]
    planted = []
    for n, package in enumerate(packages[1000:6000:1000]):  # five: quantity, hold, room, lab, quantity
        planted.append(package["Label"])
        if n == 1:
            package["IsOnHold"] = not package["IsOnHold"]
        elif n == 2:
            package["LocationName"] = "Quarantine"
        elif n == 3:
            package["LabTestingState"] = "TestFailed" if package["LabTestingState"] != "TestFailed" else "TestPassed"
        else:
            package["Quantity"] = package["Quantity"] + Decimal(1)
    (folder / "metrc_packages_active.json").write_text(json.dumps(packages, default=str), encoding="utf-8")
    return planted, license_number


@contextmanager
def _simulator(folder: Path, license_number: str) -> Iterator[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "backoffice.metrc.simulator",
            "--api",
            "v2",
            "--port",
            "0",
            "--latency-ms",
            str(LATENCY_MS),
            "--seed-dir",
            str(folder),
            "--license",
            license_number,
            "--vendor-key",
            VENDOR,
            "--user-key",
            USER,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        yield banner.split(" at ")[1].split(" ")[0]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def _measure(url: str, folder: Path) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from backoffice.db.engine import Database
    from backoffice.db.migrate import upgrade
    from backoffice.db.models import Location, Package
    from backoffice.domain.enums import LabState, PackageStatus
    from backoffice.metrc.client import MetrcClient
    from backoffice.services import metrc_connection, metrc_drift, metrc_sync, transfers
    from backoffice.services.actor import SYSTEM

    db = Database(url)
    upgrade(db)
    planted, license_number = _metrc_view(db, folder)
    with db.read() as session:
        movable = session.scalars(
            select(Package.tag)
            .join(Location, Location.id == Package.location_id)
            .where(
                Location.name == "Vault",
                Package.status == PackageStatus.ACTIVE.value,
                Package.lab_state.in_([LabState.TEST_PASSED.value, LabState.NOT_REQUIRED.value]),
                Package.quantity > 0,
                Package.tag.not_in(planted),
            )
            .order_by(Package.id)
            .limit(MOVES)
        ).all()
    with _simulator(folder, license_number) as sim_url:

        def connect() -> MetrcClient:
            return MetrcClient(sim_url, license_number, VENDOR, USER, api="v2", max_in_flight=IN_FLIGHT, timeout=60)

        full, t_full = _timed(lambda: metrc_drift.check(db, SYSTEM, connect=connect))
        for start in range(0, len(movable), 50):  # ten transfers of 50 packages, as a replenishment run
            transfer = transfers.create_transfer(db, SYSTEM, "Vault", "Sales Floor", list(movable[start : start + 50]))
            transfers.record(db, SYSTEM, transfer.id)
        with connect() as client:
            sent, t_send = _timed(
                lambda: metrc_sync.sync(
                    db,
                    metrc_connection.sender_for(client),
                    already_applied=metrc_connection.applied_check_for(client, db),
                    chunk_size=client.max_batch,
                )
            )
        incremental, t_incr = _timed(lambda: metrc_drift.check(db, SYSTEM, connect=connect))
    exact = full.tags == sorted(planted) and incremental.tags == sorted(planted)
    return [
        row(f"full drift check, {full.compared:,} packages", "< 45 s", f"{t_full:.1f} s", t_full < 45 and exact),
        row(
            f"send {len(movable)} location changes ({sent.sent} entries)",
            "< 10 s",
            f"{t_send:.1f} s",
            t_send < 10 and sent.failed == 0 and sent.stopped_at is None,
        ),
        row(
            f"incremental drift check ({incremental.fetched} changed)",
            "< 3 s",
            f"{t_incr:.2f} s",
            t_incr < 3 and incremental.fetched >= len(movable),
        ),
        row(
            "differences listed = planted", f"{len(planted)} tags", f"{len(full.tags)} / {len(incremental.tags)}", exact
        ),
    ]


if __name__ == "__main__":
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    print_table(run())
