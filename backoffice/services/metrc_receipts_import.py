"""Store METRC sales receipts (a METRC export file or a day fetched through the connector).

Receipts are stored once, found again by METRC's Id, else its receipt number; a receipt METRC
changed since (corrected in METRC's web UI) replaces the stored copy.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backoffice.db.batches import in_chunks
from backoffice.db.engine import Database
from backoffice.db.errors import collision_message
from backoffice.db.models import MetrcReceipt, MetrcReceiptLine, utcnow
from backoffice.domain.store_calendar import StoreCalendar
from backoffice.domain.units import Unit
from backoffice.errors import ImportFileError, Problem, RuleViolation
from backoffice.importers.metrc_sales_file import ParsedMetrcReceipt, parse_metrc_receipts, parse_metrc_sales_file
from backoffice.services import audit, settings
from backoffice.services.actor import Actor, Permission
from backoffice.services.changes import Changes


@dataclass(frozen=True)
class MetrcImportResult:
    source: str
    receipts: int
    added: int
    updated: int  # METRC changed them since they were stored
    unchanged: int
    business_dates: tuple[date, ...]
    changes: Changes = Changes.SALES

    @property
    def summary(self) -> str:
        days = ", ".join(d.isoformat() for d in self.business_dates)
        return (
            f"{self.source}: {self.receipts} METRC receipts for {days or 'no day'} — {self.added} new, "
            f"{self.updated} updated, {self.unchanged} already stored."
        )


def import_metrc_file(db: Database, actor: Actor, path: Path | str) -> MetrcImportResult:
    """Store the receipts of a METRC sales export (API JSON or web CSV)."""
    actor.require(Permission.IMPORT_DATA)
    with db.read() as session:
        tz_name = settings.get(session, settings.TIMEZONE)
        strict = settings.get(session, settings.STRICT_TAGS)
    receipts = parse_metrc_sales_file(path, store_tz=tz_name, strict_tags=strict)
    return store_metrc_receipts(db, actor, receipts, Path(path).name)


def fetch_metrc_receipts(db: Database, actor: Actor, day: date, client: Any) -> MetrcImportResult:
    """Fetch one business day's receipts through the METRC connector (``client`` is a
    MetrcClient, see services.metrc_connection.connect) and store them."""
    actor.require(Permission.IMPORT_DATA)
    with db.read() as session:
        tz_name = settings.get(session, settings.TIMEZONE)
    data = client.active_receipts(day, day)
    receipts = parse_metrc_receipts(data, f"METRC receipts of {day.isoformat()}", store_tz=tz_name)
    return store_metrc_receipts(db, actor, receipts, f"METRC ({day.isoformat()})")


def store_metrc_receipts(
    db: Database, actor: Actor, receipts: Sequence[ParsedMetrcReceipt], source: str
) -> MetrcImportResult:
    actor.require(Permission.IMPORT_DATA)
    problems = [
        Problem(source, r.line, name, f"{value!r} is longer than 40 characters")
        for r in receipts
        for name, value in (
            ("ReceiptNumber", r.receipt_number),
            ("ExternalReceiptNumber", r.external_receipt_number),
            ("SalesCustomerType", r.customer_type),
        )
        if value and len(value) > 40
    ]
    if problems:
        raise ImportFileError(f"{source}: {len(problems)} problem(s); nothing was imported.", problems)
    try:
        with db.transaction() as session:
            result = _store_receipts(session, actor, receipts, source, settings.calendar(session))
            audit.record(
                session,
                actor,
                "import.metrc_sales",
                "file",
                source,
                after={
                    "receipts": result.receipts,
                    "added": result.added,
                    "updated": result.updated,
                    "days": [d.isoformat() for d in result.business_dates],
                },
            )
    except IntegrityError as exc:  # PostgreSQL: two workstations stored the same receipts at once
        raise RuleViolation(
            collision_message(
                exc,
                f"another workstation imported these METRC receipts at the same moment; import {source} again "
                "and the receipts already stored are skipped",
                ours=("metrc_id",),
            )
        ) from None
    return result


@dataclass
class _Plan:
    add: list[ParsedMetrcReceipt] = field(default_factory=list)
    replace: list[tuple[MetrcReceipt, ParsedMetrcReceipt]] = field(default_factory=list)
    unchanged: int = 0


def _store_receipts(
    session: Session, actor: Actor, receipts: Sequence[ParsedMetrcReceipt], source: str, calendar: StoreCalendar
) -> MetrcImportResult:
    by_id: dict[int, MetrcReceipt] = {}
    ids = sorted({r.receipt_id for r in receipts if r.receipt_id is not None})
    for chunk in in_chunks(ids):
        by_id.update(
            (r.metrc_id, r)
            for r in session.scalars(select(MetrcReceipt).where(MetrcReceipt.metrc_id.in_(chunk)))
            if r.metrc_id is not None
        )  # IN matched it
    by_number: dict[str, MetrcReceipt] = {}
    numbers = sorted({r.receipt_number for r in receipts if r.receipt_number and r.receipt_id not in by_id})
    for chunk in in_chunks(numbers):
        by_number.update(
            (r.receipt_number, r)
            for r in session.scalars(select(MetrcReceipt).where(MetrcReceipt.receipt_number.in_(chunk)))
            if r.receipt_number is not None
        )
    stored_lines = _receipt_lines(session, [r.id for r in (*by_id.values(), *by_number.values())])

    plan = _Plan()
    for receipt in receipts:
        row = by_id.get(receipt.receipt_id) if receipt.receipt_id is not None else None
        if row is None and receipt.receipt_number:
            row = by_number.get(receipt.receipt_number)
        if row is None:
            plan.add.append(receipt)
        elif _same(row, stored_lines.get(row.id, []), receipt):
            plan.unchanged += 1
        else:
            plan.replace.append((row, receipt))

    now = utcnow()
    for row, receipt in plan.replace:
        row.metrc_id = receipt.receipt_id if receipt.receipt_id is not None else row.metrc_id
        row.receipt_number, row.external_receipt_number = receipt.receipt_number, receipt.external_receipt_number
        row.sold_at, row.business_date = receipt.sold_at, calendar.business_day(receipt.sold_at)
        row.customer_type, row.imported_at = receipt.customer_type, now
    if plan.replace:
        replaced = [row.id for row, _ in plan.replace]
        for chunk in in_chunks(replaced):
            session.execute(delete(MetrcReceiptLine).where(MetrcReceiptLine.receipt_id.in_(chunk)))
    new_ids: list[int] = []
    if plan.add:
        new_ids = list(
            session.execute(
                insert(MetrcReceipt).returning(MetrcReceipt.id, sort_by_parameter_order=True),
                [
                    {
                        "metrc_id": r.receipt_id,
                        "receipt_number": r.receipt_number,
                        "external_receipt_number": r.external_receipt_number,
                        "sold_at": r.sold_at,
                        "business_date": calendar.business_day(r.sold_at),
                        "customer_type": r.customer_type,
                        "imported_at": now,
                    }
                    for r in plan.add
                ],
            ).scalars()
        )
    pairs = [*((row.id, r) for row, r in plan.replace), *zip(new_ids, plan.add, strict=True)]
    line_rows = [
        {"receipt_id": receipt_id, "tag": tx.tag, "quantity": tx.quantity, "unit": tx.unit, "amount": tx.amount}
        for receipt_id, r in pairs
        for tx in r.transactions
    ]
    if line_rows:
        session.execute(insert(MetrcReceiptLine), line_rows)
    days = tuple(sorted({calendar.business_day(r.sold_at) for r in receipts}))
    return MetrcImportResult(source, len(receipts), len(plan.add), len(plan.replace), plan.unchanged, days)


def _receipt_lines(session: Session, receipt_ids: Sequence[int]) -> dict[int, list[MetrcReceiptLine]]:
    found: dict[int, list[MetrcReceiptLine]] = defaultdict(list)
    for chunk in in_chunks(sorted(receipt_ids)):
        for line in session.scalars(select(MetrcReceiptLine).where(MetrcReceiptLine.receipt_id.in_(chunk))):
            found[line.receipt_id].append(line)
    return found


def _same(row: MetrcReceipt, lines: list[MetrcReceiptLine], receipt: ParsedMetrcReceipt) -> bool:
    def shape(items: Iterable[Any]) -> list[tuple[str, Decimal, Unit, Decimal]]:
        return sorted((i.tag, i.quantity, i.unit, i.amount) for i in items)

    return (row.receipt_number, row.external_receipt_number, row.sold_at, row.customer_type) == (
        receipt.receipt_number,
        receipt.external_receipt_number,
        receipt.sold_at,
        receipt.customer_type,
    ) and shape(lines) == shape(receipt.transactions)
