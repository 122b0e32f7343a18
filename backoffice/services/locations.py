"""The store's rooms (vault, sales floor, quarantine, …) and their METRC names."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.db.engine import Database
from backoffice.db.models import Location
from backoffice.domain.enums import LocationKind
from backoffice.domain.text import check_metrc_text
from backoffice.errors import NotFound, ValidationError
from backoffice.services import audit
from backoffice.services.actor import Actor, Permission


@dataclass(frozen=True)
class LocationInfo:
    id: int
    name: str
    kind: LocationKind
    metrc_name: str


def list_locations(db: Database, actor: Actor) -> list[LocationInfo]:
    actor.require(Permission.VIEW_INVENTORY)
    with db.read() as session:
        return [
            LocationInfo(loc.id, loc.name, loc.kind, loc.metrc_name)
            for loc in session.scalars(select(Location).where(Location.active).order_by(Location.name))
        ]


def location_named(session: Session, name: str) -> Location:
    """The active location called ``name``: the one look-up every service uses, so each says
    the same thing when a name is wrong."""
    loc = session.scalar(select(Location).where(Location.name == name.strip(), Location.active))
    if loc is None:
        names = ", ".join(session.scalars(select(Location.name).where(Location.active).order_by(Location.name)))
        raise NotFound(f"there is no location {name!r}; locations are: {names}")
    return loc


def add_location(db: Database, actor: Actor, name: str, kind: LocationKind | str, metrc_name: str = "") -> LocationInfo:
    actor.require(Permission.MANAGE_SETTINGS)
    name = name.strip()
    if not name:
        raise ValidationError("a location needs a name")
    check_metrc_text(name, "the location name")
    check_metrc_text(metrc_name.strip(), "the METRC location name")
    try:
        kind = LocationKind(kind)
    except ValueError:
        raise ValidationError(
            f"unknown location kind {kind!r}; kinds are: {', '.join(k.value for k in LocationKind)}"
        ) from None
    with db.transaction() as session:
        if session.scalar(select(Location.id).where(Location.name == name)) is not None:
            raise ValidationError(f"location {name!r} already exists")
        loc = Location(name=name, kind=kind, metrc_name=metrc_name.strip() or name)
        session.add(loc)
        session.flush()
        audit.record(
            session,
            actor,
            "location.add",
            "location",
            loc.id,
            after={"name": name, "kind": kind.value, "metrc_name": loc.metrc_name},
        )
        return LocationInfo(loc.id, loc.name, loc.kind, loc.metrc_name)
