"""Acceptance checks and the line state machine: what stands in the way of accepting a
package (tag already in the store, failed or unfinished lab testing, item unknown), which
steps a line allows in each state, and the words that say why a step is refused. The tab
and the CLI ask ``line_actions`` instead of re-deriving the rules."""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backoffice.db.batches import in_chunks
from backoffice.db.models import Item, Location, ManifestLine, Package
from backoffice.domain.enums import LabState, ManifestLineState, ManifestStatus, PackageStatus
from backoffice.services.receiving.views import DECIDED, LineView, ScanProblem

_FAILED_LAB = {LabState.TEST_FAILED, LabState.RETEST_FAILED}
# testing not finished: the package is held until it passes, and a store may not take it in
_ON_HOLD_LAB = {LabState.NOT_SUBMITTED, LabState.SUBMITTED_FOR_TESTING}


class LineAction(enum.StrEnum):
    """A step on one manifest line; the value completes "… to <value>" in refusals."""

    SET_QUANTITY = "change its received quantity"
    SET_EXPIRATION = "set its expiration date"
    CREATE_ITEM = "create its item"
    REJECT = "reject it"
    ACCEPT = "accept it"
    UNDO = "undo the decision"


_P, _S, _A, _R = (
    ManifestLineState.PENDING,
    ManifestLineState.SCANNED,
    ManifestLineState.ACCEPTED,
    ManifestLineState.REJECTED,
)
# The line state machine: the states each step may start from. Scanning moves PENDING → SCANNED,
# accept SCANNED → ACCEPTED, reject PENDING/SCANNED → REJECTED, undo back to SCANNED or PENDING.
FROM_STATES: dict[LineAction, frozenset[ManifestLineState]] = {
    LineAction.SET_QUANTITY: frozenset({_S}),
    LineAction.SET_EXPIRATION: frozenset({_P, _S, _A}),  # a rejected package is not received: no date
    LineAction.CREATE_ITEM: frozenset(ManifestLineState),
    LineAction.REJECT: frozenset({_P, _S}),
    LineAction.ACCEPT: frozenset({_S}),
    LineAction.UNDO: frozenset(DECIDED),
}


def allows(state: ManifestLineState, action: LineAction) -> bool:
    return state in FROM_STATES[action]


def line_actions(line: LineView, status: ManifestStatus) -> frozenset[LineAction]:
    """The steps ``line`` allows now: none once the manifest is received; creating an item only
    while the line has none; accepting only a scanned package with nothing in the way."""
    if status is not ManifestStatus.OPEN:
        return frozenset()
    actions = {action for action, states in FROM_STATES.items() if line.state in states}
    if line.item_id is not None:
        actions.discard(LineAction.CREATE_ITEM)
    if line.problem is not None:
        actions.discard(LineAction.ACCEPT)
    return frozenset(actions)


def not_scanned_words(line: ManifestLine, action: str) -> str:
    if line.state is ManifestLineState.PENDING:
        return f"{line.tag} has not been scanned; scan the package to {action}"
    return decided_words(line, action)


def decided_words(line: ManifestLine, action: str) -> str:
    return f"{line.tag} is already {line.state.value}; undo that decision to {action}"


def undecided_words(manifest_number: str, tags: Sequence[str], total: int) -> str:
    """Why a manifest cannot be finished yet (the same words from the tab, the CLI and ``finish``)."""
    shown = ", ".join(tags[:5]) + (f" and {len(tags) - 5} more" if len(tags) > 5 else "")
    return (
        f"{len(tags)} of {total} packages on manifest {manifest_number} are neither accepted nor rejected: "
        f"{shown}. Accept each package that arrived; reject the rest (e.g. “Not in the delivery”)."
    )


@dataclass(frozen=True)
class Known:
    """What the store knows about a manifest's tags and items beyond the manifest itself."""

    skus: dict[int, str]
    packages: dict[str, tuple[PackageStatus, str, int]]  # tag → status, location name, package id
    catalogue_categories: dict[str, str]  # lower-case item name → a category the catalogue has it in


def known_about(session: Session, lines: Sequence[ManifestLine]) -> Known:
    item_ids = {line.item_id for line in lines if line.item_id is not None}
    skus = dict(session.execute(select(Item.id, Item.sku).where(Item.id.in_(item_ids))).all()) if item_ids else {}
    packages: dict[str, tuple[PackageStatus, str, int]] = {}
    tags = [line.tag for line in lines]
    for chunk in in_chunks(tags):
        for tag, status, location, package_id in session.execute(
            select(Package.tag, Package.status, Location.name, Package.id)
            .join(Location, Location.id == Package.location_id)
            .where(Package.tag.in_(chunk))
        ):
            packages[tag] = (status, location, package_id)
    unknown = {" ".join(line.item_name.split()).lower() for line in lines if line.item_id is None}
    categories: dict[str, str] = (
        dict(
            session.execute(
                select(func.lower(Item.name), Item.category).where(func.lower(Item.name).in_(unknown))
            ).all()
        )
        if unknown
        else {}
    )
    return Known(skus, packages, categories)


def known_about_one(session: Session, line: ManifestLine, sku: str | None) -> Known:
    """``known_about`` for the line just scanned, in one query when its item is known (a scan's path)."""
    if line.item_id is None or sku is None:
        return known_about(session, [line])
    existing = session.execute(
        select(Package.status, Location.name, Package.id)
        .join(Location, Location.id == Package.location_id)
        .where(Package.tag == line.tag)
    ).first()
    return Known({line.item_id: sku}, {line.tag: (existing[0], existing[1], existing[2])} if existing else {}, {})


def problem(line: ManifestLine, known: Known) -> tuple[ScanProblem, str] | None:
    """Why ``line`` may not be accepted as it stands, or None."""
    item = f"{line.item_name} ({line.category})"
    existing = known.packages.get(line.tag)
    if existing is not None and existing[2] != line.package_id:
        status, location, _ = existing
        return ScanProblem.IN_INVENTORY, (
            f"STOP: tag {line.tag} is already a package in this store ({status.value.replace('_', ' ')}, "
            f"{location}). A METRC tag is never used twice: set the package aside, reject it "
            f"(reason “Wrong item or tag”) and call the shipper."
        )
    if line.lab_state in _FAILED_LAB:
        return ScanProblem.FAILED_LAB, (
            f"STOP: package {line.tag}, {item}, failed lab testing ({line.lab_state.value}). It may not be "
            f"accepted: set it aside and reject it (reason “Failed lab testing”)."
        )
    if line.lab_state in _ON_HOLD_LAB:
        return ScanProblem.ON_HOLD, (
            f"STOP: package {line.tag}, {item}, is on hold: its lab testing is not finished "
            f"({line.lab_state.value}). Untested product may not be accepted: set it aside and reject it "
            f"(reason “On hold / lab results missing”)."
        )
    if line.item_id is None:
        other = known.catalogue_categories.get(" ".join(line.item_name.split()).lower())
        where = f" The catalogue has “{line.item_name}” as {other}, not {line.category}." if other else ""
        return ScanProblem.UNKNOWN_ITEM, (
            f"Item “{line.item_name}” ({line.category}) of package {line.tag} is not in this store's catalogue.{where} "
            "Create the item from this manifest line (Create items…; receive --create-items), then accept the "
            "package, or reject it."
        )
    return None


RETAIL_ID_MISSING = (
    "no Retail ID unit codes: the state requires them; do not accept without them (reject or call the shipper)"
)


def retail_id_warning(flagged: Collection[str], accepting: Sequence[str]) -> str | None:
    """Why accepting ``accepting`` needs a person's confirmation: some are packages METRC lists
    no Retail ID unit codes for while the state requires them (``retail_id.fetch_manifest_codes``
    names them). None when nothing flagged is being accepted."""
    bare = [tag for tag in accepting if tag in flagged]
    if not bare:
        return None
    shown = ", ".join(bare[:5]) + (f" and {len(bare) - 5} more" if len(bare) > 5 else "")
    return (
        f"{len(bare)} package(s) being accepted have {RETAIL_ID_MISSING}: {shown}. Reject them "
        "(reason “Other”, with a note) or call the shipper before accepting."
    )


def why_not_acceptable(line: ManifestLine, known: Known) -> str | None:
    if not allows(line.state, LineAction.ACCEPT):
        return not_scanned_words(line, LineAction.ACCEPT)
    found = problem(line, known)
    return found[1] if found else None
