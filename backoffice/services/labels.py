"""Which labels to print, built from the database, and the print log.

A run is chosen from scanned tags, a received manifest, a transfer, a category, or the items
whose price changed since their labels were last printed; as bin labels (barcode = METRC tag,
one per package) or shelf labels (barcode = SKU, one per item). A label whose package's lab
results do not clear it for sale is flagged and prints only with a manager's confirmation
(``lab_override``). After a successful render one transaction writes a ``label_prints`` row
per label and one audit event for the job.
"""

from __future__ import annotations

import enum
import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, insert, or_, select
from sqlalchemy.orm import Session

from backoffice.db.batches import IN_CHUNK
from backoffice.db.engine import Database
from backoffice.db.models import Item, LabelPrint, Manifest, ManifestLine, Package, Transfer, TransferLine, utcnow
from backoffice.domain.enums import LabState, LocationKind, PackageStatus
from backoffice.domain.tags import normalize_tag, tag_problem
from backoffice.errors import NotFound, PermissionDenied, RuleViolation, ValidationError
from backoffice.labels.model import LabelData
from backoffice.services import audit, settings, users
from backoffice.services.actor import Actor, Permission
from backoffice.services.changes import Changes

if TYPE_CHECKING:  # rendering imports Qt: only when a run is painted, not for choosing labels
    from PySide6.QtGui import QPainter

    from backoffice.labels.render import Cancel, Progress, RenderResult

_CHUNK = IN_CHUNK
_UNFINISHED = (PackageStatus.ACTIVE, PackageStatus.ON_HOLD)
_AUDIT_REFERENCES = 50  # flagged labels named in the audit event; the print log has them all


class Source(enum.StrEnum):
    TAGS = "tags"
    MANIFEST = "manifest"
    TRANSFER = "transfer"
    CATEGORY = "category"
    PRICE_CHANGED = "price-changed"


class LabelKind(enum.StrEnum):
    BIN = "bin"  # one per package, barcode = METRC tag
    SHELF = "shelf"  # one per item, barcode = SKU


@dataclass(frozen=True)
class Selection:
    """What to print: ``values`` holds the tags, or the one manifest number, transfer id or
    category; nothing for price changes."""

    source: Source
    values: tuple[str, ...] = ()

    @property
    def value(self) -> str:
        if len(self.values) != 1 or not self.values[0].strip():
            raise ValidationError(f"choose one {self.source.value} to print labels for")
        return self.values[0].strip()


_LAB_WORDS = {
    LabState.UNKNOWN: "no lab results on file",
    LabState.NOT_SUBMITTED: "not submitted for lab testing",
    LabState.SUBMITTED_FOR_TESTING: "lab results pending",
    LabState.TEST_FAILED: "failed lab testing",
    LabState.RETEST_FAILED: "failed lab retesting",
}


@dataclass(frozen=True)
class LabelLine:
    """One label of a run and what the print log ties it to."""

    label: LabelData
    item_id: int
    package_id: int | None  # None on shelf labels: they stand for the item, not one package
    location: str = ""

    @property
    def lab_problem(self) -> str | None:
        """Why this label needs a manager's confirmation, or None."""
        if self.label.lab_ok:
            return None
        state = LabState.parse(self.label.lab_state)
        words = _LAB_WORDS.get(state, "lab state")
        if state is not LabState.UNKNOWN:
            words += f" ({state.value})"
        return words if self.package_id is not None else f"no package in stock is cleared for sale: {words}"


@dataclass(frozen=True)
class LabelRun:
    kind: LabelKind
    source: str  # what was chosen, in words: "manifest 0004412345"
    lines: tuple[LabelLine, ...]
    left_out: tuple[str, ...] = ()  # what the source held but gets no label, and why

    @property
    def labels(self) -> list[LabelData]:
        return [line.label for line in self.lines]

    @property
    def flagged(self) -> list[LabelLine]:
        return [line for line in self.lines if line.lab_problem is not None]

    def without_flagged(self) -> LabelRun:
        kept = tuple(line for line in self.lines if line.lab_problem is None)
        dropped = tuple(f"{line.label.reference}: left out, {line.lab_problem}" for line in self.flagged)
        return replace(self, lines=kept, left_out=self.left_out + dropped)


@dataclass(frozen=True)
class LabOverride:
    """A manager's confirmation that flagged labels may print."""

    user_id: int | None
    username: str


@dataclass(frozen=True)
class PrintJob:
    job: str | None  # None when nothing was printed (cancelled before the first label)
    template: str
    labels: int
    pages: int
    cancelled: bool = False
    path: Path | None = None
    lab_override_by: str | None = None
    changes: Changes = Changes.LABELS | Changes.AUDIT


# --- choosing what to print --------------------------------------------------------------------


def select_labels(db: Database, actor: Actor, selection: Selection, *, kind: LabelKind = LabelKind.BIN) -> LabelRun:
    """The labels ``selection`` stands for, in the order a person works through them."""
    actor.require(Permission.PRINT_LABELS)
    with db.read() as session:
        if selection.source is Source.PRICE_CHANGED:
            return _price_changed(session, kind)
        chooser = {
            Source.TAGS: _by_tags,
            Source.MANIFEST: _by_manifest,
            Source.TRANSFER: _by_transfer,
            Source.CATEGORY: _by_category,
        }[selection.source]
        description, packages = chooser(session, selection)
        return _build(kind, description, packages)


def _by_tags(session: Session, selection: Selection) -> tuple[str, list[Package]]:
    strict = settings.get(session, settings.STRICT_TAGS)
    tags = list(dict.fromkeys(normalize_tag(raw) for raw in selection.values if raw.strip()))
    if not tags:
        raise ValidationError("scan or type at least one package tag")
    bad = [f"{tag!r} ({problem})" for tag in tags if (problem := tag_problem(tag, strict=strict))]
    if bad:
        raise ValidationError(f"not METRC tags: {'; '.join(bad)}. Scan the tag barcode on the package.")
    found = {pkg.tag: pkg for pkg in _packages_where(session, Package.tag, tags)}
    missing = [tag for tag in tags if tag not in found]
    if missing:
        raise NotFound(
            f"not in this store's inventory: {', '.join(missing)}. Check the label, or receive its manifest first."
        )
    return f"{len(tags)} scanned tag{'s' if len(tags) != 1 else ''}", [found[tag] for tag in tags]


def _by_manifest(session: Session, selection: Selection) -> tuple[str, list[Package]]:
    number = selection.value
    line_order = {
        package_id: index
        for index, package_id in enumerate(
            session.scalars(
                select(ManifestLine.package_id)
                .join(Manifest)
                .where(Manifest.manifest_number == number, ManifestLine.package_id.is_not(None))
                .order_by(ManifestLine.id)
            )
        )
    }
    packages = session.scalars(
        select(Package).where(
            or_(
                Package.received_from_manifest == number,
                Package.id.in_(list(line_order)),
            )
        )
    ).all()
    if not packages:
        raise NotFound(
            f"no packages were received from manifest {number}; check the number, or receive the manifest first"
        )
    ordered = sorted(packages, key=lambda p: (line_order.get(p.id, len(line_order)), p.tag))
    return f"manifest {number}", ordered


def _by_transfer(session: Session, selection: Selection) -> tuple[str, list[Package]]:
    text = selection.value.removeprefix("#")
    if not text.isdigit():
        raise ValidationError(
            f"transfer {selection.value!r} is not a transfer number; transfers are numbered 1, 2, 3, …"
        )
    transfer = session.get(Transfer, int(text))
    if transfer is None:
        raise NotFound(f"there is no transfer #{text}")
    ids = [
        line.package_id
        for line in session.scalars(
            select(TransferLine).where(TransferLine.transfer_id == transfer.id).order_by(TransferLine.id)
        )
    ]
    by_id = {pkg.id: pkg for pkg in _packages_where(session, Package.id, ids)}
    return f"transfer #{transfer.id}", [by_id[i] for i in ids]


def _by_category(session: Session, selection: Selection) -> tuple[str, list[Package]]:
    wanted = selection.value
    category = session.scalar(select(Item.category).where(func.lower(Item.category) == wanted.lower()).limit(1))
    if category is None:
        known = ", ".join(categories(session))
        raise NotFound(f"there is no category {wanted!r}; categories are: {known}")
    packages = session.scalars(
        select(Package)
        .join(Item, Package.item_id == Item.id)
        .where(Item.category == category, Package.status.in_(_UNFINISHED), Package.quantity > 0)
        .order_by(Item.name, Package.expiration_date, Package.tag)
    ).all()
    return f"category {category}", list(packages)


def _price_changed(session: Session, kind: LabelKind) -> LabelRun:
    description = "items whose price changed since their labels were last printed"
    if kind is LabelKind.BIN:
        printed = (
            select(LabelPrint.id)
            .where(LabelPrint.package_id == Package.id, LabelPrint.printed_at >= Item.price_changed_at)
            .exists()
        )
        packages = session.scalars(
            select(Package)
            .join(Item, Package.item_id == Item.id)
            .where(Item.price_changed_at.is_not(None), Package.status.in_(_UNFINISHED), ~printed)
            .order_by(Item.category, Item.name, Package.tag)
        ).all()
        return _build(kind, description, list(packages))
    printed = (
        select(LabelPrint.id)
        .where(
            LabelPrint.item_id == Item.id,
            LabelPrint.package_id.is_(None),
            LabelPrint.printed_at >= Item.price_changed_at,
        )
        .exists()
    )
    items = session.scalars(
        select(Item).where(Item.price_changed_at.is_not(None), ~printed).order_by(Item.category, Item.name)
    ).all()
    stock: dict[int, list[Package]] = {}
    for pkg in _packages_where(session, Package.item_id, [item.id for item in items]):
        if pkg.status in _UNFINISHED:
            stock.setdefault(pkg.item_id, []).append(pkg)
    lines = [_shelf_line(stock[item.id]) for item in items if item.id in stock]
    left_out = [
        f"{item.sku} {item.name}: no package in stock, so no shelf label" for item in items if item.id not in stock
    ]
    return LabelRun(kind, description, tuple(lines), tuple(left_out))


def _packages_where(session: Session, column: object, values: Sequence[object]) -> list[Package]:
    found: list[Package] = []
    for start in range(0, len(values), _CHUNK):
        found.extend(session.scalars(select(Package).where(column.in_(values[start : start + _CHUNK]))))  # type: ignore[attr-defined]
    return found


def categories(session: Session) -> list[str]:
    return list(session.scalars(select(Item.category).distinct().order_by(Item.category)))


def list_categories(db: Database, actor: Actor) -> list[str]:
    actor.require(Permission.VIEW_INVENTORY)
    with db.read() as session:
        return categories(session)


def recent_manifests(db: Database, actor: Actor, *, limit: int = 50) -> list[str]:
    """Manifest numbers packages were received from, newest first, for a pick list."""
    actor.require(Permission.VIEW_INVENTORY)
    with db.read() as session:
        rows = session.execute(
            select(Package.received_from_manifest, func.max(Package.received_at).label("at"))
            .where(Package.received_from_manifest.is_not(None))
            .group_by(Package.received_from_manifest)
            .order_by(func.max(Package.received_at).desc())
            .limit(limit)
        ).all()
        numbers = [number for number, _ in rows if number is not None]
        numbers += [
            n
            for n in session.scalars(select(Manifest.manifest_number).order_by(Manifest.id.desc()).limit(limit))
            if n not in numbers
        ]
        return numbers


# --- building labels ---------------------------------------------------------------------------


def _build(kind: LabelKind, description: str, packages: list[Package]) -> LabelRun:
    left_out = [f"{pkg.tag}: finished (empty), so no label" for pkg in packages if pkg.status is PackageStatus.FINISHED]
    live = [pkg for pkg in packages if pkg.status is not PackageStatus.FINISHED]
    if kind is LabelKind.BIN:
        lines = [_bin_line(pkg) for pkg in live]
    else:
        by_item: dict[int, list[Package]] = {}
        for pkg in live:
            by_item.setdefault(pkg.item_id, []).append(pkg)
        lines = [_shelf_line(group) for group in by_item.values()]
    return LabelRun(kind, description, tuple(lines), tuple(left_out))


def _bin_line(pkg: Package) -> LabelLine:
    item = pkg.item
    label = LabelData(
        product_name=item.name,
        barcode_value=pkg.tag,
        brand=item.brand,
        strain=item.strain,
        category=item.category,
        thc_percent=pkg.thc_percent,
        cbd_percent=pkg.cbd_percent,
        total_thc_percent=pkg.total_thc_percent,
        thc_mg_per_unit=item.unit_thc_mg,
        cbd_mg_per_unit=item.unit_cbd_mg,
        tag=pkg.tag,
        sku=item.sku,
        price=_price(item),
        packaged_date=pkg.packaged_date,
        expiration_date=pkg.expiration_date,
        lab_state=pkg.lab_state.value,
        bin=pkg.bin or "",
    )
    return LabelLine(label, item.id, pkg.id, pkg.location.name)


def _shelf_line(packages: Iterable[Package]) -> LabelLine:
    """One shelf label for an item; potency and lab state come from the package a customer most
    likely buys: cleared for sale, on the floor, newest."""
    best = max(
        packages,
        key=lambda p: (p.lab_state.sellable, p.location.kind is LocationKind.FLOOR, p.packaged_date or date.min, p.id),
    )
    item = best.item
    label = LabelData(
        product_name=item.name,
        barcode_value=item.sku,
        brand=item.brand,
        strain=item.strain,
        category=item.category,
        thc_percent=best.thc_percent,
        cbd_percent=best.cbd_percent,
        total_thc_percent=best.total_thc_percent,
        thc_mg_per_unit=item.unit_thc_mg,
        cbd_mg_per_unit=item.unit_cbd_mg,
        sku=item.sku,
        price=_price(item),
        lab_state=best.lab_state.value,
    )
    return LabelLine(label, item.id, None, best.location.name)


def _price(item: Item) -> Decimal | None:
    return item.price if item.price > 0 else None  # 0 is "no price set": print none rather than $0.00


# --- the manager's confirmation ----------------------------------------------------------------


def lab_override(db: Database, actor: Actor, manager: str = "", pin: str = "") -> LabOverride:
    """Confirm printing flagged labels: the signed-in user if their role allows it, otherwise a
    manager's user name and PIN (wrong PINs count towards the manager's lockout)."""
    actor.require(Permission.PRINT_LABELS)
    if actor.can(Permission.OVERRIDE_LAB_WARNING) and not manager:
        return LabOverride(actor.user_id, actor.username)
    if not manager or not pin:
        raise PermissionDenied(
            f"{actor.username} ({actor.role.value}) may not {Permission.OVERRIDE_LAB_WARNING.value}; "
            "a manager must confirm with their user name and PIN"
        )
    approver = users.authenticate(db, manager, pin, purpose="approval").as_actor()
    if not approver.can(Permission.OVERRIDE_LAB_WARNING):
        raise PermissionDenied(
            f"{approver.username} ({approver.role.value}) may not "
            f"{Permission.OVERRIDE_LAB_WARNING.value}; ask a manager"
        )
    return LabOverride(approver.user_id, approver.username)


# --- printing and the print log ---------------------------------------------------------------


def check_printable(actor: Actor, run: LabelRun, override: LabOverride | None) -> None:
    actor.require(Permission.PRINT_LABELS)
    if not run.lines:
        raise ValidationError(f"nothing to print for {run.source}" + (f": {run.left_out[0]}" if run.left_out else ""))
    flagged = run.flagged
    if flagged and override is None:
        listed = "; ".join(f"{line.label.reference} ({line.lab_problem})" for line in flagged[:5])
        more = f"; and {len(flagged) - 5} more" if len(flagged) > 5 else ""
        raise RuleViolation(
            f"{len(flagged)} label(s) are for product not cleared for sale: {listed}{more}. "
            "A manager must confirm before they print, or leave them out."
        )


def render(
    painter: QPainter,
    actor: Actor,
    run: LabelRun,
    template: str,
    *,
    start_position: int = 0,
    override: LabOverride | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> RenderResult:
    """Paint ``run`` with an active painter (a QPrinter's, from the GUI). Log it with ``log_print``
    once the printer has the pages: a preview paints too, and is not a print."""
    from backoffice.labels.render import render_labels

    check_printable(actor, run, override)
    return render_labels(
        painter,
        run.labels,
        template,
        start_position=start_position,
        lab_override=override is not None,
        progress=progress,
        cancel=cancel,
    )


def save_pdf(
    db: Database,
    actor: Actor,
    run: LabelRun,
    template: str,
    out_path: str | os.PathLike[str],
    *,
    start_position: int = 0,
    override: LabOverride | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> PrintJob:
    """Write the run to a PDF and log it; a cancelled run leaves no file and no log."""
    from backoffice.labels.render import render_labels_pdf

    check_printable(actor, run, override)
    result = render_labels_pdf(
        run.labels,
        template,
        out_path,
        start_position=start_position,
        lab_override=override is not None,
        progress=progress,
        cancel=cancel,
    )
    if result.cancelled:
        return PrintJob(None, result.template, 0, 0, cancelled=True)
    job = log_print(
        db,
        actor,
        run,
        template,
        labels=result.labels,
        pages=result.pages,
        override=override,
        destination=f"PDF {Path(out_path).name}",
    )
    return replace(job, path=result.path)


def log_print(
    db: Database,
    actor: Actor,
    run: LabelRun,
    template: str,
    *,
    labels: int,
    pages: int,
    override: LabOverride | None,
    destination: str,
) -> PrintJob:
    """Record the first ``labels`` labels of ``run`` as printed: a print-log row each, one audit event."""
    check_printable(actor, run, override)
    printed = run.lines[:labels]
    if not printed:
        return PrintJob(None, template, 0, pages, cancelled=True)
    job = str(uuid.uuid4())
    now = utcnow()
    overridden = [line for line in printed if line.lab_problem is not None]
    override_by = override.user_id if override is not None else None
    rows = [
        {
            "job": job,
            "printed_at": now,
            "user_id": actor.user_id,
            "template": template,
            "package_id": line.package_id,
            "item_id": line.item_id,
            "barcode_value": line.label.barcode_value,
            "price": line.label.price or 0,
            "lab_override_by_id": override_by if line.lab_problem is not None else None,
        }
        for line in printed
    ]
    with db.transaction() as session:
        session.execute(insert(LabelPrint), rows)
        audit.record(
            session,
            actor,
            "labels.print",
            "label_job",
            job,
            after={
                "template": template,
                "kind": run.kind.value,
                "source": run.source,
                "labels": len(printed),
                "pages": pages,
                "destination": destination,
                "lab_override_by": override.username if overridden and override else None,
                "overridden": [line.label.reference for line in overridden[:_AUDIT_REFERENCES]],
            },
            reason=f"lab warning overridden by {override.username} for {len(overridden)} label(s)"
            if overridden and override
            else None,
        )
    return PrintJob(
        job,
        template,
        len(printed),
        pages,
        cancelled=labels < len(run.lines),
        lab_override_by=override.username if overridden and override else None,
    )
