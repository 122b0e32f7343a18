from __future__ import annotations

import time

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


@pytest.mark.parametrize(
    ("username", "role", "pin", "message"),
    [
        ("Bad Name!", "associate", "1234", "user name"),
        ("sam", "associate", "12", "4 to 12 digits"),
        ("sam", "associate", "12ab", "4 to 12 digits"),
        ("sam", "manager", "12345", "manager's PIN is 6 to 12 digits"),
        ("sam", "admin", "1234", "admin's PIN is 6 to 12 digits"),
    ],
)
def test_bad_user_input_is_refused(sqlite_db: Database, username: str, role: str, pin: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        users.add_user(sqlite_db, SYSTEM, username, "Sam", role, pin)


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


def test_the_production_pin_hash_costs_at_least_100_ms(monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite hashes at a cheap cost (tests/conftest.py); one guess at the real cost is slow."""
    monkeypatch.setattr(users, "PIN_KDF", users.PRODUCTION_KDF)
    started = time.perf_counter()
    stored = users.hash_pin("482913")
    assert time.perf_counter() - started >= 0.1
    assert stored.startswith(f"scrypt${users.PRODUCTION_KDF}$")


def test_an_older_hash_is_remade_at_the_current_cost_at_sign_in(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(users, "PIN_KDF", users.KdfCost(n=2**4, r=1, p=1))  # as an older release stored it
    users.add_user(sqlite_db, SYSTEM, "sam", "Sam", "associate", "4444")
    monkeypatch.setattr(users, "PIN_KDF", users.KdfCost(n=2**5, r=8, p=1))
    with pytest.raises(AuthenticationFailed):
        users.authenticate(sqlite_db, "sam", "0000")  # a wrong PIN changes nothing
    with sqlite_db.read() as session:
        assert session.scalar(select(User.pin_hash).where(User.username == "sam")).startswith("scrypt$16:1:1$")
    users.authenticate(sqlite_db, "sam", "4444")
    with sqlite_db.read() as session:
        stored = session.scalar(select(User.pin_hash).where(User.username == "sam"))
    assert stored.startswith("scrypt$32:8:1$") and users.pin_matches("4444", stored)


def test_failed_sign_ins_and_approvals_are_audit_events(db: Database, actors: dict[str, Actor]) -> None:
    from backoffice.services import audit

    for name, pin, purpose in (("alex", "0000", "sign-in"), ("ghost", "1234", "sign-in"), ("maria", "1", "approval")):
        with pytest.raises(AuthenticationFailed):
            users.authenticate(db, name, pin, purpose=purpose)
    rows = [(e.action, e.username, e.reason) for e in audit.list_events(db, actors["maria"], "failed")]
    assert rows == [
        ("user.approval_failed", "maria", "wrong PIN"),
        ("user.sign_in_failed", "ghost", "unknown user"),
        ("user.sign_in_failed", "alex", "wrong PIN"),
    ]
    with pytest.raises(PermissionDenied, match="may not read and verify the audit trail"):
        audit.list_events(db, actors["alex"])
    with pytest.raises(PermissionDenied, match="may not read and verify the audit trail"):
        audit.verify(db, actors["pat"])


def test_the_first_admin_only_into_a_store_without_users(sqlite_db: Database) -> None:
    info = users.add_first_admin(sqlite_db, "boss", "Boss", "135792")
    assert info.role.value == "admin"
    with pytest.raises(PermissionDenied, match="already has users"):
        users.add_first_admin(sqlite_db, "evil", "Evil", "246801")
