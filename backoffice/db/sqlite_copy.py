"""Copy a live SQLite database file with SQLite's online backup API (safe while in use).

Lives in ``db/`` because migrations back the file up before upgrading and ``db/`` imports
nothing from ``services/``; the backup service adds its checks around it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from backoffice.errors import UserError
from backoffice.files import atomic_output


def copy_database(sqlite_path: str | Path, out: Path) -> Path:
    """Copy ``sqlite_path`` to the new file ``out`` (its folder is created).

    The copy is written under a temporary name and renamed to ``out`` only when complete, so
    a full disk or a killed run never leaves a partial file that looks like a backup."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        raise UserError(f"{out} already exists; choose another file name.")
    with atomic_output(out, ".sqlite.part") as temp:  # a copy cut short by a crash is never taken for a backup
        src = sqlite3.connect(sqlite_path)
        dst = sqlite3.connect(temp)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
    return out
