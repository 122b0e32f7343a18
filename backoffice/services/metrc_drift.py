"""The drift check: every active package compared with METRC — quantity (allowing for what the
store has queued and METRC has not applied yet), room, hold, lab state, finished.

The first run fetches every active package from METRC into a local mirror
(``metrc_package_mirror``); later runs fetch only what METRC changed since the previous run
began (``lastModified``; the finished ones from the inactive list), so an incremental check
costs a few calls. Each difference carries both values and the likely cause. Only differing
packages are listed: a difference that the store's queued changes explain is not drift.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, insert, select

from backoffice.db.batches import in_chunks
from backoffice.db.engine import Database
from backoffice.db.models import (
    Item,
    Location,
    MetrcDriftRun,
    MetrcPackageMirror,
    Package,
    utcnow,
)
from backoffice.domain import variance as rule
from backoffice.domain.enums import LabState, PackageStatus
from backoffice.domain.units import Unit, convert
from backoffice.errors import ValidationError
from backoffice.metrc.client import MetrcClient
from backoffice.services import audit, metrc_connection
from backoffice.services.actor import Actor, Permission
from backoffice.services.changes import Changes
from backoffice.services.metrc_pending import Pending, pending_changes

Connect = Callable[[], MetrcClient]
Progress = Callable[[str, float], None]
OVERLAP = timedelta(minutes=5)  # METRC's clock and ours differ; re-read a little of the previous window


@dataclass(frozen=True)
class Difference:
    tag: str
    item: str
    field: str  # quantity, room, hold, lab state, finished, missing in METRC, not in this store
    store: str
    metrc: str
    cause: str


@dataclass
class DriftResult:
    full: bool
    fetched: int
    compared: int
    started_at: datetime
    differences: list[Difference] = field(default_factory=list)
    changes: Changes = Changes.AUDIT

    @property
    def tags(self) -> list[str]:
        return sorted({d.tag for d in self.differences})

    @property
    def summary(self) -> str:
        kind = "full" if self.full else "incremental"
        return (
            f"{kind} check: {self.fetched:,} package(s) fetched from METRC, {self.compared:,} compared, "
            f"{len(self.tags):,} differ"
        )


@dataclass(frozen=True)
class _Local:
    tag: str
    item: str
    quantity: Decimal
    unit: str
    room: str
    status: PackageStatus
    lab_state: LabState


def check(
    db: Database, actor: Actor, *, full: bool = False, connect: Connect | None = None, progress: Progress | None = None
) -> DriftResult:
    """Fetch what METRC changed (everything on the first run or when ``full``), then compare."""
    actor.require(Permission.VIEW_INVENTORY)
    say = progress or (lambda _text, _fraction: None)
    started = utcnow()
    with db.read() as session:
        last = session.scalar(select(MetrcDriftRun.started_at).order_by(MetrcDriftRun.id.desc()).limit(1))
    full = full or last is None
    opener = connect or (lambda: metrc_connection.connect(db, actor.username))
    with opener() as client:
        if full:
            say("Fetching every active package from METRC", 0.05)
            active, finished = client.active_packages(), []
        else:
            assert last is not None
            say(f"Fetching what METRC changed since {last:%Y-%m-%d %H:%M} UTC", 0.05)
            active = client.active_packages(modified_since=last - OVERLAP, modified_until=started)
            finished = client.inactive_packages(last - OVERLAP, started)
    say("Saving METRC's packages", 0.7)
    _mirror(db, active, finished, full=full, at=started)
    say("Comparing", 0.85)
    with db.read() as session:
        local = _local_packages(session)
        mirror = {m.tag: m for m in session.execute(select(*_MIRROR_COLUMNS))}  # rows, not ORM objects: fast
        pending = pending_changes(session)
        finished_here = _finished_here_active_there(session)
    differences = compare(local, mirror, pending, finished_here)
    result = DriftResult(full, len(active) + len(finished), len(set(local) | set(mirror)), started, differences)
    with db.transaction() as session:
        session.add(
            MetrcDriftRun(
                started_at=started,
                finished_at=utcnow(),
                full=full,
                fetched=result.fetched,
                compared=result.compared,
                differences=len(result.tags),
                by_user_id=actor.user_id,
            )
        )
        audit.record(
            session,
            actor,
            "metrc.drift_check",
            "metrc",
            "packages",
            after={"full": full, "fetched": result.fetched, "differ": len(result.tags), "tags": result.tags[:50]},
        )
    return result


def _mirror(
    db: Database,
    active: Iterable[Mapping[str, Any]],
    finished: Iterable[Mapping[str, Any]],
    *,
    full: bool,
    at: datetime,
) -> None:
    rows = {row["tag"]: row for row in (_mirror_row(p, at, finished=False) for p in active) if row}
    rows.update({row["tag"]: row for row in (_mirror_row(p, at, finished=True) for p in finished) if row})
    with db.transaction() as session:
        if full:
            session.execute(delete(MetrcPackageMirror))
        else:
            tags = list(rows)
            for chunk in in_chunks(tags):
                session.execute(delete(MetrcPackageMirror).where(MetrcPackageMirror.tag.in_(chunk)))
        if rows:
            session.execute(insert(MetrcPackageMirror), list(rows.values()))


def _mirror_row(package: Mapping[str, Any], at: datetime, *, finished: bool) -> dict[str, Any] | None:
    tag = str(package.get("Label") or "")
    if not tag:
        return None
    try:
        quantity = Decimal(str(package.get("Quantity") or 0))
    except ArithmeticError:
        quantity = Decimal(0)
    return {
        "tag": tag,
        "quantity": quantity,
        "unit": str(package.get("UnitOfMeasureName") or ""),
        "location": str(package.get("LocationName") or ""),
        "sublocation": package.get("Sublocation"),
        "on_hold": bool(package.get("IsOnHold")),
        "on_recall": bool(package.get("IsOnRecall")),
        "lab_state": str(package.get("LabTestingState") or ""),
        "finished": finished or bool(package.get("FinishedDate")),
        "last_modified": _instant(package.get("LastModified")),
        "fetched_at": at,
    }


def _instant(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _local_packages(session: Any) -> dict[str, _Local]:
    rows = session.execute(
        select(
            Package.tag,
            Item.name,
            Package.quantity,
            Package.unit,
            Location.metrc_name,
            Package.status,
            Package.lab_state,
        )
        .join(Item, Item.id == Package.item_id)
        .join(Location, Location.id == Package.location_id)
        .where(Package.status != PackageStatus.FINISHED.value)
    )
    return {
        tag: _Local(tag, item, quantity, unit.value, room, status, lab)
        for tag, item, quantity, unit, room, status, lab in rows
    }


def _finished_here_active_there(session: Any) -> dict[str, str]:
    rows = session.execute(
        select(Package.tag, Item.name)
        .join(Item, Item.id == Package.item_id)
        .join(MetrcPackageMirror, MetrcPackageMirror.tag == Package.tag)
        .where(Package.status == PackageStatus.FINISHED.value, MetrcPackageMirror.finished.is_(False))
    )
    return dict(rows.all())


_MIRROR_COLUMNS = (
    MetrcPackageMirror.tag,
    MetrcPackageMirror.quantity,
    MetrcPackageMirror.unit,
    MetrcPackageMirror.location,
    MetrcPackageMirror.on_hold,
    MetrcPackageMirror.on_recall,
    MetrcPackageMirror.lab_state,
    MetrcPackageMirror.finished,
)


def compare(
    local: Mapping[str, _Local],
    mirror: Mapping[str, Any],
    pending: Pending,
    finished_here: Mapping[str, str] | None = None,
) -> list[Difference]:
    """Every difference between the store's packages and METRC's (``mirror``: rows of the mirror's
    columns), none that pending changes explain."""
    out: list[Difference] = []
    for tag, name in sorted((finished_here or {}).items()):
        out.append(
            Difference(
                tag,
                name,
                "finished",
                "finished",
                "active",
                "finished in this store but still active in METRC: finish it in METRC",
            )
        )
    for tag in sorted(local.keys() | mirror.keys()):
        here, there = local.get(tag), mirror.get(tag)
        if here is None:
            if there is not None and not there.finished and tag not in (finished_here or {}):
                out.append(
                    Difference(
                        tag,
                        "",
                        "not in this store",
                        "—",
                        f"{_qty(there.quantity)} {there.unit} in {there.location}",
                        "METRC lists it on this license but the store does not: "
                        "receive or import it, or ask METRC why it is here",
                    )
                )
            continue
        if there is None or there.finished:
            out.append(_missing(here, there, pending))
            continue
        out += _field_differences(here, there, pending)
    return out


def _missing(here: _Local, there: Any, pending: Pending) -> Difference:
    store = f"{_qty(here.quantity)} {here.unit} in {here.room}"
    if there is not None:
        return Difference(
            here.tag,
            here.item,
            "finished",
            store,
            "finished",
            "finished in METRC but active here: a sale or adjustment recorded in METRC only, "
            "or finished there by mistake",
        )
    if here.tag in pending.receiving:
        cause = (
            f"the receive sheet of {pending.receiving[here.tag]} is not keyed into METRC yet: key it in, "
            "then run the receiving check"
        )
    else:
        cause = "METRC does not list it as active: finished or moved to another license in METRC, or never received"
    return Difference(here.tag, here.item, "missing in METRC", store, "not active", cause)


def _field_differences(here: _Local, there: Any, pending: Pending) -> list[Difference]:
    out = []
    quantity = _quantity_difference(here, there, pending)
    if quantity is not None:
        out.append(quantity)
    if here.tag not in pending.rooms and there.location != here.room:
        out.append(
            Difference(
                here.tag,
                here.item,
                "room",
                here.room,
                there.location or "—",
                "moved without a recorded transfer, or the location change was resolved by hand "
                "and never keyed into METRC",
            )
        )
    on_hold_here = here.status is PackageStatus.ON_HOLD
    on_hold_there = there.on_hold or there.on_recall
    if on_hold_here != on_hold_there:
        held = "on recall" if there.on_recall else "on hold"
        out.append(
            Difference(
                here.tag,
                here.item,
                "hold",
                "on hold" if on_hold_here else "not held",
                held if on_hold_there else "not held",
                f"put {held} in METRC (a state hold or recall): hold it here too and keep it off the floor"
                if on_hold_there
                else "held in this store only: lift the hold here or ask the state to place it in METRC",
            )
        )
    if here.lab_state is not LabState.UNKNOWN and there.lab_state and there.lab_state != here.lab_state.value:
        out.append(
            Difference(
                here.tag,
                here.item,
                "lab state",
                here.lab_state.value,
                there.lab_state,
                "new lab results in METRC (retest or remediation): update the package here",
            )
        )
    return out


def _quantity_difference(here: _Local, there: Any, pending: Pending) -> Difference | None:
    try:
        metrc = _in_unit(there.quantity, there.unit, here.unit)
        queued = _in_unit(
            pending.quantity.get(here.tag, Decimal(0)), pending.units.get(here.tag) or here.unit, here.unit
        )
    except ValueError:
        return Difference(
            here.tag,
            here.item,
            "unit",
            here.unit,
            there.unit,
            "the package's unit differs between the store and METRC: correct the item's unit",
        )
    gap = rule.metrc_gap(here.quantity, metrc, queued)  # the count's rule: nothing queued accounts for it
    if gap == 0:
        return None
    queued_text = (
        f" (METRC will show {_qty(metrc + queued)} after outbox{pending.explains(here.tag)})" if queued else ""
    )
    if gap > 0:
        cause = (
            "METRC has less: a sale or adjustment recorded in METRC that this store does not have "
            "(a POS sale that synced to METRC but was not imported here?)"
        )
    else:
        cause = (
            "METRC has more: a sale or adjustment recorded here never reached METRC (a resolved or "
            "exported outbox entry, or a POS sale that never synced)"
        )
    return Difference(
        here.tag,
        here.item,
        "quantity",
        f"{_qty(here.quantity)} {here.unit}{queued_text}",
        f"{_qty(there.quantity)} {there.unit}",
        cause,
    )


def _in_unit(quantity: Decimal, unit: str, target: str) -> Decimal:
    if unit == target or not unit:
        return quantity
    try:
        return convert(quantity, Unit(unit), Unit(target))
    except (ValidationError, ValueError):
        raise ValueError(f"{unit} vs {target}") from None


def _qty(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"
