"""Users, PINs (scrypt), sign-in with lockout."""

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
from backoffice.errors import AuthenticationFailed, NotFound, ValidationError
from backoffice.services import audit, settings
from backoffice.services.actor import Actor, Permission

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")


def hash_pin(pin: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, dklen=32, **_SCRYPT)
    params = f"{_SCRYPT['n']}:{_SCRYPT['r']}:{_SCRYPT['p']}"
    return f"scrypt${params}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def pin_matches(pin: str, stored: str) -> bool:
    scheme, params, salt_b64, digest_b64 = stored.split("$")
    if scheme != "scrypt":
        return False
    n, r, p = (int(x) for x in params.split(":"))
    digest = hashlib.scrypt(pin.encode(), salt=base64.b64decode(salt_b64), dklen=32, n=n, r=r, p=p)
    return hmac.compare_digest(digest, base64.b64decode(digest_b64))


def _check_pin(pin: str) -> None:
    if not pin.isdigit() or not 4 <= len(pin) <= 12:
        raise ValidationError("a PIN is 4 to 12 digits")


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
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise ValidationError(
            f"user name {username!r} must be 2–40 characters: lower-case letters, digits, '.', '_' or '-'"
        )
    try:
        role = Role(role)
    except ValueError:
        raise ValidationError(f"unknown role {role!r}; roles are: {', '.join(r.value for r in Role)}") from None
    _check_pin(pin)
    with db.transaction() as session:
        if session.scalar(select(User.id).where(User.username == username)) is not None:
            raise ValidationError(f"user {username!r} already exists")
        user = User(username=username, display_name=display_name.strip() or username, role=role, pin_hash=hash_pin(pin))
        session.add(user)
        session.flush()
        audit.record(session, actor, "user.add", "user", user.id,
                     after={"username": username, "role": role.value, "display_name": user.display_name})
        return _info(user)


def list_users(db: Database) -> list[UserInfo]:
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
        audit.record(session, actor, "user.enable" if active else "user.disable", "user", user.id,
                     before={"active": before}, after={"active": active})
        return _info(user)


def change_pin(db: Database, actor: Actor, username: str, new_pin: str) -> None:
    if actor.username != username.strip().lower():
        actor.require(Permission.MANAGE_USERS)
    _check_pin(new_pin)
    with db.transaction() as session:
        user = _get(session, username)
        user.pin_hash = hash_pin(new_pin)
        audit.record(session, actor, "user.pin_change", "user", user.id)


def authenticate(db: Database, username: str, pin: str) -> UserInfo:
    """Check a PIN. Wrong PINs count towards a lockout; the message says how many remain.

    A failed attempt must be remembered, so it commits its own transaction and only then
    raises."""
    now = utcnow()
    failure: str | None = None
    with db.transaction() as session:
        user = session.scalar(select(User).where(User.username == username.strip().lower()))
        if user is None or not user.active:
            failure = "Unknown or disabled user. Check the user name, or ask a manager to enable the account."
        elif user.locked_until is not None and user.locked_until > now:
            minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
            failure = f"Account {user.username} is locked after too many wrong PINs; try again in {minutes} min or ask a manager."
        elif not pin_matches(pin, user.pin_hash):
            attempts = settings.get(session, settings.LOCKOUT_ATTEMPTS)
            user.failed_attempts += 1
            actor = Actor(user.id, user.username, user.role)
            if user.failed_attempts >= attempts:
                user.locked_until = now + timedelta(minutes=settings.get(session, settings.LOCKOUT_MINUTES))
                user.failed_attempts = 0
                audit.record(session, actor, "user.locked", "user", user.id, reason="too many wrong PINs")
                failure = f"Wrong PIN. Account {user.username} is now locked for {settings.get(session, settings.LOCKOUT_MINUTES)} min."
            else:
                left = attempts - user.failed_attempts
                failure = f"Wrong PIN. {left} attempt{'s' if left != 1 else ''} left before the account locks."
        else:
            user.failed_attempts, user.locked_until, user.last_login_at = 0, None, now
            audit.record(session, Actor(user.id, user.username, user.role), "user.sign_in", "user", user.id)
            return _info(user)
    raise AuthenticationFailed(failure)


def actor_for(db: Database, username: str) -> Actor:
    """The actor for a known active user, for scripted CLI calls (``--user``)."""
    with db.read() as session:
        user = _get(session, username)
        if not user.active:
            raise AuthenticationFailed(f"user {user.username} is disabled")
        return Actor(user.id, user.username, user.role)
