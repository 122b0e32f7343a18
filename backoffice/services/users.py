"""Users, PINs (scrypt), sign-in with lockout.

Every sign-in and every approval PIN goes through ``authenticate``, from the GUI and the CLI
alike, so wrong PINs count towards the same lockout and each failure is an audit event.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from backoffice.db.engine import Database
from backoffice.db.models import User, utcnow
from backoffice.domain.enums import Role
from backoffice.errors import (
    AuthenticationFailed,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from backoffice.services import audit, settings
from backoffice.services.actor import Actor, Permission

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")


@dataclass(frozen=True)
class KdfCost:
    """scrypt parameters; stored in each hash, so a hash made at another cost still checks."""

    n: int
    r: int
    p: int

    def __str__(self) -> str:
        return f"{self.n}:{self.r}:{self.p}"


# A PIN has few possible values, so each guess must be slow: N=2**16, r=8 costs 64 MiB and
# well over 100 ms per guess here (tests/unit/test_users.py measures it). Hashes made at
# another cost are re-made at this one at the user's next sign-in. The test suite lowers
# PIN_KDF in tests/conftest.py (fixture ``_cheap_pin_hashing``) so that thousands of hashes
# stay fast; the production value is only ever this one.
PRODUCTION_KDF = KdfCost(n=2**16, r=8, p=1)
PIN_KDF = PRODUCTION_KDF

# Managers and administrators approve, restore and manage users: their PINs are longer.
_MIN_PIN_DIGITS = {Role.ADMIN: 6, Role.MANAGER: 6}


def hash_pin(pin: str) -> str:
    salt = secrets.token_bytes(16)
    cost = PIN_KDF
    digest = _scrypt(pin, salt, cost)
    return f"scrypt${cost}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def _scrypt(pin: str, salt: bytes, cost: KdfCost) -> bytes:
    return hashlib.scrypt(
        pin.encode(), salt=salt, dklen=32, n=cost.n, r=cost.r, p=cost.p, maxmem=256 * cost.n * cost.r + 2**20
    )


def _stored_cost(stored: str) -> KdfCost | None:
    parts = stored.split("$")
    if len(parts) != 4 or parts[0] != "scrypt":
        return None
    n, r, p = (int(x) for x in parts[1].split(":"))
    return KdfCost(n, r, p)


def pin_matches(pin: str, stored: str) -> bool:
    cost = _stored_cost(stored)
    if cost is None:
        return False
    _, _, salt_b64, digest_b64 = stored.split("$")
    return hmac.compare_digest(_scrypt(pin, base64.b64decode(salt_b64), cost), base64.b64decode(digest_b64))


def _check_pin(pin: str, role: Role) -> None:
    shortest = _MIN_PIN_DIGITS.get(role, 4)
    if not pin.isdigit() or not shortest <= len(pin) <= 12:
        raise ValidationError(f"a {role.value}'s PIN is {shortest} to 12 digits")


@dataclass(frozen=True)
class UserInfo:
    id: int
    username: str
    display_name: str
    role: Role
    active: bool
    locked_until: datetime | None

    def as_actor(self) -> Actor:
        return Actor(self.id, self.username, self.role)


def _info(user: User) -> UserInfo:
    return UserInfo(user.id, user.username, user.display_name, user.role, user.active, user.locked_until)


def add_user(db: Database, actor: Actor, username: str, display_name: str, role: Role | str, pin: str) -> UserInfo:
    actor.require(Permission.MANAGE_USERS)
    return _add(db, actor, username, display_name, role, pin, first_admin=False)


def add_first_admin(db: Database, username: str, display_name: str, pin: str) -> UserInfo:
    """The store's first user, an administrator, added by whoever installed the store; refused
    once any user exists (from then on an administrator adds users)."""
    return _add(db, Actor(None, "setup", Role.ADMIN), username, display_name, Role.ADMIN, pin, first_admin=True)


def _add(
    db: Database, actor: Actor, username: str, display_name: str, role: Role | str, pin: str, *, first_admin: bool
) -> UserInfo:
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise ValidationError(
            f"user name {username!r} must be 2–40 characters: lower-case letters, digits, '.', '_' or '-'"
        )
    try:
        role = Role(role)
    except ValueError:
        raise ValidationError(f"unknown role {role!r}; roles are: {', '.join(r.value for r in Role)}") from None
    _check_pin(pin, role)
    with db.transaction() as session:
        if first_admin and session.scalar(select(User.id).limit(1)) is not None:
            raise PermissionDenied("this store already has users: sign in as an administrator (--user NAME) to add one")
        if session.scalar(select(User.id).where(User.username == username)) is not None:
            raise ValidationError(f"user {username!r} already exists")
        user = User(username=username, display_name=display_name.strip() or username, role=role, pin_hash=hash_pin(pin))
        session.add(user)
        session.flush()
        audit.record(
            session,
            actor,
            "user.add_first_admin" if first_admin else "user.add",
            "user",
            user.id,
            after={"username": username, "role": role.value, "display_name": user.display_name},
        )
        return _info(user)


def any_users(db: Database) -> bool:
    with db.read() as session:
        return session.scalar(select(User.id).limit(1)) is not None


def list_users(db: Database, actor: Actor) -> list[UserInfo]:
    actor.require(Permission.MANAGE_USERS)
    with db.read() as session:
        return [_info(u) for u in session.scalars(select(User).order_by(User.username))]


def _get(session, username: str) -> User:  # type: ignore[no-untyped-def]
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFound(f"there is no user {username!r}")
    return user


def set_active(db: Database, actor: Actor, username: str, active: bool) -> UserInfo:
    actor.require(Permission.MANAGE_USERS)
    with db.transaction() as session:
        user = _get(session, username)
        if user.id == actor.user_id and not active:
            raise ValidationError("you cannot disable your own account")
        before = user.active
        user.active = active
        if active:
            user.failed_attempts, user.locked_until = 0, None
        audit.record(
            session,
            actor,
            "user.enable" if active else "user.disable",
            "user",
            user.id,
            before={"active": before},
            after={"active": active},
        )
        return _info(user)


def change_pin(db: Database, actor: Actor, username: str, new_pin: str) -> None:
    if actor.username != username.strip().lower():
        actor.require(Permission.MANAGE_USERS)
    with db.transaction() as session:
        user = _get(session, username)
        _check_pin(new_pin, user.role)
        user.pin_hash = hash_pin(new_pin)
        audit.record(session, actor, "user.pin_change", "user", user.id)


def authenticate(db: Database, username: str, pin: str, *, purpose: str = "sign-in") -> UserInfo:
    """Check a PIN, to sign in or (``purpose="approval"``) to approve another user's action.

    Wrong PINs count towards a lockout and the message says how many remain; every failure
    is an audit event. A failed attempt must be remembered, so it commits its own
    transaction and only then raises. A hash made at an older KDF cost is re-made at the
    current one on success."""
    now = utcnow()
    failure: str | None = None
    typed = username.strip().lower()
    with db.transaction() as session:
        user = session.scalar(select(User).where(User.username == typed))
        if user is None or not user.active:
            failure = "Unknown or disabled user. Check the user name, or ask a manager to enable the account."
            who = Actor(None, typed[:40] or "(blank)", Role.ASSOCIATE) if user is None else _actor(user)
            audit.record(
                session,
                who,
                f"user.{_action(purpose)}_failed",
                "user",
                typed[:40] or "(blank)" if user is None else user.id,
                reason="unknown user" if user is None else "disabled user",
            )
        elif user.locked_until is not None and user.locked_until > now:
            minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
            failure = (
                f"Account {user.username} is locked after too many wrong PINs; "
                f"try again in {minutes} min or ask a manager."
            )
            audit.record(
                session, _actor(user), f"user.{_action(purpose)}_failed", "user", user.id, reason="account locked"
            )
        elif not pin_matches(pin, user.pin_hash):
            attempts = settings.get(session, settings.LOCKOUT_ATTEMPTS)
            user.failed_attempts += 1
            audit.record(
                session,
                _actor(user),
                f"user.{_action(purpose)}_failed",
                "user",
                user.id,
                reason="wrong PIN",
                after={"failed_attempts": user.failed_attempts},
            )
            if user.failed_attempts >= attempts:
                minutes = settings.get(session, settings.LOCKOUT_MINUTES)
                user.locked_until = now + timedelta(minutes=minutes)
                user.failed_attempts = 0
                audit.record(session, _actor(user), "user.locked", "user", user.id, reason="too many wrong PINs")
                failure = f"Wrong PIN. Account {user.username} is now locked for {minutes} min."
            else:
                left = attempts - user.failed_attempts
                failure = f"Wrong PIN. {left} attempt{'s' if left != 1 else ''} left before the account locks."
        else:
            user.failed_attempts, user.locked_until = 0, None
            if purpose == "sign-in":
                user.last_login_at = now
            if _stored_cost(user.pin_hash) != PIN_KDF:
                user.pin_hash = hash_pin(pin)
            audit.record(session, _actor(user), f"user.{_action(purpose)}", "user", user.id)
            return _info(user)
    raise AuthenticationFailed(failure)


def _action(purpose: str) -> str:
    return "sign_in" if purpose == "sign-in" else purpose.replace("-", "_")


def _actor(user: User) -> Actor:
    return Actor(user.id, user.username, user.role)


def actor_for(db: Database, username: str) -> Actor:
    """The actor for a known active user without a PIN: for tests and benchmarks that set
    up data, never for a front end (the CLI and the GUI sign in with ``authenticate``)."""
    with db.read() as session:
        user = _get(session, username)
        if not user.active:
            raise AuthenticationFailed(f"user {user.username} is disabled")
        return Actor(user.id, user.username, user.role)
