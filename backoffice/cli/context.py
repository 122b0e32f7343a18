"""What every CLI command gets: the database and the person acting.

Kept apart from ``main`` so the area modules can import it while ``main`` imports them."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from functools import cached_property

from backoffice.db.engine import Database
from backoffice.domain.enums import Role
from backoffice.services.actor import Actor


@dataclass
class CliContext:
    db_url: str
    user: str | None

    @cached_property
    def db(self) -> Database:
        return Database(self.db_url)

    @cached_property
    def actor(self) -> Actor:
        """``--user`` when given (its role is enforced); otherwise the shell's own user as an
        administrator, since whoever runs the CLI can already open the database file."""
        if self.user:
            from backoffice.services.users import actor_for

            return actor_for(self.db, self.user)
        return Actor(None, f"cli:{getpass.getuser()}", Role.ADMIN)
