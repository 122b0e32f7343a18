"""METRC's two REST API versions: the path of each call, how lists come back, how big a
write may be, and field names read case-insensitively.

v1 answers a list as a bare JSON array and takes any batch size. v2 (METRC's current API)
answers ``{"Data": […], "TotalPages", …}``, pages with ``pageNumber`` (from 1) and
``pageSize`` (at most 20), takes at most 10 objects per write (413 otherwise), moves a
package with ``PUT /packages/v2/location`` and adds calls v1 lacks: the adjustment history,
a receipt by its external number, and Retail ID unit codes. Integrator keys are tied to a
version, so a store uses one: the ``metrc_api_version`` setting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from backoffice.metrc.errors import MetrcError

VERSIONS = ("v2", "v1")
V2_MAX_PAGE_SIZE = 20
V2_MAX_BATCH = 10


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # a str.format template, e.g. "packages/v2/{label}"
    action: str  # in words, for messages: "METRC refused <action>"


@dataclass(frozen=True)
class ApiVersion:
    name: str
    calls: Mapping[str, Call]
    paged: bool  # lists come in an envelope, page by page
    max_batch: int | None  # objects per write; None: no limit

    def call(self, operation: str) -> Call:
        try:
            return self.calls[operation]
        except KeyError:
            raise NotInVersion(operation, self.name) from None


class NotInVersion(MetrcError):
    """The store's API version has no such call (e.g. Retail ID on v1)."""

    def __init__(self, operation: str, version: str) -> None:
        self.operation, self.version = operation, version
        what = _NEEDS_V2.get(operation, operation.replace("_", " "))
        super().__init__(
            f"METRC API {version} has no call for {what}; it needs API v2. If the store's METRC keys "
            "are for v2, set the API version to v2 in Settings (backoffice metrc setup --api v2)."
        )


_NEEDS_V2 = {
    "retail_id_eaches": "Retail ID unit codes",
    "retail_id_qr": "Retail ID unit codes",
    "adjustments": "the adjustment history",
    "receipt_by_external": "a receipt by its external number",
}


def _calls(version: str, extra: Mapping[str, Call] | None = None, **overrides: Call) -> dict[str, Call]:
    v = version
    calls = {
        "active_packages": Call("GET", f"packages/{v}/active", "the list of active packages"),
        "inactive_packages": Call("GET", f"packages/{v}/inactive", "the list of finished packages"),
        "package": Call("GET", f"packages/{v}/{{label}}", "package {label}"),
        "adjust": Call("POST", f"packages/{v}/adjust", "the package adjustments"),
        "adjust_reasons": Call("GET", f"packages/{v}/adjust/reasons", "the list of adjustment reasons"),
        "incoming_transfers": Call("GET", f"transfers/{v}/incoming", "the list of incoming transfers"),
        "delivery_packages": Call(
            "GET", f"transfers/{v}/deliveries/{{delivery_id}}/packages", "the packages of delivery {delivery_id}"
        ),
        "active_receipts": Call("GET", f"sales/{v}/receipts/active", "the list of sales receipts"),
        "record_receipts": Call("POST", f"sales/{v}/receipts", "the sales receipts"),
        "available_package_tags": Call("GET", f"tags/{v}/package/available", "the list of available package tags"),
    }
    calls.update(overrides)
    calls.update(extra or {})
    return calls


V1 = ApiVersion(
    "v1",
    _calls("v1", change_locations=Call("POST", "packages/v1/change/locations", "the package location changes")),
    paged=False,
    max_batch=None,
)
V2 = ApiVersion(
    "v2",
    _calls(
        "v2",
        {
            "change_locations": Call("PUT", "packages/v2/location", "the package location changes"),
            "adjustments": Call("GET", "packages/v2/adjustments", "the list of package adjustments"),
            "receipt_by_external": Call("GET", "sales/v2/receipts/external/{number}", "sales receipt {number}"),
            "retail_id_eaches": Call("GET", "retailid/v2/receive/{label}", "the unit codes of package {label}"),
            "retail_id_qr": Call("GET", "retailid/v2/receive/qr/{short_code}", "unit code {short_code}"),
        },
    ),
    paged=True,
    max_batch=V2_MAX_BATCH,
)
BY_NAME = {"v1": V1, "v2": V2}


def api_version(name: str) -> ApiVersion:
    try:
        return BY_NAME[name.strip().lower()]
    except KeyError:
        raise ValueError(f"METRC API version {name!r} is not one of {', '.join(VERSIONS)}") from None


# --- field names, case-insensitively ------------------------------------------------------
# The names the store reads, in METRC's documented spelling. Field-name casing varies by
# state in v2 ("label", "LABEL"); answers are rewritten to these spellings on arrival, and
# names not listed here are kept as they came.
_NAMES = """
Id Label PackageId PackageLabel Quantity UnitOfMeasure UnitOfMeasureName UnitOfMeasureAbbreviation
Item ItemId ItemName Name ProductName ProductCategoryName ItemCategory ItemStrainName StrainName ItemBrandName
LocationId LocationName LocationTypeName Location Sublocation SublocationName PackagedDate ExpirationDate
UseByDate SellByDate LabTestingState LabTestingStateName LabTestingStateDate LabTestResultExpirationDateTime
IsOnHold IsOnRecall IsOnTrip IsFinished FinishedDate ArchivedDate LastModified ReceivedDateTime
ReceivedFromManifestNumber ReceivedFromFacilityLicenseNumber ReceivedFromFacilityName ProductLabel QrCount
Eaches Url Urls ShortCode ManifestNumber DeliveryId ShipperFacilityLicenseNumber ShipperFacilityName
RecipientFacilityLicenseNumber RecipientFacilityName ShipmentPackageState ShippedQuantity
ShippedUnitOfMeasureName ReceivedQuantity ReceivedUnitOfMeasureName PackageType CreatedDateTime
EstimatedArrivalDateTime ReceiptNumber ExternalReceiptNumber SalesDateTime SalesCustomerType TotalPackages
TotalPrice IsFinal Transactions TotalAmount QrCodes RequiresNote AdjustmentReason AdjustmentDate
AdjustmentQuantity AdjustmentUnitOfMeasureName ReasonNote Ids Data Total TotalRecords PageSize RecordsOnPage
Page CurrentPage TotalPages Message Row TagTypeName TagStateName
"""
CANONICAL_NAMES = tuple(_NAMES.split())
_BY_LOWER = {name.lower(): name for name in CANONICAL_NAMES}


def canonical(value: Any) -> Any:
    """``value`` (decoded JSON) with every known field name in METRC's documented spelling."""
    if isinstance(value, dict):
        return {_BY_LOWER.get(str(k).lower(), k): canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value
