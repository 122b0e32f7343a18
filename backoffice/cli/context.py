"""What every CLI command gets: the database and the person acting, signed in with a PIN.

Kept apart from ``main`` so the area modules can import it while ``main`` imports them.

A PIN is never a command-line argument (it would show in the process list): it is asked
for on the terminal without echo, or read from ``BACKOFFICE_PIN`` (the approver's from
``BACKOFFICE_APPROVER_PIN``) for scripts and scheduled jobs, as ``PGPASSWORD`` is.
"""

from __future__ import annotations

import getpass
import os
import sys
from dataclasses import dataclass
from functools import cached_property

from backoffice.db.engine import Database
from backoffice.errors import AuthenticationFailed
from backoffice.services.actor import Actor

PIN_ENV = "BACKOFFICE_PIN"
APPROVER_PIN_ENV = "BACKOFFICE_APPROVER_PIN"


class SignInRequired(AuthenticationFailed):
    """A command that acts on the store was run without ``--user``."""


def read_pin(username: str, env: str) -> str:
    """``username``'s PIN from ``env`` when set, else asked on the terminal without echo."""
    pin = os.environ.get(env)
    if pin:
        return pin
    if not sys.stdin.isatty():
        raise AuthenticationFailed(
            f"no PIN for {username}: set {env} (this is not a terminal, so it cannot be asked for)"
        )
    return getpass.getpass(f"PIN for {username}: ")


@dataclass
class CliContext:
    db_url: str
    user: str | None

    @cached_property
    def db(self) -> Database:
        return Database(self.db_url)

    @property
    def signed_in(self) -> bool:
        return self.user is not None

    @cached_property
    def actor(self) -> Actor:
        """``--user`` signed in with their PIN (wrong PINs count towards the lockout; a locked
        or disabled account cannot act); their role's permissions apply."""
        if not self.user:
            raise SignInRequired(
                f"sign in with --user NAME (the PIN is asked for, or read from {PIN_ENV}) to run this command"
            )
        from backoffice.services import users

        return users.authenticate(self.db, self.user, read_pin(self.user, PIN_ENV)).as_actor()
