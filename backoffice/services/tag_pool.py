"""The store's unused METRC package tags: loaded from a tag order file or from METRC, listed,
counted, and handed out one at a time when a package is split.

A tag is unused while no package carries it: a tag METRC or a delivery has since put on a
package is never offered again, even if its pool row was never marked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import exists, func, insert, select
from sqlalchemy.orm import Session

from backoffice.db.engine import Database
from backoffice.db.models import Package, TagPoolEntry
from backoffice.domain.tag_ranges import parse_tag_order
from backoffice.domain.tags import tag_problem
from backoffice.errors import ImportFileError, Problem, RuleViolation, UserError
from backoffice.metrc.keys import MetrcKeyStore
from backoffice.services import audit, metrc_connection, settings
from backoffice.services.actor import Actor, Permission
from backoffice.services.changes import Changes

SKIPPED_IN_AUDIT = 50  # the audit event names this many skipped tags; the count is always there


@dataclass(frozen=True)
class TagImportResult:
    source: str
    added: int
    in_pool: list[str] = field(default_factory=list)  # skipped: already in the pool
    on_packages: list[str] = field(default_factory=list)  # skipped: already on a package
    available: int = 0  # unused tags after the import
    changes: Changes = Changes.INVENTORY

    def describe(self) -> str:
        words = [f"{self.added} tag{'s' if self.added != 1 else ''} added from {self.source}"]
        if self.in_pool:
            words.append(f"{len(self.in_pool)} already in the pool skipped ({_some(self.in_pool)})")
        if self.on_packages:
            words.append(f"{len(self.on_packages)} already on packages skipped ({_some(self.on_packages)})")
        return "; ".join(words) + f". {self.available} unused tags now."


@dataclass(frozen=True)
class PoolTag:
    tag: str
    used: bool  # a split took it, or a package carries it
    used_at: datetime | None  # when a split took it


@dataclass(frozen=True)
class TagSupply:
    available: int
    threshold: int

    @property
    def low(self) -> bool:
        return self.available < self.threshold

    def warning(self) -> str | None:
        if not self.low:
            return None
        if not self.available:
            return "No unused package tags: a split needs one. Import the store's tags from METRC or a tag order."
        return (
            f"Only {self.available} unused package tags left (fewer than {self.threshold}): order tags in METRC "
            "and import them."
        )


def _some(tags: Sequence[str], most: int = 3) -> str:
    return ", ".join(tags[:most]) + (f", … ({len(tags) - most} more)" if len(tags) > most else "")


def _unused() -> Any:
    """Pool rows no split took and no package carries."""
    return (TagPoolEntry.used_by_package_id.is_(None)) & ~exists().where(Package.tag == TagPoolEntry.tag)


# --- importing ---------------------------------------------------------------------------------


def import_file(db: Database, actor: Actor, path: Path | str) -> TagImportResult:
    """A tag order: one tag or ``FIRST-LAST`` range per line. Nothing is imported when any
    line is bad; the error names every bad line."""
    actor.require(Permission.IMPORT_TAGS)
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError(f"{path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {path.name}: {exc}; save it as a UTF-8 text or CSV file") from None
    strict = settings.read(db, settings.STRICT_TAGS)
    lines, bad = parse_tag_order(text, strict=strict)
    if bad:
        raise ImportFileError(
            f"{path.name} was not imported: {len(bad)} bad line{'s' if len(bad) > 1 else ''}; "
            "fix them and import it again.",
            [Problem(path.name, n, "", why) for n, why in bad],
        )
    tags = [tag for line in lines for tag in line.tags]
    if not tags:
        raise UserError(f"{path.name} holds no tags; write one tag or FIRST-LAST range per line")
    return _add(db, actor, tags, path.name)


def import_from_metrc(db: Database, actor: Actor, *, keys: MetrcKeyStore | None = None) -> TagImportResult:
    """The facility's available package tags from METRC, adding those the store does not know."""
    actor.require(Permission.IMPORT_TAGS)
    answer = metrc_connection.fetch_available_tags(db, actor, keys=keys)
    tags = []
    for row in answer:
        label = str(row.get("Label") or "").strip()
        if tag_problem(label) is None:  # METRC's own list: anything else is not a tag this store can use
            tags.append(label)
    if not tags:
        raise UserError("METRC lists no available package tags for this license; order tags in METRC first")
    return _add(db, actor, tags, "METRC")


def _add(db: Database, actor: Actor, tags: Iterable[str], source: str) -> TagImportResult:
    wanted = list(dict.fromkeys(tags))
    with db.transaction() as session:
        in_pool = _existing(session, TagPoolEntry.tag, wanted)
        on_packages = _existing(session, Package.tag, wanted) - in_pool
        new = [tag for tag in wanted if tag not in in_pool and tag not in on_packages]
        if new:
            session.execute(insert(TagPoolEntry), [{"tag": tag} for tag in new])
        skipped_pool = [t for t in wanted if t in in_pool]
        skipped_packages = [t for t in wanted if t in on_packages]
        audit.record(
            session,
            actor,
            "tags.import",
            "tag_pool",
            source,
            after={
                "added": len(new),
                "first": new[0] if new else None,
                "last": new[-1] if new else None,
                "skipped_in_pool": len(skipped_pool),
                "skipped_on_packages": len(skipped_packages),
                "skipped": (skipped_pool + skipped_packages)[:SKIPPED_IN_AUDIT],
            },
        )
        available = _count_unused(session)
    return TagImportResult(source, len(new), skipped_pool, skipped_packages, available)


def _existing(session: Session, column: Any, tags: Sequence[str], chunk: int = 900) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(tags), chunk):  # SQLite caps the parameters of one statement
        found.update(session.scalars(select(column).where(column.in_(tags[start : start + chunk]))))
    return found


# --- reading -----------------------------------------------------------------------------------


def _count_unused(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(TagPoolEntry).where(_unused())) or 0)


def supply(db: Database, actor: Actor) -> TagSupply:
    actor.require(Permission.VIEW_INVENTORY)
    with db.read() as session:
        return TagSupply(_count_unused(session), settings.get(session, settings.LOW_TAG_THRESHOLD))


def list_tags(db: Database, actor: Actor, *, available_only: bool = False, limit: int | None = None) -> list[PoolTag]:
    actor.require(Permission.VIEW_INVENTORY)
    on_package = exists().where(Package.tag == TagPoolEntry.tag)
    query = select(TagPoolEntry.tag, TagPoolEntry.used_at, TagPoolEntry.used_by_package_id, on_package).order_by(
        TagPoolEntry.tag
    )
    if available_only:
        query = query.where(_unused())
    with db.read() as session:
        return [
            PoolTag(tag, by is not None or bool(carried), used_at)
            for tag, used_at, by, carried in session.execute(query.limit(limit))
        ]


def take_next(session: Session) -> TagPoolEntry:
    """The next unused tag, locked for the caller's split (which marks it used)."""
    entry = session.scalar(select(TagPoolEntry).where(_unused()).order_by(TagPoolEntry.tag).limit(1).with_for_update())
    if entry is None:
        raise RuleViolation(
            "the store's tag pool is empty; order tags in METRC and import them "
            "(backoffice tags import FILE, or --from-metrc) before splitting"
        )
    return entry
