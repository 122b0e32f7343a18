"""METRC active packages (``GET packages/v1/active`` JSON) read and checked into records.

Every record is checked before anything is written; writing them into the store is
``backoffice.services.metrc_packages_import``'s job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from backoffice.domain.enums import LabState, QuantityType
from backoffice.domain.numbers import parse_decimal, to_quantity
from backoffice.domain.tags import tag_problem
from backoffice.domain.units import Unit, parse_unit
from backoffice.errors import ImportFileError, Problem, ValidationError
from backoffice.importers.json_file import load_json


@dataclass(frozen=True)
class MetrcPackageRecord:
    record: int
    metrc_id: int | None
    tag: str
    quantity: Decimal
    unit: Unit
    location_name: str
    packaged_date: date | None
    expiration_date: date | None
    lab_state: LabState
    on_hold: bool
    finished: bool
    received_at: datetime | None
    manifest_number: str | None
    item_metrc_id: int | None
    item_name: str
    category: str
    strain: str
    quantity_type: QuantityType
    thc_percent: Decimal | None
    cbd_percent: Decimal | None


def parse(path: Path, *, strict_tags: bool = False) -> tuple[list[MetrcPackageRecord], list[Problem]]:
    """Read and check every record; returns the good records and the problems found."""
    return parse_records(read_json(path), Path(path).name, strict_tags=strict_tags)


def read_json(path: Path | str) -> Any:
    """The decoded JSON of a METRC export file (BOM tolerated), or an ImportFileError saying where it breaks."""
    name = Path(path).name
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFileError(f"cannot read {name}: {exc}") from None
    return load_json(text, name)


def parse_records(data: Any, name: str, *, strict_tags: bool = False) -> tuple[list[MetrcPackageRecord], list[Problem]]:
    """Check packages already decoded from JSON (a file, or the connector's ``active_packages()``)."""
    if not isinstance(data, list):
        raise ImportFileError(
            f"{name} is not a METRC active-packages list: expected a JSON array of packages, found {type(data).__name__}."
        )
    records: list[MetrcPackageRecord] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(data, start=1):
        record_problems: list[Problem] = []
        rec = _record(name, number, raw, strict_tags, record_problems)
        if rec is not None and rec.tag in seen:
            record_problems.append(Problem(name, number, "Label", f"tag {rec.tag} is also record {seen[rec.tag]}"))
        if record_problems:
            problems += record_problems
        elif rec is not None:
            seen[rec.tag] = number
            records.append(rec)
    return records, problems


def _record(name: str, number: int, raw: Any, strict: bool, problems: list[Problem]) -> MetrcPackageRecord | None:
    def bad(field_name: str, reason: str) -> None:
        problems.append(Problem(name, number, field_name, reason))

    if not isinstance(raw, dict):
        bad("", "a package record must be a JSON object")
        return None
    tag = raw.get("Label")
    if not isinstance(tag, str) or not tag:
        bad("Label", "missing package tag")
        tag = ""
    elif (why := tag_problem(tag, strict=strict)) is not None:
        bad("Label", why)
    quantity = Decimal(0)
    try:
        quantity = to_quantity(parse_decimal(raw.get("Quantity"), what="Quantity"))
        if quantity < 0:
            bad("Quantity", f"quantity {quantity} is negative")
    except ValidationError as exc:
        bad("Quantity", str(exc))
    unit = Unit.EACH
    try:
        unit = parse_unit(str(raw.get("UnitOfMeasureName") or ""))
    except ValidationError as exc:
        bad("UnitOfMeasureName", str(exc))
    nested = raw.get("Item")
    item: dict[str, Any] = nested if isinstance(nested, dict) else {}
    item_name = item.get("Name") or raw.get("ItemName") or raw.get("ProductName")
    if not item_name:
        bad("Item.Name", "missing item name")
    location = raw.get("LocationName") or ""
    packaged = _date(raw.get("PackagedDate"), "PackagedDate", bad)
    expires = _date(raw.get("ExpirationDate"), "ExpirationDate", bad)
    received = _datetime(raw.get("ReceivedDateTime"), "ReceivedDateTime", bad)
    qtype_raw = item.get("QuantityType") or ("CountBased" if unit is Unit.EACH else "WeightBased")
    try:
        qtype = QuantityType(qtype_raw)
    except ValueError:
        bad("Item.QuantityType", f"unknown quantity type {qtype_raw!r}")
        qtype = QuantityType.COUNT_BASED
    if problems:
        return None
    return MetrcPackageRecord(
        record=number,
        metrc_id=_int(raw.get("Id")),
        tag=tag,
        quantity=quantity,
        unit=unit,
        location_name=str(location).strip() or "Vault",
        packaged_date=packaged,
        expiration_date=expires,
        lab_state=LabState.parse(raw.get("LabTestingState")),
        on_hold=bool(raw.get("IsOnHold")),
        finished=bool(raw.get("FinishedDate")),
        received_at=received,
        manifest_number=raw.get("ReceivedFromManifestNumber"),
        item_metrc_id=_int(item.get("Id")),
        item_name=str(item_name).strip(),
        category=str(item.get("ProductCategoryName") or "Uncategorized"),
        strain=str(item.get("StrainName") or ""),
        quantity_type=qtype,
        thc_percent=_optional_decimal(item.get("UnitThcPercent")),
        cbd_percent=_optional_decimal(item.get("UnitCbdPercent")),
    )


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _optional_decimal(value: Any) -> Decimal | None:
    try:
        return None if value is None else to_quantity(parse_decimal(value).quantize(Decimal("0.0001")))
    except ValidationError:
        return None


def _date(value: Any, field_name: str, bad: Any) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        bad(field_name, f"{value!r} is not a date (expected YYYY-MM-DD)")
        return None


def _datetime(value: Any, field_name: str, bad: Any) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        bad(field_name, f"{value!r} is not a date and time (expected ISO 8601 with offset)")
        return None
    if parsed.tzinfo is None:
        bad(field_name, f"{value!r} has no time zone offset")
        return None
    return parsed
