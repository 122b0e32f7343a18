"""POS export layouts: the built-in ones, those users saved for exports the built-in ones do
not fit, and a guess at a new export's layout for a person to confirm and save."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

from sqlalchemy import select

from backoffice.db.engine import Database
from backoffice.db.models import PosLayoutMapping
from backoffice.domain.numbers import NumberFormat
from backoffice.errors import ValidationError
from backoffice.importers.csv_common import normalize_header
from backoffice.importers.pos_layout_guess import LayoutGuess, guess_layout
from backoffice.importers.pos_sales_file import (
    BUILTIN_LAYOUTS,
    US_DATE_FORMATS,
    PosLayout,
    header_signature,
)
from backoffice.services import audit, settings
from backoffice.services.actor import Actor, Permission


def saved_layouts(db: Database) -> list[PosLayout]:
    """The column mappings users saved for exports the built-in layouts do not fit."""
    with db.read() as session:
        rows = session.scalars(select(PosLayoutMapping).order_by(PosLayoutMapping.name)).all()
        return [PosLayout.from_json(r.name, r.signature, r.mapping) for r in rows]


def all_layouts(db: Database) -> list[PosLayout]:
    return [*BUILTIN_LAYOUTS, *saved_layouts(db)]


def layout_names(db: Database) -> list[str]:
    return [layout.name for layout in all_layouts(db)]


def layout_named(db: Database, name: str) -> PosLayout:
    layouts = all_layouts(db)
    for layout in layouts:
        if normalize_header(layout.name) == normalize_header(name):
            return layout
    raise ValidationError(f"there is no POS export layout {name!r}; layouts: {', '.join(x.name for x in layouts)}")


def guess(db: Database, actor: Actor, path: Path | str, columns: Mapping[str, str] | None = None) -> LayoutGuess:
    """The likely layout of the export at ``path`` with its first rows read through it."""
    actor.require(Permission.IMPORT_DATA)
    with db.read() as session:
        tz_name = settings.get(session, settings.TIMEZONE)
    return guess_layout(str(path), store_tz=tz_name, columns=columns)


def save_layout(
    db: Database,
    actor: Actor,
    name: str,
    headers: Sequence[str],
    columns: Mapping[str, str],
    *,
    date_formats: Sequence[str] = US_DATE_FORMATS,
    timezone: str | None = None,
    number_format: NumberFormat | None = None,
) -> PosLayout:
    """Remember how an export with these ``headers`` maps to sale lines; files with the
    same headers (in any order, case or spacing) are then read with it."""
    actor.require(Permission.IMPORT_DATA)
    name = " ".join(name.split())
    if not name:
        raise ValidationError("give the layout a name, such as the POS vendor's")
    if len(name) > 60:
        raise ValidationError(f"layout name {name!r} is longer than 60 characters")
    if any(normalize_header(b.name) == normalize_header(name) for b in BUILTIN_LAYOUTS):
        raise ValidationError(f"{name!r} is a built-in layout's name; choose another")
    present = {normalize_header(h): h for h in headers}
    chosen = {f: h for f, h in columns.items() if h}
    absent = [h for h in chosen.values() if normalize_header(h) not in present]
    if absent:
        raise ValidationError(f"the file has no column {', '.join(map(repr, absent))}")
    doubled = [h for h, n in Counter(normalize_header(h) for h in chosen.values()).items() if n > 1]
    if doubled:
        raise ValidationError(f"column {present[doubled[0]]!r} is mapped to two fields; map each column once")
    signature = header_signature(headers)
    # validates the mapping
    layout = PosLayout(name, signature, chosen, tuple(date_formats), timezone or None, number_format)
    with db.transaction() as session:
        clash = session.scalar(
            select(PosLayoutMapping).where(PosLayoutMapping.name == name, PosLayoutMapping.signature != signature)
        )
        if clash is not None:
            raise ValidationError(f"another export layout is already called {name!r}; choose another name")
        row = session.scalar(select(PosLayoutMapping).where(PosLayoutMapping.signature == signature))
        before = None if row is None else {"name": row.name, "mapping": row.mapping}
        if row is None:
            session.add(PosLayoutMapping(signature=signature, name=name, mapping=layout.to_json()))
        else:
            row.name, row.mapping = name, layout.to_json()
        audit.record(
            session,
            actor,
            "pos_layout.save",
            "pos_layout",
            signature[:16],
            before=before,
            after={"name": name, "mapping": layout.to_json()},
        )
    return layout
