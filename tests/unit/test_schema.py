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


def test_revision_chain_is_linear_and_named_by_number(sqlite_db: Database) -> None:
    script = ScriptDirectory.from_config(alembic_config(sqlite_db))
    assert len(script.get_heads()) == 1
    assert head_revision(sqlite_db) == script.get_current_head()  # the start-up shortcut agrees
    revisions = list(reversed(list(script.walk_revisions())))
    for number, rev in enumerate(revisions, start=1):
        assert not isinstance(rev.down_revision, tuple), f"{rev.revision} merges branches"
        assert rev.revision == f"{number:04d}", "revision ids are 0001, 0002, … in order"
        assert Path(rev.path).name.startswith(f"{rev.revision}_")


def test_upgrade_is_a_no_op_at_head(sqlite_db: Database) -> None:
    assert upgrade(sqlite_db) is None


def test_existing_sqlite_file_is_backed_up_before_migrating(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import backoffice.db.migrate as migrate

    db = Database(f"sqlite:///{tmp_path / 'store.sqlite'}")
    upgrade(db)
    with db.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO store_settings VALUES ('store_name', '\"Kept\"')")
    # pretend a newer release brought a revision this file has not seen yet
    monkeypatch.setattr(migrate, "is_at_head", lambda _db: False)
    monkeypatch.setattr("alembic.command.upgrade", lambda cfg, rev: None)
    saved = upgrade(db)
    assert saved is not None and saved.exists()
    backup = Database(f"sqlite:///{saved}")
    with backup.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT value FROM store_settings").scalar() == '"Kept"'
    backup.dispose()
    db.dispose()


def test_fresh_database_is_not_backed_up(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'new.sqlite'}")
    assert upgrade(db) is None
    assert is_at_head(db)
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


def test_db_and_importers_never_import_services() -> None:
    """Layers point one way: services write through db/ and read files through importers/."""
    offenders = []
    for folder in ("db", "importers"):
        for path in (ROOT / "backoffice" / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                if any(n.startswith("backoffice.services") for n in names):
                    offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
