"""Setting up the METRC connection, from Settings or a script: the API address, license and
version in one audited change, and the API keys (into the OS key store, never the database;
the audit trail records that a key changed, never the key)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from backoffice.db.engine import Database
from backoffice.db.models import User
from backoffice.errors import NotFound, PermissionDenied, ValidationError
from backoffice.metrc.keys import MetrcKeyStore
from backoffice.services import audit, settings
from backoffice.services.actor import Actor, Permission
from backoffice.services.changes import Changes


@dataclass(frozen=True)
class MetrcSetup:
    base_url: str
    license_number: str
    api_version: str
    window_hours: int
    max_in_flight: int
    retail_id_required: bool
    changes: Changes = Changes.SETTINGS | Changes.AUDIT


def current(db: Database) -> MetrcSetup:
    with db.read() as session:
        return MetrcSetup(
            settings.get(session, settings.METRC_BASE_URL),
            settings.get(session, settings.LICENSE_NUMBER),
            settings.get(session, settings.METRC_API_VERSION),
            settings.get(session, settings.METRC_WINDOW_HOURS),
            settings.get(session, settings.METRC_MAX_IN_FLIGHT),
            settings.get(session, settings.RETAIL_ID_REQUIRED),
        )


def configure(
    db: Database,
    actor: Actor,
    *,
    base_url: str | None = None,
    license_number: str | None = None,
    api_version: str | None = None,
    window_hours: int | None = None,
    max_in_flight: int | None = None,
    retail_id_required: bool | None = None,
) -> MetrcSetup:
    """Change the given fields (None: leave as is) in one transaction."""
    changes = {
        key: value
        for key, value in (
            (settings.METRC_BASE_URL.key, None if base_url is None else base_url.strip()),
            (settings.LICENSE_NUMBER.key, None if license_number is None else license_number.strip()),
            (settings.METRC_API_VERSION.key, None if api_version is None else api_version.strip().lower()),
            (settings.METRC_WINDOW_HOURS.key, window_hours),
            (settings.METRC_MAX_IN_FLIGHT.key, max_in_flight),
            (settings.RETAIL_ID_REQUIRED.key, retail_id_required),
        )
        if value is not None
    }
    if settings.LICENSE_NUMBER.key in changes and not changes[settings.LICENSE_NUMBER.key]:
        raise ValidationError("the METRC license number is empty; copy it from METRC (e.g. C10-0000789-LIC)")
    settings.set_values(db, actor, changes)
    return current(db)


def set_vendor_key(db: Database, actor: Actor, key: str, *, keys: MetrcKeyStore | None = None) -> Changes:
    """The integrator's key, one per installation: administrators only."""
    actor.require(Permission.MANAGE_SETTINGS)
    (keys or MetrcKeyStore()).set_vendor_key(key)
    with db.transaction() as session:
        audit.record(session, actor, "metrc.key_set", "metrc_key", "vendor")
    return Changes.AUDIT


def set_user_key(db: Database, actor: Actor, username: str, key: str, *, keys: MetrcKeyStore | None = None) -> Changes:
    """A person's own METRC key: set by that person, or by whoever manages users."""
    name = username.strip().lower()  # user names are stored in lower case
    if not name:
        raise ValidationError("name the user whose METRC key this is")
    if name != actor.username and not actor.can(Permission.MANAGE_USERS):
        raise PermissionDenied(f"only {name} or an administrator may set {name}'s METRC key")
    with db.read() as session:  # a key for a user this store does not have would never be used
        if session.scalar(select(User.id).where(User.username == name)) is None:
            raise NotFound(f"there is no user {name!r}; add the user first (backoffice users add)")
    (keys or MetrcKeyStore()).set_user_key(name, key)
    with db.transaction() as session:
        audit.record(session, actor, "metrc.key_set", "metrc_key", f"user:{name}")
    return Changes.AUDIT
