"""Migrations are code under test: built from empty, linear, and matching the models."""

from __future__ import annotations

import ast
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from backoffice.db.engine import Database
from backoffice.db.migrate import alembic_config, current_revision, head_revision, is_at_head, upgrade
from backoffice.db.models import Base

ROOT = Path(__file__).resolve().parents[2]


def test_upgrade_from_empty_reaches_head(db: Database) -> None:
    assert is_at_head(db)
    assert current_revision(db) == head_revision(db)


def test_models_match_migrations(db: Database) -> None:
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


def test_revision_chain_is_linear(sqlite_db: Database) -> None:
    script = ScriptDirectory.from_config(alembic_config(sqlite_db))
    assert len(script.get_heads()) == 1
    for rev in script.walk_revisions():
        assert not isinstance(rev.down_revision, tuple), f"{rev.revision} merges branches"


def test_upgrade_is_a_no_op_at_head(sqlite_db: Database) -> None:
    assert upgrade(sqlite_db) is None


def test_existing_sqlite_file_is_backed_up_before_migrating(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.sqlite'}")
    with db.engine.begin() as conn:  # a store at an earlier schema: the version table only
        conn.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        conn.exec_driver_sql("CREATE TABLE legacy_marker (id INTEGER)")
        conn.exec_driver_sql("INSERT INTO alembic_version VALUES ('0000_before')")
    script = ScriptDirectory.from_config(alembic_config(db))
    base = next(r for r in script.walk_revisions() if r.down_revision is None)
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE alembic_version SET version_num = '{base.revision}'")
    if head_revision(db) == base.revision:
        # one revision only: fake being one behind by stamping an unknown-to-backup state
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM alembic_version")
        assert upgrade(db) is None  # empty version table: a fresh database, nothing to back up
    db.dispose()


def test_backoffice_never_imports_qt_widgets() -> None:
    offenders = []
    for path in (ROOT / "backoffice").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            if any("QtWidgets" in n or n == "ui" or n.startswith("ui.") for n in names):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
