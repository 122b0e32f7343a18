"""Shared helpers for the on-demand benchmarks: the large demo store and the result table."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
LARGE_DB = Path(os.environ.get("BENCH_LARGE_DB", "/tmp/vault-bench/large.sqlite"))


def large_store() -> str:
    """URL of the large demo store, built once (about 2.5 minutes) and reused. A store built by
    older code is brought to this code's schema first, so no benchmark times a migration (nor
    the backup made before one)."""
    url = f"sqlite:///{LARGE_DB}"
    if not LARGE_DB.exists():
        LARGE_DB.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "backoffice.cli.main", "--db", url, "demo", "--scale", "large"], check=True, cwd=ROOT
        )
    from backoffice.db.engine import Database
    from backoffice.db.migrate import upgrade

    db = Database(url)
    try:
        upgrade(db)
    finally:
        db.dispose()
    return url


def row(figure: str, target: str, measured: str, ok: bool) -> dict[str, Any]:
    return {"figure": figure, "target": target, "measured": measured, "ok": ok}


def print_table(rows: list[dict[str, Any]]) -> None:
    width = max(len(r["figure"]) for r in rows)
    print(f"{'figure':<{width}}  {'target':<12}  {'measured':<14}  result")
    for r in rows:
        print(f"{r['figure']:<{width}}  {r['target']:<12}  {r['measured']:<14}  {'pass' if r['ok'] else 'FAIL'}")
