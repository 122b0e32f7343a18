"""Look-ups the receiving steps share: a manifest (open or not), a line by tag, a scanned or
typed tag checked against the store's tag rule, items matched by name and category, and the
few ways of writing numbers, times and notes in messages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backoffice.db.engine import Database
from backoffice.db.models import Item, Manifest, ManifestLine, User
from backoffice.domain.enums import ManifestStatus
from backoffice.errors import NotFound, RuleViolation, ValidationError
from backoffice.services import settings
from backoffice.services.receiving.views import NOTE_LIMIT
from backoffice.services.tags import checked_tag


def manifest_row(session: Session, manifest_id: int, *, lock: bool = False) -> Manifest:
    query = select(Manifest).where(Manifest.id == manifest_id)
    manifest = session.scalar(query.with_for_update() if lock else query)
    if manifest is None:
        raise NotFound(f"there is no manifest #{manifest_id}")
    return manifest


def open_manifest(session: Session, manifest_id: int, *, lock: bool = False) -> Manifest:
    """The manifest, refused once received: a finished receiving no longer changes."""
    manifest = manifest_row(session, manifest_id, lock=lock)
    if manifest.status is ManifestStatus.RECEIVED:
        raise RuleViolation(
            f"manifest {manifest.manifest_number} was received on {local_time(session, manifest.finished_at)}; "
            "it can no longer change. Fix a mistake found now with an adjustment or a return, not here."
        )
    return manifest


def find_manifest(db: Database, number: str) -> int:
    """The id of manifest ``number`` (leading zeros may be left out, as spreadsheets do)."""
    wanted = number.strip()
    with db.read() as session:
        found = session.scalar(select(Manifest.id).where(Manifest.manifest_number.in_({wanted, wanted.zfill(10)})))
    if found is None:
        raise NotFound(f"there is no manifest {wanted}; import it first (backoffice import manifest FILE)")
    return found


def line_row(session: Session, manifest: Manifest, tag: str, *, lock: bool = False) -> ManifestLine:
    query = select(ManifestLine).where(ManifestLine.manifest_id == manifest.id, ManifestLine.tag == tag)
    line = session.scalar(query.with_for_update() if lock else query)
    if line is None:
        raise NotFound(f"tag {tag} is not on manifest {manifest.manifest_number}")
    return line


def lines_by_tag(session: Session, manifest: Manifest, tags: Sequence[str]) -> list[ManifestLine]:
    """The manifest's lines of ``tags``, locked, in the order given; every tag must be on it."""
    found = {
        line.tag: line
        for line in session.scalars(
            select(ManifestLine)
            .where(ManifestLine.manifest_id == manifest.id, ManifestLine.tag.in_(tags))
            .with_for_update()
        )
    }
    missing = [tag for tag in tags if tag not in found]
    if missing:
        raise NotFound(f"not on manifest {manifest.manifest_number}: {', '.join(missing[:5])}")
    return [found[tag] for tag in tags]


def clean_tag(session: Session, raw: str) -> str:
    return checked_tag(session, raw)


def clean_note(note: str | None) -> str:
    text = " ".join((note or "").split())
    if len(text) > NOTE_LIMIT:
        raise ValidationError(f"a note holds at most {NOTE_LIMIT} characters; this one has {len(text)}")
    return text


def local_time(session: Session, when: datetime | None) -> str:
    """A time in a message, as the store's clock showed it."""
    return "" if when is None else settings.calendar(session).stamp(when)


def plain_number(value: Decimal) -> str:
    return f"{value.normalize():f}"


def item_key(name: str, category: str) -> tuple[str, str]:
    return " ".join(name.split()).lower(), " ".join(category.split()).lower()


def match_items(session: Session, wanted: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Item ids for (name, category) pairs, matched without regard to case (runs of spaces in a
    file count as one); the oldest item wins when the catalogue holds a name twice."""
    keys = {item_key(name, category) for name, category in wanted}
    names = {name for name, _ in keys}
    found: dict[tuple[str, str], int] = {}
    rows: Iterable[tuple[int, str, str]] = (
        session.execute(
            select(Item.id, Item.name, Item.category).where(func.lower(Item.name).in_(names)).order_by(Item.id)
        )
        if names
        else []
    )
    for item_id, name, category in rows:
        key = item_key(name, category)
        if key in keys:
            found.setdefault(key, item_id)
    return found


def usernames(session: Session) -> dict[int, str]:
    return dict(session.execute(select(User.id, User.username)).all())
