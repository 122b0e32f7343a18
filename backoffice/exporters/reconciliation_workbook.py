"""The reconciliation workbook of one business day: Cover (the day's POS and METRC totals
and findings by kind) and Findings (every finding of the day, then those still open from
earlier days, with how each was resolved)."""

from __future__ import annotations

import os
from datetime import datetime

from backoffice.domain.enums import FindingKind, FindingStatus
from backoffice.domain.store_calendar import StoreCalendar
from backoffice.exporters.xlsx_common import Book, Cancelled, Column, ExportResult, Kind, Progress, write_workbook
from backoffice.services.reconciliation import KIND_LABELS, DayView, FindingRow


def write_reconciliation_workbook(
    view: DayView, path: str | os.PathLike[str], *, progress: Progress | None = None, cancelled: Cancelled | None = None
) -> ExportResult:
    """Write ``view`` to ``path`` (.xlsx); see ``write_workbook`` for cancel and errors."""
    return write_workbook(
        path, lambda book: _build(book, view), total_rows=len(view.findings), progress=progress, cancelled=cancelled
    )


def _build(book: Book, view: DayView) -> None:
    _cover(book, view)
    book.table("Findings", finding_columns(StoreCalendar.named(view.summary.timezone)), view.findings, freeze_columns=3)


def finding_columns(calendar: StoreCalendar) -> list[Column[FindingRow]]:
    def when(moment: datetime | None) -> datetime | None:
        return calendar.local(moment) if moment is not None else None

    return [
        Column("Business day", Kind.DATE, lambda f: f.business_date),
        Column("Kind", Kind.TEXT, lambda f: KIND_LABELS[f.kind], 24),
        Column("Receipt", Kind.TEXT, lambda f: f.receipt_number),
        Column("Tag", Kind.TEXT, lambda f: f.tag, 27),
        Column("Item", Kind.TEXT, lambda f: f.item),
        Column("POS qty", Kind.QTY, lambda f: f.pos_quantity),
        Column("POS amount", Kind.MONEY, lambda f: f.pos_amount),
        Column("METRC qty", Kind.QTY, lambda f: f.metrc_quantity),
        Column("METRC amount", Kind.MONEY, lambda f: f.metrc_amount),
        Column("What differs", Kind.TEXT, lambda f: f.detail, 60),
        Column("Status", Kind.TEXT, lambda f: f.status.value, 10),
        Column("From an earlier day", Kind.BOOL, lambda f: f.carried),
        Column("Resolution", Kind.TEXT, lambda f: f.resolution.label if f.resolution else None, 26),
        Column("Note", Kind.TEXT, lambda f: f.note, 40),
        Column("Resolved by", Kind.TEXT, lambda f: f.resolved_by),
        Column("Resolved at", Kind.DATETIME, lambda f: when(f.resolved_at)),
        Column("METRC outbox #", Kind.ID, lambda f: f.outbox_id, 10),
        Column("Found at", Kind.DATETIME, lambda f: when(f.found_at)),
    ]


def _cover(book: Book, view: DayView) -> None:
    s = view.summary
    calendar = StoreCalendar.named(s.timezone)
    mine = [f for f in view.findings if not f.carried]
    facts: list[tuple[str, Kind, object]] = [
        ("Store", Kind.TEXT, s.store_name),
        ("Business day", Kind.DATE, s.business_date),
        ("Reconciled at", Kind.DATETIME, calendar.local(s.reconciled_at) if s.reconciled_at else None),
        ("POS receipts", Kind.INT, s.pos_receipts),
        ("POS sale lines", Kind.INT, s.pos_lines),
        ("POS sales", Kind.MONEY, s.pos_amount),
        ("METRC receipts", Kind.INT, s.metrc_receipts),
        ("METRC transactions", Kind.INT, s.metrc_lines),
        ("METRC sales", Kind.MONEY, s.metrc_amount),
        ("Findings this day", Kind.INT, len(mine)),
        *((f"  {KIND_LABELS[kind]}", Kind.INT, s.by_kind.get(kind, 0)) for kind in FindingKind),
        ("Open this day", Kind.INT, s.open),
        ("Resolved this day", Kind.INT, sum(1 for f in mine if f.status is FindingStatus.RESOLVED)),
        ("Open from earlier days", Kind.INT, s.carried_open),
    ]
    sheets = [
        (
            "Findings",
            "Every finding of the day, then the findings of earlier days that are still open; "
            "filter by kind or status.",
        )
    ]
    notes = [
        (
            KIND_LABELS[FindingKind.MISSING_IN_METRC],
            "The POS sold the tag on a receipt METRC has no sale for: METRC "
            "has not deducted the package. Record the sale in METRC (the outbox sends it) within the state's deadline.",
        ),
        (
            KIND_LABELS[FindingKind.RETURN_NOT_IN_METRC],
            "The POS took back product (a negative line) on a receipt "
            "METRC has no return for: record the return in METRC, or explain why the product did not go back.",
        ),
        (
            KIND_LABELS[FindingKind.MISSING_IN_POS],
            "METRC deducts a tag on a receipt the POS does not have (or has once while METRC has it twice).",
        ),
        (
            KIND_LABELS[FindingKind.QUANTITY_MISMATCH],
            "Both sides have the sale; the quantities differ (compared in METRC's unit).",
        ),
        (KIND_LABELS[FindingKind.AMOUNT_MISMATCH], "Both sides have the sale; the amounts charged differ."),
        (
            KIND_LABELS[FindingKind.NOT_ON_FLOOR],
            "The POS sold a package that was not on the sales floor at the time "
            "of the sale: its transfer to the floor was not recorded first.",
        ),
        (KIND_LABELS[FindingKind.UNKNOWN_TAG], "A tag sold that this store has no package for."),
        (
            "Matching",
            "POS receipts are paired with METRC receipts by receipt number (METRC's external receipt "
            "number), otherwise by shared tags within 10 minutes; a tag's lines are summed on each side.",
        ),
    ]
    book.cover(
        "Sales reconciliation: POS against METRC",
        f"{s.store_name} · business day {s.business_date:%Y-%m-%d}",
        facts,
        sheets,
        notes,
    )
