"""Manual mode: pending METRC changes written as the CSV files METRC accepts for upload.

The files are written first; the entries are marked EXPORTED in the same transaction that
reads them, and if that transaction fails the files are removed again, so an entry is never
both exported and pending, or marked exported without a file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from backoffice.db.engine import Database
from backoffice.db.models import OutboxEntry
from backoffice.domain.enums import OutboxKind, OutboxStatus
from backoffice.metrc import csv_export
from backoffice.services import audit
from backoffice.services.actor import Actor, Permission
from backoffice.services.changes import Changes

_WRITERS: dict[OutboxKind, tuple[str, Callable[[Path, list[dict[str, Any]]], object]]] = {
    OutboxKind.CHANGE_LOCATION: ("location-changes", csv_export.write_location_changes),
    OutboxKind.ADJUST: ("adjustments", csv_export.write_adjustments),
}


@dataclass(frozen=True)
class ManualExport:
    files: list[tuple[Path, int]]  # (file, rows) per file written
    changes: Changes = Changes.OUTBOX | Changes.AUDIT


def export_pending(db: Database, actor: Actor, out_dir: Path) -> ManualExport:
    """Write one CSV per kind for every pending entry and mark those entries exported."""
    actor.require(Permission.MANAGE_OUTBOX)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    written: list[tuple[Path, int]] = []
    try:
        with db.transaction() as session:
            entries = session.scalars(
                select(OutboxEntry)
                .where(OutboxEntry.status == OutboxStatus.PENDING, OutboxEntry.kind.in_([k.value for k in _WRITERS]))
                .order_by(OutboxEntry.id)
                .with_for_update()
            ).all()
            for kind, (name, write) in _WRITERS.items():
                mine = [e for e in entries if e.kind is kind]
                if not mine:
                    continue
                rows = [element for e in mine for element in json.loads(e.payload)]
                path = out_dir / f"metrc-{name}-{stamp}.csv"
                write(path, rows)
                written.append((path, len(rows)))
                for e in mine:
                    e.status = OutboxStatus.EXPORTED
                audit.record(
                    session,
                    actor,
                    "outbox.export_csv",
                    "file",
                    path.name,
                    after={"entries": [e.id for e in mine], "rows": len(rows)},
                )
    except BaseException:
        for path, _ in written:
            path.unlink(missing_ok=True)
        raise
    return ManualExport(written)
