"""METRC incoming transfer (manifest) files → ParsedManifest, every package line checked.

Two shapes: the API's JSON (a transfer with its delivery's ``Packages``, as one object or
a list of one) and the flat CSV the METRC web grid exports (one row per package, the
manifest's fields repeated on each row). No database here: the receiving service decides
what to do with the result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from backoffice.domain.enums import LabState
from backoffice.domain.numbers import NumberFormat
from backoffice.domain.tags import validate_tag
from backoffice.domain.units import Unit, parse_unit
from backoffice.errors import ImportFileError, ValidationError
from backoffice.importers.csv_common import (
    Problems,
    SourceFile,
    Table,
    cell,
    cell_text,
    extra_cells_problem,
    locate_columns,
    missing_columns_error,
    number_format_of,
    parse_money,
    parse_quantity,
    parse_timestamp,
    plain,
    read_csv_table,
    read_source,
    zone,
)
from backoffice.importers.json_file import load_json

MANIFEST_DIGITS = 10

_CSV_REQUIRED = {
    "manifest_number": ("Manifest", "Manifest Number", "ManifestNumber"),
    "shipper_license": ("Shipper License", "Shipper License Number", "ShipperFacilityLicenseNumber"),
    "shipper_name": ("Shipper", "Shipper Name", "ShipperFacilityName"),
    "tag": ("Package", "Package Label", "PackageLabel", "Tag"),
    "item_name": ("Item", "Item Name", "ItemName"),
    "category": ("Category", "Item Category", "ItemCategoryName"),
    "shipped_quantity": ("Shipped Qty", "Shipped Quantity", "ShippedQuantity"),
    "unit": ("UoM", "Unit of Measure", "Shipped UoM", "ShippedUnitOfMeasureName"),
}
# a package line's fields in the API's JSON; the CSV's columns are found by _CSV_* spellings
_JSON_KEYS = {
    "tag": "PackageLabel",
    "item_name": "ItemName",
    "category": "ItemCategoryName",
    "strain": "ItemStrainName",
    "shipped_quantity": "ShippedQuantity",
    "unit": "ShippedUnitOfMeasureName",
    "wholesale_price": "ShipperWholesalePrice",
    "lab_state": "LabTestingState",
    "production_batch": "ProductionBatchNumber",
    "package_state": "ShipmentPackageState",
}
_CSV_OPTIONAL = {
    "strain": ("Strain", "Item Strain", "ItemStrainName"),
    "wholesale_price": ("Wholesale Price", "ShipperWholesalePrice"),
    "lab_state": ("Lab Testing", "Lab Testing State", "LabTestingState"),
    "production_batch": ("Production Batch", "Production Batch Number", "ProductionBatchNumber"),
    "package_state": ("Package State", "Shipment Package State", "ShipmentPackageState"),
}


@dataclass(frozen=True)
class ParsedManifestLine:
    line: int  # CSV line, or the package's number (1-based) in the JSON Packages list
    tag: str
    item_name: str
    category: str
    strain: str
    shipped_quantity: Decimal
    unit: Unit
    wholesale_price: Decimal | None
    lab_state: LabState
    production_batch: str | None
    package_state: str | None  # ShipmentPackageState: Shipped, Accepted, Rejected, Returned


@dataclass(frozen=True)
class ParsedManifest:
    manifest_number: str
    transfer_id: int | None
    delivery_id: int | None
    shipper_name: str
    shipper_license: str
    transporter_name: str | None
    transporter_license: str | None
    driver_name: str | None
    vehicle: str | None
    estimated_departure: datetime | None
    estimated_arrival: datetime | None
    recipient_name: str | None
    recipient_license: str | None
    source_sha256: str | None  # None when built from a payload the connector fetched
    lines: tuple[ParsedManifestLine, ...]


def is_manifest_header(headers: Sequence[str]) -> bool:
    """True when ``headers`` are a METRC manifest CSV's (lets other importers name the mix-up)."""
    return not set(_CSV_REQUIRED) - set(locate_columns(headers, _CSV_REQUIRED))


def parse_manifest_file(path: Path | str, *, store_tz: str, strict_tags: bool = False) -> ParsedManifest:
    """Read a manifest JSON or CSV; raise ImportFileError listing every problem found."""
    src = read_source(path)
    if src.kind in ("xlsx", "xls"):
        raise ImportFileError(f"{src.name} is an Excel workbook; export the manifest from METRC as CSV or JSON.")
    if src.kind == "json":
        data = load_json(src.text(), src.name)
        return parse_manifest_json(data, src.name, store_tz=store_tz, strict_tags=strict_tags, sha256=src.sha256)
    table = read_csv_table(src)
    if table is None:
        raise ImportFileError(f"{src.name} is empty.")
    return _from_csv(src, table, strict_tags)


def parse_manifest_json(
    data: Any, source: str, *, store_tz: str, strict_tags: bool = False, sha256: str | None = None
) -> ParsedManifest:
    """Build from the API's JSON; for the connector, pass the transfer with ``Packages`` set
    to what ``transfers/v1/delivery/{id}/packages`` returned."""
    transfer = _one_transfer(data, source)
    tz = zone(store_tz)
    problems = Problems(source)

    def text(key: str, *, required: bool = False) -> str | None:
        value = cell_text(transfer.get(key))
        if required and not value:
            problems.add(0, key, "missing")
        return value or None

    def when(key: str) -> datetime | None:
        if not transfer.get(key):
            return None
        return problems.check(0, key, lambda: parse_timestamp(transfer[key], (), tz, key))

    number = _manifest_number(text("ManifestNumber", required=True) or "")
    shipper_name = text("ShipperFacilityName", required=True)
    shipper_license = text("ShipperFacilityLicenseNumber", required=True)
    departure, arrival = when("EstimatedDepartureDateTime"), when("EstimatedArrivalDateTime")
    packages = transfer["Packages"]
    if not packages:
        problems.add(0, "Packages", "the manifest lists no packages")
    seen: dict[str, int] = {}
    lines = [
        line
        for number_in_list, package in enumerate(packages, start=1)
        if (line := _json_line(package, number_in_list, strict_tags, problems, seen)) is not None
    ]
    problems.raise_if_any("package")
    plate = text("VehicleLicensePlateNumber")
    vehicle = " ".join(v for v in (text("VehicleMake"), text("VehicleModel")) if v)
    if plate:
        vehicle = f"{vehicle} (plate {plate})".strip()
    return ParsedManifest(
        manifest_number=number,
        transfer_id=_int(transfer.get("Id")),
        delivery_id=_int(transfer.get("DeliveryId")),
        shipper_name=shipper_name or "",
        shipper_license=shipper_license or "",
        transporter_name=text("TransporterFacilityName"),
        transporter_license=text("TransporterFacilityLicenseNumber"),
        driver_name=text("DriverName"),
        vehicle=vehicle or None,
        estimated_departure=departure,
        estimated_arrival=arrival,
        recipient_name=text("RecipientFacilityName"),
        recipient_license=text("RecipientFacilityLicenseNumber"),
        source_sha256=sha256,
        lines=tuple(lines),
    )


def _one_transfer(data: Any, source: str) -> dict[str, Any]:
    """The single transfer in ``data``, or an error saying what the file is instead."""
    records = data if isinstance(data, list) else [data]
    first = records[0] if records else None
    if isinstance(first, dict) and "Transactions" in first:
        raise ImportFileError(f"{source} holds METRC sales receipts, not a manifest; import it as METRC sales.")
    if isinstance(first, dict) and "Label" in first and "ManifestNumber" not in first:
        raise ImportFileError(f"{source} holds METRC packages, not a manifest; import it as METRC packages.")
    if len(records) != 1:
        raise ImportFileError(f"{source} holds {len(records)} transfers; import one manifest (one transfer) per file.")
    if not isinstance(first, dict):
        raise ImportFileError(f"{source} is not a METRC incoming transfer: expected a JSON object.")
    if not isinstance(first.get("Packages"), list):
        raise ImportFileError(
            f"{source} is a transfer without its delivery's package list ('Packages'); "
            "fetch the manifest with its packages, or export the manifest CSV from METRC."
        )
    return first


def _json_line(raw: Any, n: int, strict: bool, problems: Problems, seen: dict[str, int]) -> ParsedManifestLine | None:
    if not isinstance(raw, dict):
        problems.add(n, "", "a package must be a JSON object")
        return None
    values = {key: raw.get(name) for key, name in _JSON_KEYS.items()}
    return _line(n, values, _JSON_KEYS, "package", strict, problems, seen)


def _from_csv(src: SourceFile, table: Table, strict: bool) -> ParsedManifest:
    columns = locate_columns(table.headers, {**_CSV_REQUIRED, **_CSV_OPTIONAL})
    missing = [names[0] for key, names in _CSV_REQUIRED.items() if key not in columns]
    if missing:
        raise missing_columns_error(src, table, missing, "a METRC manifest CSV")
    if not table.rows:
        raise ImportFileError(f"{src.name} has the manifest's column headers but no package lines.")
    problems = Problems(src.name)
    numbers = number_format_of(table.rows, (columns.get("shipped_quantity"), columns.get("wholesale_price")))
    names = {key: table.headers[position] for key, position in columns.items()}
    seen: dict[str, int] = {}
    lines: list[ParsedManifestLine] = []
    first: tuple[int, str] | None = None  # line and manifest number of the first row
    for line_no, row in table.rows:
        if (why := extra_cells_problem(row, len(table.headers))) is not None:
            problems.add(line_no, "", why)
            continue
        number = _manifest_number(cell_text(cell(row, columns["manifest_number"])))
        if not number:
            problems.add(line_no, names["manifest_number"], "missing manifest number")
        elif first is None:
            first = (line_no, number)
        elif number != first[1]:
            problems.add(
                line_no,
                names["manifest_number"],
                f"manifest {number} differs from manifest {first[1]} on line {first[0]}; a file must hold one manifest",
            )
        values = {key: cell(row, columns.get(key)) for key in _JSON_KEYS}
        if (line := _line(line_no, values, names, "line", strict, problems, seen, numbers)) is not None:
            lines.append(line)
    problems.raise_if_any()
    assert first is not None  # without a manifest number on some row, problems were raised
    first_row = table.rows[0][1]
    return ParsedManifest(
        manifest_number=first[1],
        transfer_id=None,
        delivery_id=None,
        shipper_name=cell_text(cell(first_row, columns["shipper_name"])),
        shipper_license=cell_text(cell(first_row, columns["shipper_license"])),
        transporter_name=None,
        transporter_license=None,
        driver_name=None,
        vehicle=None,
        estimated_departure=None,
        estimated_arrival=None,
        recipient_name=None,
        recipient_license=None,
        source_sha256=src.sha256,
        lines=tuple(lines),
    )


def _line(
    n: int,
    values: Mapping[str, object],
    names: Mapping[str, str],
    unit_word: str,
    strict: bool,
    problems: Problems,
    seen: dict[str, int],
    numbers: NumberFormat | None = None,
) -> ParsedManifestLine | None:
    """Check one package line of either shape. ``values`` are keyed like _JSON_KEYS; ``names``
    spell those keys as the file does, so each problem points at the file's own field."""
    checked_tag = problems.check(n, names["tag"], lambda: validate_tag(cell_text(values["tag"]), strict=strict))
    if checked_tag is not None:
        if checked_tag in seen:
            problems.add(n, names["tag"], f"tag {checked_tag} appears twice: {unit_word}s {seen[checked_tag]} and {n}")
        else:
            seen[checked_tag] = n
    item_name = cell_text(values["item_name"])
    if not item_name:
        problems.add(n, names["item_name"], "missing item name")
    shipped = problems.check(
        n,
        names["shipped_quantity"],
        lambda: _positive(parse_quantity(values["shipped_quantity"], "shipped quantity", numbers)),
    )
    unit = problems.check(n, names["unit"], lambda: parse_unit(cell_text(values["unit"])))
    price = None
    if cell_text(values["wholesale_price"]):
        price = problems.check(
            n,
            names["wholesale_price"],
            lambda: _not_negative(parse_money(values["wholesale_price"], "wholesale price", numbers)),
        )
    if checked_tag is None or shipped is None or unit is None or not item_name:
        return None
    return ParsedManifestLine(
        line=n,
        tag=checked_tag,
        item_name=item_name,
        category=cell_text(values["category"]),
        strain=cell_text(values["strain"]),
        shipped_quantity=shipped,
        unit=unit,
        wholesale_price=price,
        lab_state=LabState.parse(cell_text(values["lab_state"])),
        production_batch=cell_text(values["production_batch"]) or None,
        package_state=cell_text(values["package_state"]) or None,
    )


def _positive(value: Decimal) -> Decimal:
    if value <= 0:
        raise ValidationError(f"shipped quantity {plain(value)} must be more than zero")
    return value


def _not_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise ValidationError(f"wholesale price {plain(value)} is negative")
    return value


def _manifest_number(text: str) -> str:
    # METRC manifest numbers are 10 digits; a spreadsheet round trip drops the leading zeros
    return text.zfill(MANIFEST_DIGITS) if text.isdigit() else text


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
