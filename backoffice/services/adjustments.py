"""Package adjustments with a METRC reason: the one way to correct a package's quantity.

``Quantity`` is the signed change, never the new total (the screens show before → after).
Refused: a zero change, a result below zero, a unit of another family, a date in the
future or before the package was packaged, a reason not in the state's list, a missing
note where the reason requires one, a note over METRC's 200 characters, and a change over
a reason's cap (Michigan: Scale Variance ≤ 10 %). A change over the store's unit or dollar
threshold needs a manager's PIN. The adjustment row, its ledger row, its audit event and
its METRC outbox entry commit together.

Used by the Cycle Count tab and any other screen that corrects inventory: ``preview`` checks
everything and says whether approval is needed; ``adjust`` does it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.db.engine import Database
from backoffice.db.models import (
    Adjustment,
    AdjustmentReason,
    CountSession,
    Package,
    User,
    utcnow,
)
from backoffice.domain.enums import LedgerKind, OutboxKind, PackageStatus
from backoffice.domain.numbers import parse_decimal, to_money, to_quantity
from backoffice.domain.text import check_metrc_text
from backoffice.domain.units import Unit, convert, parse_unit
from backoffice.errors import (
    AuthenticationFailed,
    NotFound,
    PermissionDenied,
    RuleViolation,
    ValidationError,
)
from backoffice.metrc.payloads import NOTE_MAX, PackageAdjustment
from backoffice.services import audit, ledger, outbox, settings, users
from backoffice.services.actor import Actor, Permission
from backoffice.services.changes import Changes
from backoffice.services.tags import checked_tag

# Reasons seen in the wild across states; a store replaces them with its state's list from METRC.
DEFAULT_REASONS: tuple[tuple[str, bool, int | None], ...] = (
    ("Drying", False, None),
    ("Entry Error", True, None),
    ("Theft", True, None),
    ("Waste", False, None),
    ("Spoilage", False, None),
    ("Damage", False, None),
    ("Scale Variance", False, 10),
    ("Inventory Audit", True, None),
    ("Mandatory State Destruction", False, None),
    ("Vendor Returned Goods", False, None),
    ("Other", True, None),
)


# --- reasons ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    name: str
    requires_note: bool
    max_percent: int | None
    source: str


def _reason_rows(session: Session) -> list[AdjustmentReason]:
    return list(
        session.scalars(select(AdjustmentReason).where(AdjustmentReason.active).order_by(AdjustmentReason.name))
    )


def _seed_if_empty(session: Session) -> int:
    if session.scalar(select(AdjustmentReason.id).limit(1)) is not None:
        return 0
    session.add_all(
        AdjustmentReason(name=n, requires_note=note, max_percent=cap, source="settings")
        for n, note, cap in DEFAULT_REASONS
    )
    session.flush()
    return len(DEFAULT_REASONS)


def seed_default_reasons(db: Database) -> int:
    """Put the common reasons in place when the store has none yet; returns how many were added."""
    with db.transaction() as session:
        return _seed_if_empty(session)


def list_reasons(db: Database, actor: Actor) -> list[Reason]:
    """The active reasons, seeding the defaults first when the table is empty."""
    actor.require(Permission.VIEW_INVENTORY)
    seed_default_reasons(db)
    with db.read() as session:
        return [Reason(r.name, r.requires_note, r.max_percent, r.source) for r in _reason_rows(session)]


def load_reasons(db: Database, actor: Actor, metrc_reasons: Iterable[Mapping[str, Any]]) -> list[Reason]:
    """Replace the list with the state's (``GET packages/v1/adjust/reasons``: Name, RequiresNote).

    Reasons METRC no longer lists are deactivated, not deleted: old adjustments name them.
    A cap set in the store (``max_percent``) is kept: METRC's list does not carry it."""
    actor.require(Permission.MANAGE_SETTINGS)
    incoming: dict[str, bool] = {}
    for number, raw in enumerate(metrc_reasons, start=1):
        name = str(raw.get("Name") or "").strip() if isinstance(raw, Mapping) else ""
        if not name:
            raise ValidationError(f"adjustment reason {number} from METRC has no Name: {raw!r}")
        if len(name) > 80:
            raise ValidationError(f"adjustment reason {name[:40]!r}… is longer than 80 characters")
        incoming[name] = bool(raw.get("RequiresNote"))
    if not incoming:
        raise ValidationError("METRC returned no adjustment reasons; the store's list was left as it was")
    with db.transaction() as session:
        rows = {r.name: r for r in session.scalars(select(AdjustmentReason))}
        before = sorted(n for n, r in rows.items() if r.active)
        for name, requires_note in incoming.items():
            row = rows.get(name)
            if row is None:
                session.add(AdjustmentReason(name=name, requires_note=requires_note, source="metrc", active=True))
            else:
                row.requires_note, row.active, row.source = requires_note, True, "metrc"
        for name, row in rows.items():
            if name not in incoming:
                row.active = False
        audit.record(
            session,
            actor,
            "adjustment_reasons.load",
            "setting",
            "adjustment_reasons",
            before=before,
            after=sorted(incoming),
        )
        session.flush()
        return [Reason(r.name, r.requires_note, r.max_percent, r.source) for r in _reason_rows(session)]


def set_reason(
    db: Database, actor: Actor, name: str, *, requires_note: bool, max_percent: int | None = None, active: bool = True
) -> Reason:
    """Add or change one reason by hand (stores in manual mode, or a state's cap)."""
    actor.require(Permission.MANAGE_SETTINGS)
    name = name.strip()
    if not name or len(name) > 80:
        raise ValidationError("a reason name is 1 to 80 characters")
    check_metrc_text(name, "the reason name")
    if max_percent is not None and not 0 < max_percent <= 100:
        raise ValidationError(f"a cap of {max_percent} % makes no sense; give 1 to 100, or none")
    with db.transaction() as session:
        row = session.scalar(select(AdjustmentReason).where(AdjustmentReason.name == name))
        before = (
            None
            if row is None
            else {"requires_note": row.requires_note, "max_percent": row.max_percent, "active": row.active}
        )
        if row is None:
            row = AdjustmentReason(name=name, source="settings")
            session.add(row)
        row.requires_note, row.max_percent, row.active = requires_note, max_percent, active
        audit.record(
            session,
            actor,
            "adjustment_reason.set",
            "setting",
            f"adjustment_reason:{name}",
            before=before,
            after={"requires_note": requires_note, "max_percent": max_percent, "active": active},
        )
        return Reason(row.name, row.requires_note, row.max_percent, row.source)


# --- checking an adjustment -------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    """What an adjustment would do; shown before it is made."""

    tag: str
    item: str
    unit: Unit
    before: Decimal
    delta: Decimal  # in the package's unit
    after: Decimal
    value: Decimal  # |delta| × item price
    reason: str
    needs_approval: bool
    approval_why: str | None  # "4 units over the 5-unit threshold", for the PIN prompt


@dataclass(frozen=True)
class AdjustmentResult:
    id: int
    tag: str
    item: str
    unit: Unit
    before: Decimal
    delta: Decimal
    after: Decimal
    reason: str
    note: str
    adjustment_date: date
    approved_by: str | None
    outbox_id: int
    count_session_id: int | None
    changes: Changes = Changes.INVENTORY | Changes.OUTBOX | Changes.AUDIT


def _check(
    session: Session,
    tag: str,
    quantity: Decimal | str | int,
    reason_name: str,
    note: str,
    unit: Unit | str | None,
    adjustment_date: date | None,
    *,
    lock: bool,
) -> tuple[Package, Preview, AdjustmentReason, date]:
    tag = checked_tag(session, tag)
    query = select(Package).where(Package.tag == tag)
    pkg = session.scalar(query.with_for_update() if lock else query)
    if pkg is None:
        raise NotFound(f"tag {tag} is not in this store's inventory; check the label, or receive its manifest first")
    if pkg.status is PackageStatus.FINISHED:
        raise RuleViolation(
            f"package {tag} is finished (empty) here and in METRC, which refuses adjustments to finished packages; "
            "if product turned up, ask a manager to have METRC unfinish it first"
        )
    delta = _delta(quantity, unit, pkg)
    reason = session.scalar(
        select(AdjustmentReason).where(AdjustmentReason.name == reason_name.strip(), AdjustmentReason.active)
    )
    if reason is None:
        names = ", ".join(r.name for r in _reason_rows(session)) or "none loaded"
        raise ValidationError(f"{reason_name.strip()!r} is not one of this state's adjustment reasons ({names})")
    note = note.strip()
    if reason.requires_note and not note:
        raise ValidationError(
            f"the reason {reason.name!r} needs a note: say what happened (up to {NOTE_MAX} characters)"
        )
    if len(note) > NOTE_MAX:
        raise ValidationError(f"the note has {len(note)} characters; METRC allows {NOTE_MAX}. Shorten it")
    check_metrc_text(note, "the note")
    after = pkg.quantity + delta
    if after < 0:
        raise RuleViolation(
            f"package {tag} holds {_plain(pkg.quantity)} {pkg.unit.value}; a change of {_plain(delta)} would leave "
            f"{_plain(after)}. The change is the difference, not the new total"
        )
    if reason.max_percent is not None:
        percent = Decimal(100) if pkg.quantity == 0 else abs(delta) * 100 / pkg.quantity
        if percent > reason.max_percent:
            raise RuleViolation(
                f"{reason.name} is capped at {reason.max_percent} % of the package; {_plain(delta)} of "
                f"{_plain(pkg.quantity)} {pkg.unit.value} is {percent:.1f} %. Use another reason, such as Inventory Audit"
            )
    today = settings.calendar(session).today()  # adjustment dates are the store's local dates
    when = adjustment_date or today
    if when > today:
        raise ValidationError(f"adjustment date {when.isoformat()} is in the future; today is {today.isoformat()}")
    if pkg.packaged_date is not None and when < pkg.packaged_date:
        raise ValidationError(
            f"adjustment date {when.isoformat()} is before the package was packaged ({pkg.packaged_date.isoformat()})"
        )
    value = to_money(abs(delta) * _unit_price(pkg))
    units_limit = settings.get(session, settings.APPROVAL_UNITS)
    dollars_limit = settings.get(session, settings.APPROVAL_DOLLARS)
    why = None
    if abs(delta) > units_limit:
        why = f"{_plain(abs(delta))} {pkg.unit.value} is over the {_plain(units_limit)}-unit threshold"
    elif value > dollars_limit:
        why = f"${value} is over the ${dollars_limit} threshold"
    preview = Preview(
        tag, pkg.item.name, pkg.unit, pkg.quantity, delta, after, value, reason.name, why is not None, why
    )
    return pkg, preview, reason, when


def _delta(quantity: Decimal | str | int, unit: Unit | str | None, pkg: Package) -> Decimal:
    delta = parse_decimal(quantity, what="adjustment quantity")
    if unit is not None:
        given = unit if isinstance(unit, Unit) else parse_unit(unit)
        if given.family is not pkg.unit.family:
            raise ValidationError(
                f"package {pkg.tag} is counted in {pkg.unit.value}; an adjustment in {given.value} "
                f"({given.family.value}) cannot apply to it"
            )
        delta = convert(delta, given, pkg.unit)
    try:
        delta = to_quantity(delta, what="adjustment quantity")
    except ValidationError:
        raise ValidationError(
            f"{_plain(delta)} {pkg.unit.value} has more than 4 decimal places; round the adjustment"
        ) from None
    if delta == 0:
        raise ValidationError("an adjustment of 0 changes nothing; enter the signed difference, e.g. -2")
    return delta


def _unit_price(pkg: Package) -> Decimal:
    """The item's price per package unit (a price per gram applies to a package in ounces)."""
    item = pkg.item
    if item.unit is pkg.unit or item.unit.family is not pkg.unit.family:
        return item.price
    return item.price * convert(Decimal(1), pkg.unit, item.unit)


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"


def preview(
    db: Database,
    actor: Actor,
    tag: str,
    quantity: Decimal | str | int,
    reason: str,
    note: str = "",
    *,
    unit: Unit | str | None = None,
    adjustment_date: date | None = None,
) -> Preview:
    """Check an adjustment without making it: raises what ``adjust`` would raise."""
    actor.require(Permission.ADJUST)
    seed_default_reasons(db)
    with db.read() as session:
        return _check(session, tag, quantity, reason, note, unit, adjustment_date, lock=False)[1]


def _approver(db: Database, actor: Actor, why: str | None, username: str | None, pin: str | None) -> Actor:
    if username is None and actor.can(Permission.APPROVE_ADJUSTMENT):
        return actor  # a manager approves their own adjustment by making it
    if not username or not pin:
        raise PermissionDenied(f"this adjustment needs approval ({why}): a manager must enter their PIN")
    try:
        approver = users.authenticate(db, username, pin, purpose="approval").as_actor()
    except AuthenticationFailed as exc:
        raise AuthenticationFailed(f"manager approval failed: {exc}") from None
    if not approver.can(Permission.APPROVE_ADJUSTMENT):
        raise PermissionDenied(
            f"{approver.username} ({approver.role.value}) may not approve adjustments; a manager must enter their PIN"
        )
    return approver


def adjust(
    db: Database,
    actor: Actor,
    tag: str,
    quantity: Decimal | str | int,
    reason: str,
    note: str = "",
    *,
    unit: Unit | str | None = None,
    adjustment_date: date | None = None,
    approver: str | None = None,
    approver_pin: str | None = None,
    count_session_id: int | None = None,
) -> AdjustmentResult:
    """Change a package by ``quantity`` (signed) for ``reason``; one transaction writes the
    adjustment, its ledger row, its audit event and the METRC call."""
    actor.require(Permission.ADJUST)
    if actor.user_id is None:
        raise PermissionDenied("an adjustment must name the person who made it; sign in (CLI: --user NAME)")
    first = preview(db, actor, tag, quantity, reason, note, unit=unit, adjustment_date=adjustment_date)
    # The PIN is checked (and a wrong one counted) before the adjustment's own transaction.
    approved_by = _approver(db, actor, first.approval_why, approver, approver_pin) if first.needs_approval else None
    with db.transaction() as session:
        pkg, checked, reason_row, when = _check(session, tag, quantity, reason, note, unit, adjustment_date, lock=True)
        if checked.needs_approval and approved_by is None:  # the package changed since the preview
            raise PermissionDenied(f"{checked.approval_why}: a manager must approve it; try again")
        if count_session_id is not None and session.get(CountSession, count_session_id) is None:
            raise NotFound(f"there is no count #{count_session_id}")
        note = note.strip()
        row = Adjustment(
            package_id=pkg.id,
            quantity_delta=checked.delta,
            unit=pkg.unit,
            before_quantity=checked.before,
            after_quantity=checked.after,
            reason=reason_row.name,
            note=note,
            adjusted_at=utcnow(),
            user_id=actor.user_id,
            approved_by_id=approved_by.user_id if approved_by else None,
            count_session_id=count_session_id,
            unit_value=to_money(_unit_price(pkg)),
        )
        session.add(row)
        session.flush()
        doc = ledger.Doc("adjustment", row.id)
        ledger.post(
            session,
            actor,
            pkg,
            LedgerKind.ADJUSTMENT,
            checked.delta,
            doc,
            note=f"{reason_row.name}: {note}" if note else reason_row.name,
        )
        element = PackageAdjustment(pkg.tag, Decimal(_plain(checked.delta)), pkg.unit, reason_row.name, when, note)
        entry = outbox.enqueue(session, actor, OutboxKind.ADJUST, [element.to_metrc()], doc, f"adjustment:{row.id}")
        row.outbox_id = entry.id
        audit.record(
            session,
            actor,
            "package.adjust",
            "package",
            pkg.tag,
            reason=f"{reason_row.name}: {note}" if note else reason_row.name,
            before={"quantity": checked.before},
            after={
                "quantity": checked.after,
                "delta": checked.delta,
                "adjustment": row.id,
                "outbox": entry.id,
                "approved_by": approved_by.username if approved_by else None,
                "count": count_session_id,
                "date": when,
            },
        )
        changes = AdjustmentResult.changes | (Changes.COUNTS if count_session_id is not None else Changes.NONE)
        return AdjustmentResult(
            row.id,
            pkg.tag,
            checked.item,
            pkg.unit,
            checked.before,
            checked.delta,
            checked.after,
            reason_row.name,
            note,
            when,
            approved_by.username if approved_by else None,
            entry.id,
            count_session_id,
            changes,
        )


@dataclass(frozen=True)
class AdjustmentRow:
    id: int
    at: datetime
    tag: str
    delta: Decimal
    unit: Unit
    before: Decimal
    after: Decimal
    reason: str
    note: str
    by: str
    approved_by: str | None
    count_session_id: int | None


def list_adjustments(
    db: Database, actor: Actor, *, tag: str | None = None, count_session_id: int | None = None, limit: int = 500
) -> list[AdjustmentRow]:
    """Newest first, for one package or one count when given."""
    actor.require(Permission.VIEW_INVENTORY)
    query = select(Adjustment, Package.tag).join(Package, Package.id == Adjustment.package_id)
    if tag is not None:
        query = query.where(Package.tag == tag)
    if count_session_id is not None:
        query = query.where(Adjustment.count_session_id == count_session_id)
    with db.read() as session:
        names = dict(session.execute(select(User.id, User.username)).all())
        rows = session.execute(query.order_by(Adjustment.id.desc()).limit(limit)).all()
        return [
            AdjustmentRow(
                a.id,
                a.adjusted_at,
                pkg_tag,
                a.quantity_delta,
                a.unit,
                a.before_quantity,
                a.after_quantity,
                a.reason,
                a.note,
                names.get(a.user_id, "?"),
                names.get(a.approved_by_id) if a.approved_by_id else None,
                a.count_session_id,
            )
            for a, pkg_tag in rows
        ]
