"""Run service calls in a loop until killed; used by tests/unit/test_crash_safety.py.

Usage: python -m tests.crash_worker DB_URL SAMPLES_DIR SEED
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from sqlalchemy import select

from backoffice.db.engine import Database
from backoffice.db.models import Package
from backoffice.domain.enums import PackageStatus
from backoffice.errors import UserError
from backoffice.services import metrc_packages_import, transfers, users


def main() -> None:
    db = Database(sys.argv[1])
    samples = Path(sys.argv[2])
    rng = random.Random(int(sys.argv[3]))
    actor = users.actor_for(db, "alex")
    print("ready", flush=True)
    while True:
        step = rng.random()
        try:
            if step < 0.15:
                metrc_packages_import.import_file(db, actor, samples / "metrc_packages_active.json")
                continue
            with db.read() as session:
                where = "Vault" if step < 0.6 else "Sales Floor"
                tags = list(
                    session.scalars(
                        select(Package.tag)
                        .where(Package.location.has(name=where), Package.status == PackageStatus.ACTIVE)
                        .order_by(Package.id)
                        .limit(40)
                    )
                )
            picked = rng.sample(tags, k=min(len(tags), rng.randint(1, 4)))
            back_to = "Sales Floor" if where == "Vault" else "Vault"
            draft = transfers.create_transfer(db, actor, where, back_to, picked)
            recorded = transfers.record(db, actor, draft.id)
            for line in recorded.lines:
                transfers.confirm_arrival(db, actor, line.tag, back_to)
        except UserError:
            continue  # e.g. a package put on hold by the import: the rules refused, as they should


if __name__ == "__main__":
    main()
