"""The METRC simulator's in-memory facility and the validation METRC applies to batches.

A batch is checked element by element against the state as it would be after the
elements before it (two adjustments of one package add up); any problem rejects the
whole batch with ``[{"row": i, "message": …}]`` (``row`` 0-based), as METRC does, and
nothing is applied. Messages are modelled on METRC's wording.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from backoffice.domain.units import Unit, convert
from backoffice.metrc.payloads import CUSTOMER_TYPES, NOTE_MAX, from_json

Json = dict[str, Any]

DEFAULT_REASONS: tuple[Json, ...] = tuple(
    {"Name": name, "RequiresNote": note}
    for name, note in (
        ("Drying", False),
        ("Entry Error", True),
        ("Theft", True),
        ("Waste", False),
        ("Spoilage", False),
        ("Damage", False),
        ("Scale Variance", False),
        ("Inventory Audit", True),
        ("Mandatory State Destruction", False),
        ("Vendor Returned Goods", False),
        ("Other", True),
    )
)
DEFAULT_LOCATIONS = ("Vault", "Sales Floor", "Quarantine")
_QTY = Decimal("0.0001")
QR_HOST = "https://1a4.com/"  # Retail ID unit codes are URLs; the first path segment is the short code
_MAX_EACHES = 500  # unit codes made up per package (a package of more units gets this many)


class Rejected(Exception):
    """A batch failed validation; ``problems`` is METRC's 400 body."""

    def __init__(self, problems: list[Json]) -> None:
        super().__init__(problems)
        self.problems = problems


class SimState:
    """Packages, locations, reasons, incoming transfers and receipts of one facility."""

    def __init__(self, now: Callable[[], datetime], reasons: Iterable[Mapping[str, Any]] = DEFAULT_REASONS) -> None:
        self._now = now
        self.packages: dict[str, Json] = {}
        self.locations: dict[str, int] = {}
        self.reasons: list[Json] = [dict(r) for r in reasons]
        self.transfers: list[Json] = []
        self.deliveries: dict[int, list[Json]] = {}
        self.receipts: list[Json] = []
        self.adjustments: list[Json] = []  # history, as GET packages/v2/adjustments answers it
        self.qr_index: dict[str, str] = {}  # short code -> label, filled as codes are handed out
        self.package_tags: dict[str, int] = {}  # the facility's ordered package tags -> METRC's tag id
        self._next_id = 900_000
        self._active: list[Json] | None = None  # cache; dropped on every change
        for name in DEFAULT_LOCATIONS:
            self.add_location(name)

    # --- seeding -------------------------------------------------------------------------

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def add_location(self, name: str, location_id: int | None = None) -> None:
        """An id from seeded METRC data wins over one this simulator made up."""
        if location_id is not None:
            self.locations[name] = location_id
        elif name not in self.locations:
            self.locations[name] = self._new_id()

    def add_package(self, package: Mapping[str, Any]) -> None:
        pkg = copy.deepcopy(dict(package))
        if pkg.get("LocationName"):
            self.add_location(pkg["LocationName"], pkg.get("LocationId"))
            pkg["LocationId"] = self.locations[pkg["LocationName"]]
        pkg.setdefault("LastModified", self._stamp())
        self.packages[pkg["Label"]] = pkg
        self._active = None

    def add_transfer(self, transfer: Mapping[str, Any]) -> None:
        data = copy.deepcopy(dict(transfer))
        self.deliveries[int(data["DeliveryId"])] = data.pop("Packages", [])
        self.transfers.append(data)

    def add_package_tags(self, labels: Iterable[str]) -> None:
        """Package tags the facility ordered; they are available until a package carries one."""
        for label in labels:
            self.package_tags.setdefault(label, self._new_id())

    def add_receipt(self, receipt: Mapping[str, Any]) -> None:
        self.receipts.append(copy.deepcopy(dict(receipt)))

    def seed_dir(self, folder: Path) -> None:
        """Load the sample files that exist in ``folder`` (shapes of METRC's GET answers)."""

        def load(name: str) -> Any:
            path = Path(folder) / name
            return from_json(path.read_bytes()) if path.exists() else None

        for package in load("metrc_packages_active.json") or []:
            self.add_package(package)
        transfers = load("metrc_incoming_transfer.json")
        for transfer in [transfers] if isinstance(transfers, dict) else transfers or []:
            self.add_transfer(transfer)
        for receipt in load("metrc_sales_receipts.json") or []:
            self.add_receipt(receipt)

    # --- GET -----------------------------------------------------------------------------

    def active_packages(self, modified_start: str | None = None, modified_end: str | None = None) -> list[Json]:
        if self._active is None:
            self._active = [p for p in self.packages.values() if not p.get("FinishedDate")]
        if modified_start is None and modified_end is None:
            return self._active
        return modified_between(self._active, modified_start, modified_end)

    def inactive_packages(self, modified_start: str | None, modified_end: str | None) -> list[Json]:
        finished = [p for p in self.packages.values() if p.get("FinishedDate")]
        return modified_between(finished, modified_start, modified_end)

    def finish(self, label: str, when: date) -> None:
        """As METRC's finish call (or its web UI) does."""
        self.packages[label].update(FinishedDate=when.isoformat(), IsFinished=True, LastModified=self._stamp())
        self._active = None

    def touch(self, label: str, **fields: Any) -> None:
        """Change a package as METRC would on its side (a recall hold, a lab result, a web-UI adjustment)."""
        self.packages[label].update(fields, LastModified=self._stamp())

    def available_package_tags(self) -> list[Json]:
        return [
            {"Id": tag_id, "Label": label, "TagTypeName": "CannabisPackage", "TagStateName": "Available"}
            for label, tag_id in sorted(self.package_tags.items())
            if label not in self.packages
        ]

    def changed(self) -> None:
        """Call after changing ``packages`` from outside (tests): list caches are rebuilt."""
        self._active = None

    # --- Retail ID -----------------------------------------------------------------------

    def qr_codes(self, label: str) -> list[str]:
        """The unit QR URLs of a package (active or on an incoming delivery): ``ProductLabel.QrCount``
        of them when given, otherwise one per unit of a count-based package (none for weighed
        product). Made up from the label, so they are stable."""
        pkg = self.packages.get(label) or self.shipped(label) or {}
        product = pkg.get("ProductLabel") or {}
        count = product.get("QrCount") if isinstance(product, dict) else None
        if count is None:
            quantity = pkg.get("Quantity", pkg.get("ShippedQuantity")) or 0
            unit = pkg.get("UnitOfMeasureName", pkg.get("ShippedUnitOfMeasureName"))
            count = int(Decimal(quantity)) if unit == "Each" else 0
        urls = []
        for n in range(1, min(int(count), _MAX_EACHES) + 1):
            code = hashlib.sha256(f"{label}/{n}".encode()).hexdigest()[:12].upper()
            self.qr_index[code] = label
            urls.append(f"{QR_HOST}{code}")
        return urls

    def shipped(self, label: str) -> Json | None:
        """A package on an incoming delivery."""
        return next(
            (p for packages in self.deliveries.values() for p in packages if p.get("PackageLabel") == label), None
        )

    def package_of_code(self, short_code: str) -> Json | None:
        label = self.qr_index.get(short_code.upper())
        if label is None:
            return None
        return self.packages.get(label) or {"Label": label, **(self.shipped(label) or {})}

    def incoming_transfers(self) -> list[Json]:
        return self.transfers

    def receipts_between(self, start: str | None, end: str | None) -> list[Json]:
        low = _bound(start, end_of_day=False)
        high = _bound(end, end_of_day=True)
        return [
            r
            for r in self.receipts
            if (low is None or _when(r["SalesDateTime"]) >= low) and (high is None or _when(r["SalesDateTime"]) <= high)
        ]

    # --- POST ----------------------------------------------------------------------------

    def change_locations(self, batch: list[Any]) -> None:
        moves: list[tuple[Json, str]] = []
        problems = []
        for row, element in enumerate(batch):
            try:
                pkg = self._package(element)
                location = _text(element, "Location")
                if location not in self.locations:
                    raise _Problem(f"Location '{location}' does not exist for this facility.")
                self._check_date(element, "MoveDate", pkg, "Move date")
                moves.append((pkg, location))
            except _Problem as problem:
                problems.append({"row": row, "message": str(problem)})
        if problems:
            raise Rejected(problems)
        for (pkg, location), element in zip(moves, batch, strict=True):
            pkg.update(LocationName=location, LocationId=self.locations[location], LastModified=self._stamp())
            if "Sublocation" in element:
                pkg["Sublocation"] = element["Sublocation"]

    def adjust(self, batch: list[Any]) -> list[int]:
        """Apply the batch; the ids of the adjustment records (v2 answers them)."""
        after: dict[str, Decimal] = {}
        problems = []
        for row, element in enumerate(batch):
            try:
                pkg = self._package(element)
                delta = _quantity(element, "Quantity")
                if delta == 0:
                    raise _Problem("Quantity cannot be zero.")
                delta = _in_package_unit(delta, _text(element, "UnitOfMeasure"), pkg)
                self._check_reason(element)
                self._check_date(element, "AdjustmentDate", pkg, "Adjustment date")
                label = pkg["Label"]
                new = after.get(label, Decimal(pkg["Quantity"])) + delta
                if new < 0:
                    have = after.get(label, Decimal(pkg["Quantity"]))
                    raise _Problem(
                        f"Package {label} cannot be adjusted below zero: it has {have} "
                        f"{pkg['UnitOfMeasureName']} and the adjustment is {delta}."
                    )
                after[label] = new
            except _Problem as problem:
                problems.append({"row": row, "message": str(problem)})
        if problems:
            raise Rejected(problems)
        for label, quantity in after.items():
            self.packages[label].update(Quantity=quantity, LastModified=self._stamp())
        ids = []
        for element in batch:
            ids.append(self._new_id())
            self.adjustments.append(
                {
                    "Id": ids[-1],
                    "PackageLabel": element["Label"],
                    "AdjustmentQuantity": element["Quantity"],
                    "AdjustmentUnitOfMeasureName": element["UnitOfMeasure"],
                    "AdjustmentReason": element["AdjustmentReason"],
                    "AdjustmentDate": element["AdjustmentDate"],
                    "ReasonNote": element.get("ReasonNote"),
                    "LastModified": self._stamp(),
                }
            )
        return ids

    def receipt_by_external(self, number: str) -> Json | None:
        return next((r for r in self.receipts if r.get("ExternalReceiptNumber") == number), None)

    def record_receipts(self, batch: list[Any]) -> None:
        known = {r.get(k) for r in self.receipts for k in ("ExternalReceiptNumber", "ReceiptNumber")} - {None}
        after: dict[str, Decimal] = {}
        accepted: list[Json] = []
        problems = []
        for row, element in enumerate(batch):
            try:
                accepted.append(self._receipt(element, known, after))
            except _Problem as problem:
                problems.append({"row": row, "message": str(problem)})
        if problems:
            raise Rejected(problems)
        for label, quantity in after.items():
            self.packages[label].update(Quantity=quantity, LastModified=self._stamp())
        self.receipts.extend(accepted)

    # --- element checks ------------------------------------------------------------------

    def _package(self, element: Any, field: str = "Label") -> Json:
        label = _text(element, field)
        pkg = self.packages.get(label)
        if pkg is None or pkg.get("FinishedDate"):
            raise _Problem(f"Package {label} does not exist or is not active for this facility.")
        return pkg

    def _check_reason(self, element: Json) -> None:
        name = _text(element, "AdjustmentReason")
        reason = next((r for r in self.reasons if r["Name"] == name), None)
        if reason is None:
            raise _Problem(
                f"Adjustment reason '{name}' is not valid. Valid reasons: "
                + ", ".join(r["Name"] for r in self.reasons)
                + "."
            )
        note = element.get("ReasonNote") or ""
        if not isinstance(note, str):
            raise _Problem("Reason note must be text.")
        if reason.get("RequiresNote") and not note.strip():
            raise _Problem(f"A reason note is required for adjustment reason '{name}'.")
        if len(note) > NOTE_MAX:
            raise _Problem(f"Reason note cannot be longer than {NOTE_MAX} characters.")

    def _check_date(self, element: Json, field: str, pkg: Json, what: str) -> None:
        when = _date(element, field)
        if when > self._now().date():
            raise _Problem(f"{what} {when.isoformat()} cannot be in the future.")
        packaged = pkg.get("PackagedDate")
        if packaged and when < date.fromisoformat(str(packaged)[:10]):
            raise _Problem(f"{what} {when.isoformat()} cannot be before the package's packaged date {packaged}.")

    def _receipt(self, element: Any, known: set[Any], after: dict[str, Decimal]) -> Json:
        number = _text(element, "ExternalReceiptNumber")
        if number in known:
            raise _Problem(f"A sales receipt with external receipt number {number} already exists.")
        try:
            sold_at = datetime.fromisoformat(_text(element, "SalesDateTime"))
        except ValueError:
            raise _Problem("SalesDateTime is not a valid date and time.") from None
        if sold_at.replace(tzinfo=None) > self._now():
            raise _Problem(f"Sales date {sold_at.isoformat()} cannot be in the future.")
        customer = element.get("SalesCustomerType")
        if customer not in CUSTOMER_TYPES:
            raise _Problem(f"Sales customer type '{customer}' is not valid.")
        lines = element.get("Transactions")
        if not isinstance(lines, list) or not lines:
            raise _Problem("A sales receipt needs at least one transaction.")
        transactions, total = [], Decimal(0)
        for line in lines:
            pkg = self._package(line, "PackageLabel")
            sold = _quantity(line, "Quantity")
            if sold <= 0:
                raise _Problem(f"Quantity sold from package {pkg['Label']} must be greater than zero.")
            amount = _quantity(line, "TotalAmount")
            label = pkg["Label"]
            used = _in_package_unit(sold, _text(line, "UnitOfMeasure"), pkg)
            left = after.get(label, Decimal(pkg["Quantity"])) - used
            if left < 0:
                raise _Problem(f"Package {label} does not have enough quantity to sell {sold} {line['UnitOfMeasure']}.")
            after[label] = left
            total += amount
            transactions.append(
                {"PackageLabel": label, "Quantity": sold, "UnitOfMeasure": line["UnitOfMeasure"], "TotalAmount": amount}
            )
        known.add(number)
        receipt_id = self._new_id()
        return {
            "Id": receipt_id,
            "ReceiptNumber": str(receipt_id),
            "ExternalReceiptNumber": number,
            "SalesDateTime": sold_at.isoformat(timespec="seconds"),
            "SalesCustomerType": customer,
            "IsFinal": False,
            "TotalPackages": len(transactions),
            "TotalPrice": total,
            "Transactions": transactions,
            "LastModified": self._stamp(),
        }

    def _stamp(self) -> str:
        now = self._now()  # a naive clock is local time, as datetime.now() gives it
        return (now if now.tzinfo else now.astimezone()).astimezone(UTC).isoformat(timespec="seconds")


class _Problem(Exception):
    """One element's problem; becomes ``{"row", "message"}``."""


def _text(element: Any, field: str) -> str:
    if not isinstance(element, dict):
        raise _Problem("Each element of the request must be an object.")
    value = element.get(field)
    if not isinstance(value, str) or not value.strip():
        raise _Problem(f"{field} is required.")
    return value


def _quantity(element: Json, field: str) -> Decimal:
    value = element.get(field)
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise _Problem(f"{field} must be a number.")
    return Decimal(value)


def _date(element: Json, field: str) -> date:
    try:
        return date.fromisoformat(_text(element, field)[:10])
    except ValueError:
        raise _Problem(f"{field} is not a valid date.") from None


def _in_package_unit(quantity: Decimal, unit_name: str, pkg: Json) -> Decimal:
    """METRC converts within a unit family and refuses to mix families (grams into each)."""
    try:
        unit, package_unit = Unit(unit_name), Unit(pkg["UnitOfMeasureName"])
    except ValueError:
        raise _Problem(f"Unit of measure '{unit_name}' is not valid.") from None
    if unit.family is not package_unit.family:
        raise _Problem(
            f"Unit of measure {unit.value} cannot be used for package {pkg['Label']}, "
            f"which is measured in {package_unit.value}."
        )
    return quantity if unit is package_unit else convert(quantity, unit, package_unit).quantize(_QTY)


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=None)


def _bound(text: str | None, *, end_of_day: bool) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text).replace(tzinfo=None)
    except ValueError:
        raise Rejected([{"Message": f"'{text}' is not a valid date."}]) from None
    if end_of_day and len(text) == 10:  # a bare date as the end means the whole day
        value = value.replace(hour=23, minute=59, second=59)
    return value


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def modified_between(rows: Iterable[Json], start: str | None, end: str | None) -> list[Json]:
    """The rows whose ``LastModified`` lies in [start, end] (ISO times; no offset means UTC)."""
    try:
        low = _instant(start) if start else None
        high = _instant(end) if end else None
    except ValueError:
        raise Rejected([{"Message": f"'{start}' or '{end}' is not a valid date and time."}]) from None
    return [
        r
        for r in rows
        if (low is None or _instant(r["LastModified"]) >= low) and (high is None or _instant(r["LastModified"]) <= high)
    ]
