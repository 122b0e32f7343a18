"""Store POS end-of-day exports, ready to reconcile against METRC's receipts.

POS: one ``pos_imports`` row per file (its SHA-256: the same file twice is a no-op) and one
``pos_sale_lines`` row per sale line, keyed by (receipt number, line key). The line key is
the business day, the tag (or, for an untagged item, its product name) and its ordinal
within the receipt, so the same sales exported again in another layout are recognised and
skipped. Each new line
of a known package posts a SALE to the stock ledger and adds to ``sales_daily``, in the
import's one transaction. A line that cannot be booked (more sold than the package holds, a
unit of another family) fails the whole file with its line number: nothing half-imports.

A negative line is a return: it restocks its package with at most what was sold from it
before, and never reopens a finished package (the line is kept and the result says so: a
manager decides whether the product goes back). A void, a sale and its reversal on one
receipt, nets to zero and moves no stock.

METRC's side is stored by ``metrc_receipts_import`` (re-exported here for callers).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backoffice.db.batches import bulk_page_cache, in_chunks, insert_rows, insert_rows_returning_ids, update_rows
from backoffice.db.engine import Database
from backoffice.db.errors import collision_message
from backoffice.db.models import (
    Item,
    LedgerEntry,
    Package,
    PosImport,
    PosSaleLine,
    SalesDaily,
    table_of,
)
from backoffice.domain.enums import LedgerKind, PackageStatus
from backoffice.domain.numbers import QTY_PLACES, money_text
from backoffice.domain.store_calendar import StoreCalendar
from backoffice.domain.units import Unit, convert
from backoffice.errors import Cancelled, ImportFileError, Problem, RuleViolation
from backoffice.gc_pause import paused_gc
from backoffice.importers.csv_common import plain
from backoffice.importers.pos_sales_file import ParsedPosFile, parse_pos_file
from backoffice.importers.pos_sales_file import PosSaleLine as ParsedLine
from backoffice.services import audit, ledger, settings
from backoffice.services.actor import Actor, Permission
from backoffice.services.changes import Changes
from backoffice.services.metrc_receipts_import import MetrcImportResult as MetrcImportResult
from backoffice.services.metrc_receipts_import import fetch_metrc_receipts as fetch_metrc_receipts
from backoffice.services.metrc_receipts_import import import_metrc_file as import_metrc_file
from backoffice.services.metrc_receipts_import import store_metrc_receipts as store_metrc_receipts
from backoffice.services.pos_layouts import layout_named, saved_layouts

Progress = Callable[[str, float], None]
_BATCH = 10_000  # rows per INSERT statement
# A layout without a unit column, for a package this store does not know: the line is kept
# (reconciliation flags the tag) and counted as Each, the unit of nearly all retail items.
_FALLBACK_UNIT = Unit.EACH


def _quiet(_text: str, _fraction: float) -> None:
    """Progress sink for callers that do not show progress."""


def _never() -> bool:
    return False


class _Steps:
    """Progress for the person, and the points where a cancel stops the import: all before
    the commit, so a cancelled import rolls back whole."""

    def __init__(self, file_name: str, progress: Progress, cancelled: Callable[[], bool]) -> None:
        self.file_name, self.progress, self.cancelled = file_name, progress, cancelled

    def __call__(self, text: str, fraction: float) -> None:
        if self.cancelled():
            raise Cancelled(f"{self.file_name} was not imported: the import was cancelled, and nothing was stored.")
        self.progress(text, fraction)


# --- POS sales -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PosImportResult:
    file_name: str
    layout: str
    import_id: int
    lines_in_file: int
    lines_added: int
    lines_already_imported: int  # the same sales, imported before from this or another file
    file_seen_before: bool  # this very file (same bytes) was imported before: nothing was read into the store
    business_dates: tuple[date, ...]
    unknown_tags: tuple[str, ...]  # sold tags this store has no package for (reconciliation flags them)
    changes: Changes = Changes.SALES | Changes.INVENTORY
    not_restocked: tuple[str, ...] = ()  # finished packages a return was not put back into

    @property
    def summary(self) -> str:
        if self.file_seen_before:
            return f"{self.file_name} was already imported ({self.lines_in_file} lines); nothing changed."
        days = ", ".join(d.isoformat() for d in self.business_dates)
        text = (
            f"{self.file_name} ({self.layout}): {self.lines_added} sale lines imported"
            f"{f', {self.lines_already_imported} already imported' if self.lines_already_imported else ''}"
            f" for {days or 'no day'}."
        )
        if self.unknown_tags:
            text += f" {len(self.unknown_tags)} tag(s) sold are not in this store's inventory."
        if self.not_restocked:
            text += (
                f" Returns to {len(self.not_restocked)} finished package(s) were not put back into stock "
                f"({', '.join(self.not_restocked)}): a manager decides whether they go back on the shelf."
            )
        return text


class _Package(NamedTuple):
    """A sold package as the import reads it (Core rows: a day has thousands)."""

    id: int
    tag: str
    quantity: Decimal
    unit: Unit
    item_id: int
    item_unit: Unit
    finished: bool


class _Item(NamedTuple):
    id: int
    sku: str
    unit: Unit


@dataclass(slots=True)
class _NewLine:
    parsed: ParsedLine
    key: str
    day: date
    unit: Unit
    package: _Package | None
    item: _Item | None  # the package's item, or the item with the line's SKU
    moves_stock: bool = True  # False for both lines of a void and for a return to a finished package
    not_restocked: bool = False  # a return to a finished package
    line_id: int | None = None  # once stored


def import_pos_file(
    db: Database,
    actor: Actor,
    path: Path | str,
    *,
    layout: str | None = None,
    progress: Progress = _quiet,
    cancelled: Callable[[], bool] = _never,
) -> PosImportResult:
    """Read a POS end-of-day export and store its sales (see the module's doc).

    ``layout`` forces a built-in or saved layout by name; otherwise it is found by the
    file's headers, and UnknownLayoutError (carrying the headers) asks for a mapping.
    ``cancelled`` is asked between the steps (and every 10,000 lines stored): once it says
    yes, ``Cancelled`` is raised and nothing is stored."""
    actor.require(Permission.IMPORT_DATA)
    with paused_gc():
        return _import_pos_file(db, actor, path, layout, _Steps(Path(path).name, progress, cancelled))


def _import_pos_file(db: Database, actor: Actor, path: Path | str, layout: str | None, step: _Steps) -> PosImportResult:
    with db.read() as session:
        tz_name = settings.get(session, settings.TIMEZONE)
        strict = settings.get(session, settings.STRICT_TAGS)
    forced = layout_named(db, layout) if layout else None
    step("Reading the export", 0.05)
    parsed = parse_pos_file(path, store_tz=tz_name, layout=forced, layouts=saved_layouts(db), strict_tags=strict)
    step(f"Checking {len(parsed.lines):,} sale lines", 0.4)
    try:
        with db.transaction() as session:
            with bulk_page_cache(session.connection()):
                result = _store_pos(session, actor, Path(path).name, parsed, StoreCalendar.named(tz_name), step)
    except IntegrityError as exc:  # PostgreSQL: two workstations stored the same sales at once, or another clash
        raise RuleViolation(
            collision_message(
                exc,
                f"another workstation imported these sales at the same moment; import {Path(path).name} again "
                "and the sales already stored are skipped",
                ours=("line_key", "file_sha256"),
            )
        ) from None
    step.progress("Imported", 1.0)  # committed: too late to cancel
    return result


def _line_keys(lines: Sequence[ParsedLine], days: Sequence[date]) -> list[str]:
    """Business day, tag (or the untagged product's name) and its ordinal within the receipt,
    in file order. The day keeps apart a POS that starts its receipt numbers again each day."""
    seen: dict[tuple[str, str], int] = {}
    keys = []
    hashed: dict[tuple[str, str | None], str] = {}  # a few accessories make most untagged lines
    day_text: dict[date, str] = {}
    for line, day in zip(lines, days, strict=True):
        if line.tag:
            base = line.tag
        elif (base := hashed.get((line.product_name, line.sku), "")) == "":
            # accessories: the product name is what every layout has
            name = " ".join(line.product_name.casefold().split()) or (line.sku or "").casefold()
            base = hashed[(line.product_name, line.sku)] = "item:" + hashlib.sha256(name.encode()).hexdigest()[:20]
        if (prefix := day_text.get(day)) is None:
            prefix = day_text[day] = f"{day:%Y%m%d}:"
        base = prefix + base
        ordinal = seen[(line.receipt_number, base)] = seen.get((line.receipt_number, base), 0) + 1
        keys.append(f"{base}/{ordinal}")
    return keys


def _store_pos(
    session: Session, actor: Actor, file_name: str, parsed: ParsedPosFile, calendar: StoreCalendar, step: _Steps
) -> PosImportResult:
    lines = parsed.lines
    earlier = session.scalar(select(PosImport).where(PosImport.file_sha256 == parsed.file_sha256))
    if earlier is not None:
        days = tuple(sorted({calendar.business_day(line.sold_at) for line in lines}))
        return PosImportResult(
            file_name, earlier.layout, earlier.id, len(lines), 0, len(lines), True, days, (), Changes.NONE
        )
    problems: list[Problem] = []
    for line in lines:
        if len(line.receipt_number) > 40:
            problems.append(
                Problem(
                    file_name,
                    line.line,
                    parsed.header("receipt_number"),
                    f"{line.receipt_number!r} is longer than 40 characters",
                )
            )
        if line.sku and len(line.sku) > 40:
            problems.append(
                Problem(file_name, line.line, parsed.header("sku"), f"{line.sku!r} is longer than 40 characters")
            )
    if problems:
        raise ImportFileError(f"{file_name}: {len(problems)} problem(s); nothing was imported.", problems)

    line_days = [calendar.business_day(line.sold_at) for line in lines]  # once a line: 200,000 add up
    keys = _line_keys(lines, line_days)
    stored = _stored_lines(session, sorted({line.receipt_number for line in lines}))
    packages = _packages(session, sorted({line.tag for line in lines if line.tag}))
    items_by_sku = _items_by_sku(session, sorted({line.sku for line in lines if line.sku}))

    new: list[_NewLine] = []
    repeated = 0
    for line, key, day in zip(lines, keys, line_days, strict=True):
        pkg = packages.get(line.tag) if line.tag else None
        unit = (
            line.unit or (pkg.unit if pkg else None) or _item_unit(items_by_sku.get(line.sku or "")) or _FALLBACK_UNIT
        )
        before = stored.get((line.receipt_number, key))
        if before is not None:
            repeated += 1
            if (before.quantity, before.unit, before.amount) != (line.quantity, unit, line.amount):
                problems.append(
                    Problem(
                        file_name,
                        line.line,
                        parsed.header("quantity"),
                        f"receipt {line.receipt_number} ({line.tag or line.product_name}) was imported before with "
                        f"{plain(before.quantity)} {before.unit.value} for {money_text(before.amount)}; this file says "
                        f"{plain(line.quantity)} {unit.value} for {money_text(line.amount)}. An imported sale is not changed "
                        "by a later file: reconcile the day and resolve the difference there",
                    )
                )
            continue
        item = _Item(pkg.item_id, "", pkg.item_unit) if pkg else items_by_sku.get(line.sku or "")
        new.append(_NewLine(line, key, day, unit, pkg, item))
    _mark_voids(new)
    problems += _booking_problems(file_name, parsed.header, new, _sold_before(session, new))
    if problems:
        raise ImportFileError(
            f"{file_name}: {len(problems)} sale line(s) cannot be imported; nothing was imported. "
            "Fix what each line says and import the file again.",
            sorted(problems, key=lambda p: p.line),
        )

    record = PosImport(
        file_name=file_name[:260],
        file_sha256=parsed.file_sha256,
        layout=parsed.layout_name,
        line_count=len(lines),
        imported_by_id=actor.user_id,
    )
    session.add(record)
    session.flush()
    _insert_lines(session, record.id, new, step)
    step("Posting the sales to the stock ledger", 0.8)
    ledger.post_many(
        session,
        actor,
        [
            ledger.Posting(
                n.package.id,
                LedgerKind.SALE,
                -_in_package_unit(n),
                ledger.Doc("pos_sale_line", n.line_id),
                n.parsed.sold_at,
                f"POS receipt {n.parsed.receipt_number}",
            )
            for n in sorted(new, key=lambda n: (n.parsed.sold_at, n.parsed.line))
            if n.package is not None and n.moves_stock
        ],
    )
    step("Adding to the daily totals", 0.9)
    _add_to_daily(session, new)
    unknown = tuple(sorted({n.parsed.tag for n in new if n.parsed.tag and n.package is None}))
    days = tuple(sorted(set(line_days)))
    audit.record(
        session,
        actor,
        "import.pos_sales",
        "file",
        file_name,
        after={
            "import": record.id,
            "layout": parsed.layout_name,
            "sha256": parsed.file_sha256,
            "lines": len(lines),
            "added": len(new),
            "already_imported": repeated,
            "days": [d.isoformat() for d in days],
            "unknown_tags": len(unknown),
        },
    )
    not_restocked = tuple(
        sorted(
            {
                n.package.tag
                for n in new
                if n.package is not None and n.parsed.quantity < 0 and not n.moves_stock and n.not_restocked
            }
        )
    )
    return PosImportResult(
        file_name,
        parsed.layout_name,
        record.id,
        len(lines),
        len(new),
        repeated,
        False,
        days,
        unknown,
        not_restocked=not_restocked,
    )


def _item_unit(item: _Item | None) -> Unit | None:
    return item.unit if item is not None else None


def _stored_lines(session: Session, receipts: Sequence[str]) -> dict[tuple[str, str], Any]:
    found: dict[tuple[str, str], Any] = {}
    connection = session.connection()  # Core rows: the ORM's per-row loading is not needed here
    for chunk in in_chunks(receipts):
        for line in connection.execute(
            select(
                PosSaleLine.receipt_number,
                PosSaleLine.line_key,
                PosSaleLine.quantity,
                PosSaleLine.unit,
                PosSaleLine.amount,
            ).where(PosSaleLine.receipt_number.in_(chunk))
        ):
            found[(line.receipt_number, line.line_key)] = line
    return found


def _packages(session: Session, tags: Sequence[str]) -> dict[str, _Package]:
    found: dict[str, _Package] = {}
    connection = session.connection()  # Core rows: the ORM's per-row loading is not needed here
    for chunk in in_chunks(tags):
        for row in connection.execute(
            select(
                Package.id,
                Package.tag,
                Package.quantity,
                Package.unit,
                Package.item_id,
                Item.unit,
                Package.status == PackageStatus.FINISHED,
            )
            .join(Item, Item.id == Package.item_id)
            .where(Package.tag.in_(chunk))
        ):
            found[row[1]] = _Package(*row[:6], bool(row[6]))
    return found


def _items_by_sku(session: Session, skus: Sequence[str]) -> dict[str, _Item]:
    found: dict[str, _Item] = {}
    connection = session.connection()  # Core rows: the ORM's per-row loading is not needed here
    for chunk in in_chunks(skus):
        for row in connection.execute(select(Item.id, Item.sku, Item.unit).where(Item.sku.in_(chunk))):
            found[row[1]] = _Item(*row)
    return found


def _in_package_unit(new: _NewLine) -> Decimal:
    assert new.package is not None
    if new.unit is new.package.unit:
        return new.parsed.quantity
    return convert(new.parsed.quantity, new.unit, new.package.unit).quantize(QTY_PLACES)


def _mark_voids(new: list[_NewLine]) -> None:
    """A negative line that reverses a sale of the same package on its receipt, quantity for
    quantity, is a void: neither line moves stock."""
    returns = [n for n in new if n.package is not None and n.parsed.quantity < 0]
    if not returns:  # most days: nothing to pair
        return
    open_sales: dict[tuple[str, int, Decimal, Unit], list[_NewLine]] = defaultdict(list)
    for n in new:
        if n.package is not None and n.parsed.quantity > 0:
            open_sales[(n.parsed.receipt_number, n.package.id, n.parsed.quantity, n.unit)].append(n)
    for n in returns:
        assert n.package is not None
        sales = open_sales.get((n.parsed.receipt_number, n.package.id, -n.parsed.quantity, n.unit))
        if sales:
            sale = sales.pop(0)
            sale.moves_stock = n.moves_stock = False


def _sold_before(session: Session, new: list[_NewLine]) -> dict[int, Decimal]:
    """Per package with a return in the file: how much the stock ledger shows sold from it
    (sales less earlier returns, in the package's unit)."""
    ids = sorted({n.package.id for n in new if n.package is not None and n.parsed.quantity < 0 and n.moves_stock})
    sold: dict[int, Decimal] = {}
    connection = session.connection()
    for chunk in in_chunks(ids):
        for package_id, total in connection.execute(
            select(LedgerEntry.package_id, func.sum(LedgerEntry.quantity_delta))
            .where(LedgerEntry.package_id.in_(chunk), LedgerEntry.kind == LedgerKind.SALE)
            .group_by(LedgerEntry.package_id)
        ):
            sold[package_id] = -Decimal(total or 0)
    return sold


def _booking_problems(
    file_name: str, header: Callable[[str], str], new: list[_NewLine], sold_before: dict[int, Decimal]
) -> list[Problem]:
    """Lines the stock ledger would refuse, checked in sale order before anything is written.
    A return to a package that is (or the file's own sales leave) finished is kept but does not
    move stock: reopening a finished package is a manager's decision."""
    problems: list[Problem] = []
    balance: dict[str, Decimal] = {}
    finished: dict[str, bool] = {}
    sold = dict(sold_before)
    booked = sorted(
        (n for n in new if n.package is not None and n.moves_stock), key=lambda n: (n.parsed.sold_at, n.parsed.line)
    )
    for n in booked:
        pkg = n.package
        assert pkg is not None
        if n.unit.family is not pkg.unit.family:
            problems.append(
                Problem(
                    file_name,
                    n.parsed.line,
                    header("unit"),
                    f"{plain(n.parsed.quantity)} {n.unit.value} of {pkg.tag}, but that package is "
                    f"counted in {pkg.unit.value}; correct the unit in the POS and export again",
                )
            )
            continue
        held = balance.get(pkg.tag, pkg.quantity)
        taken = _in_package_unit(n)
        if taken < 0:  # a return
            if finished.get(pkg.tag, pkg.finished):
                n.moves_stock, n.not_restocked = False, True
                continue
            available = sold.get(pkg.id, Decimal(0))
            if -taken > available:
                problems.append(
                    Problem(
                        file_name,
                        n.parsed.line,
                        header("quantity"),
                        f"receipt {n.parsed.receipt_number} returns {plain(-n.parsed.quantity)} {n.unit.value} of "
                        f"{pkg.tag}, but only {plain(max(available, Decimal(0)))} {pkg.unit.value} were sold from it "
                        "before; a return puts back at most what was sold. Correct the line in the POS and export again",
                    )
                )
                continue
        after = held - taken
        if after < 0:
            problems.append(
                Problem(
                    file_name,
                    n.parsed.line,
                    header("quantity"),
                    f"receipt {n.parsed.receipt_number} sold {plain(n.parsed.quantity)} {n.unit.value} of {pkg.tag}, "
                    f"but this store's records show {plain(held)} {pkg.unit.value} left in it. Count the package and "
                    "adjust it (or import the day's earlier sales first), then import this file again",
                )
            )
            continue
        balance[pkg.tag] = after
        sold[pkg.id] = sold.get(pkg.id, Decimal(0)) + taken
        if after == 0:
            finished[pkg.tag] = True
    return problems


def _insert_lines(session: Session, import_id: int, new: list[_NewLine], step: _Steps) -> None:
    """Insert the lines (a statement per 10,000: a 200,000-row file's parameters are not all held
    at once) and note each one's id on it."""
    connection = session.connection()
    ordered = sorted(new, key=lambda n: n.parsed.tag or "")  # in the tag index's order
    for done, batch in enumerate(in_chunks(ordered, _BATCH)):
        stored = done * _BATCH
        step(f"Storing sale lines: {stored:,} of {len(ordered):,}", 0.5 + 0.3 * stored / len(ordered))
        ids = insert_rows_returning_ids(
            connection,
            table_of(PosSaleLine),
            [
                {
                    "import_id": import_id,
                    "receipt_number": n.parsed.receipt_number,
                    "line_key": n.key,
                    "sold_at": n.parsed.sold_at,
                    "business_date": n.day,
                    "tag": n.parsed.tag,
                    "package_id": n.package.id if n.package else None,
                    "item_id": n.item.id if n.item else None,
                    "sku": n.parsed.sku,
                    "product_name": n.parsed.product_name[:200],
                    "quantity": n.parsed.quantity,
                    "unit": n.unit,
                    "amount": n.parsed.amount,
                    "budtender": (n.parsed.budtender or "")[:40] or None,
                }
                for n in batch
            ],
        )
        for n, line_id in zip(batch, ids, strict=True):
            n.line_id = line_id


def _add_to_daily(session: Session, new: list[_NewLine]) -> None:
    """Add the new lines to the per-item, per-day totals the velocity reports read."""
    totals: dict[tuple[int, date], list[Any]] = defaultdict(lambda: [Decimal(0), Decimal(0), 0])
    for n in new:
        if n.item is None:
            continue
        quantity = n.parsed.quantity
        if n.unit is not n.item.unit and n.unit.family is n.item.unit.family:
            quantity = convert(quantity, n.unit, n.item.unit).quantize(QTY_PLACES)
        total = totals[(n.item.id, n.day)]
        total[0] += quantity
        total[1] += n.parsed.amount
        total[2] += 1
    if not totals:
        return
    connection = session.connection()
    days = sorted({day for _, day in totals})
    item_ids = sorted({item_id for item_id, _ in totals})
    existing: dict[tuple[int, date], Any] = {}
    for chunk in in_chunks(item_ids):
        for stored in connection.execute(
            select(SalesDaily.item_id, SalesDaily.day, SalesDaily.units, SalesDaily.revenue, SalesDaily.lines).where(
                SalesDaily.item_id.in_(chunk), SalesDaily.day.in_(days)
            )
        ):
            existing[(stored.item_id, stored.day)] = stored
    fresh: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for (item_id, day), (units, revenue, count) in totals.items():
        row = existing.get((item_id, day))
        if row is None:
            fresh.append({"item_id": item_id, "day": day, "units": units, "revenue": revenue, "lines": count})
        else:
            changed.append(
                {
                    "units": row.units + units,
                    "revenue": row.revenue + revenue,
                    "lines": row.lines + count,
                    "item_id": item_id,
                    "day": day,
                }
            )
    table = table_of(SalesDaily)
    insert_rows(connection, table, fresh)
    update_rows(connection, table, ("item_id", "day"), changed)
