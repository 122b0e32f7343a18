"""Alembic environment: the engine comes from the application (cfg.attributes["engine"])."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy.types import TypeDecorator

import backoffice.db.models  # noqa: F401  (registers every table)
from backoffice.db.models import Base

config = context.config
target_metadata = Base.metadata


def render_item(kind: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write the application's column types as their plain SQL types, so a migration never
    depends on Python classes that may change after it is written."""
    if kind == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from backoffice.db.engine import Database
        from backoffice.paths import default_database_url

        engine = Database(config.get_main_option("sqlalchemy.url") or default_database_url()).engine
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            render_item=render_item,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
