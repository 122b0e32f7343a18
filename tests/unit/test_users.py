from __future__ import annotations

import pytest
from sqlalchemy import select

from backoffice.db.engine import Database
from backoffice.db.models import User
from backoffice.errors import AuthenticationFailed, PermissionDenied, ValidationError
from backoffice.services import settings, users
from backoffice.services.actor import SYSTEM, Actor, Permission


def test_good_pin_signs_in(db: Database, actors: dict[str, Actor]) -> None:
    info = users.authenticate(db, "alex", "1111")
    assert info.username == "alex" and info.role.value == "associate"


def test_pin_is_stored_as_scrypt_hash(db: Database, actors: dict[str, Actor]) -> None:
    with db.read() as session:
        stored = session.scalar(select(User.pin_hash).where(User.username == "alex"))
    assert stored.startswith("scrypt$") and "1111" not in stored
    assert users.pin_matches("1111", stored) and not users.pin_matches("1112", stored)


def test_wrong_pin_says_how_many_attempts_are_left(db: Database, actors: dict[str, Actor]) -> None:
    with pytest.raises(AuthenticationFailed, match="4 attempts left"):
        users.authenticate(db, "alex", "0000")


def test_lockout_after_repeated_failures(db: Database, actors: dict[str, Actor]) -> None:
    for _ in range(4):
        with pytest.raises(AuthenticationFailed, match="left"):
            users.authenticate(db, "alex", "0000")
    with pytest.raises(AuthenticationFailed, match="now locked"):
        users.authenticate(db, "alex", "0000")
    with pytest.raises(AuthenticationFailed, match="locked"):
        users.authenticate(db, "alex", "1111")  # even the right PIN while locked


def test_unknown_and_disabled_users_are_refused(db: Database, actors: dict[str, Actor]) -> None:
    with pytest.raises(AuthenticationFailed, match="Unknown or disabled"):
        users.authenticate(db, "nobody", "1111")
    users.set_active(db, actors["admin"], "alex", False)
    with pytest.raises(AuthenticationFailed, match="Unknown or disabled"):
        users.authenticate(db, "alex", "1111")


def test_permissions_are_enforced_in_the_service(db: Database, actors: dict[str, Actor]) -> None:
    with pytest.raises(PermissionDenied, match="alex \\(associate\\) may not manage users"):
        users.add_user(db, actors["alex"], "sam", "Sam", "associate", "4444")
    assert actors["maria"].can(Permission.APPROVE_ADJUSTMENT)
    assert not actors["pat"].can(Permission.RECEIVE)


@pytest.mark.parametrize(("username", "pin", "message"), [
    ("Bad Name!", "1234", "user name"),
    ("sam", "12", "4 to 12 digits"),
    ("sam", "12ab", "4 to 12 digits"),
])
def test_bad_user_input_is_refused(sqlite_db: Database, username: str, pin: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        users.add_user(sqlite_db, SYSTEM, username, "Sam", "associate", pin)


def test_duplicate_user_and_unknown_role(sqlite_db: Database) -> None:
    users.add_user(sqlite_db, SYSTEM, "sam", "Sam", "associate", "4444")
    with pytest.raises(ValidationError, match="already exists"):
        users.add_user(sqlite_db, SYSTEM, "sam", "Sam", "associate", "4444")
    with pytest.raises(ValidationError, match="unknown role"):
        users.add_user(sqlite_db, SYSTEM, "kim", "Kim", "owner", "4444")


def test_lockout_threshold_is_a_setting(sqlite_db: Database) -> None:
    users.add_user(sqlite_db, SYSTEM, "sam", "Sam", "associate", "4444")
    settings.set_value(sqlite_db, SYSTEM, "lockout_attempts", 2)
    with pytest.raises(AuthenticationFailed, match="1 attempt left"):
        users.authenticate(sqlite_db, "sam", "0000")
    with pytest.raises(AuthenticationFailed, match="now locked"):
        users.authenticate(sqlite_db, "sam", "0000")
