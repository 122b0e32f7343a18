"""The METRC simulator's endpoints, per API version (one version per simulator: the other
answers 404, as a key tied to one version sees).

v1 answers lists as bare arrays. v2 wraps them in METRC's envelope and pages them
(``pageNumber`` from 1, ``pageSize`` at most 20), refuses writes of more than 10 objects
with 413, moves packages with ``PUT packages/v2/location``, answers adjustments with their
``{"Ids": […]}``, and serves the adjustment history, receipts by external number and
Retail ID unit codes. Both filter lists by ``lastModifiedStart/End`` and refuse a window
longer than the state allows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from backoffice.metrc.payloads import from_json
from backoffice.metrc.sim_state import Json, Rejected, SimState, modified_between

Answer = tuple[int, Any, bool, dict[str, str]]  # status, JSON body (None: empty), applied, extra headers
MAX_PAGE_SIZE = 20
MAX_BATCH = 10
NOT_FOUND: Answer = (404, {"Message": "No HTTP resource was found that matches the request URI."}, False, {})


def route(
    api: str,
    state: SimState,
    method: str,
    parts: list[str],
    query: Mapping[str, str],
    raw: bytes,
    max_window: timedelta | None,
) -> Answer:
    if len(parts) < 2 or parts[1] != api:
        return NOT_FOUND
    _check_window(query, max_window)
    return (_v1 if api == "v1" else _v2)(state, method, parts, query, raw)


def _v1(state: SimState, method: str, parts: list[str], query: Mapping[str, str], raw: bytes) -> Answer:
    match method, parts:
        case "GET", ["packages", "v1", "active"]:
            return 200, _packages(state, query), False, {}
        case "GET", ["packages", "v1", "inactive"]:
            return 200, state.inactive_packages(query.get("lastModifiedStart"), query.get("lastModifiedEnd")), False, {}
        case "GET", ["packages", "v1", "adjust", "reasons"]:
            return 200, state.reasons, False, {}
        case "GET", ["packages", "v1", label] if label in state.packages:
            return 200, state.packages[label], False, {}
        case "POST", ["packages", "v1", "change", "locations"]:
            state.change_locations(_batch(raw))
            return 200, None, True, {}
        case "POST", ["packages", "v1", "adjust"]:
            state.adjust(_batch(raw))
            return 200, None, True, {}
        case "GET", ["transfers", "v1", "incoming"]:
            return 200, state.incoming_transfers(), False, {}
        case "GET", ["transfers", "v1", "deliveries", delivery, "packages"] if _known(state, delivery):
            return 200, state.deliveries[int(delivery)], False, {}
        case "GET", ["tags", "v1", "package", "available"]:
            return 200, state.available_package_tags(), False, {}
        case "GET", ["sales", "v1", "receipts", "active"]:
            return 200, _receipts(state, query), False, {}
        case "POST", ["sales", "v1", "receipts"]:
            state.record_receipts(_batch(raw))
            return 200, None, True, {}
    return NOT_FOUND


def _v2(state: SimState, method: str, parts: list[str], query: Mapping[str, str], raw: bytes) -> Answer:
    match method, parts:
        case "GET", ["packages", "v2", "active"]:
            return _page(_packages(state, query), query)
        case "GET", ["packages", "v2", "inactive"]:
            return _page(state.inactive_packages(query.get("lastModifiedStart"), query.get("lastModifiedEnd")), query)
        case "GET", ["packages", "v2", "adjust", "reasons"]:
            return _page(state.reasons, query)
        case "GET", ["packages", "v2", "adjustments"]:
            return _page(
                modified_between(state.adjustments, query.get("lastModifiedStart"), query.get("lastModifiedEnd")), query
            )
        case "GET", ["packages", "v2", label] if label in state.packages:
            return 200, state.packages[label], False, {}
        case "PUT", ["packages", "v2", "location"]:
            state.change_locations(_batch(raw, MAX_BATCH))
            return 200, None, True, {}
        case "POST", ["packages", "v2", "adjust"]:
            return 200, {"Ids": state.adjust(_batch(raw, MAX_BATCH))}, True, {}
        case "GET", ["transfers", "v2", "incoming"]:
            return _page(state.incoming_transfers(), query)
        case "GET", ["transfers", "v2", "deliveries", delivery, "packages"] if _known(state, delivery):
            return _page(state.deliveries[int(delivery)], query)
        case "GET", ["tags", "v2", "package", "available"]:
            return _page(state.available_package_tags(), query)
        case "GET", ["sales", "v2", "receipts", "active"]:
            return _page(_receipts(state, query), query)
        case "GET", ["sales", "v2", "receipts", "external", number] if state.receipt_by_external(number):
            return 200, state.receipt_by_external(number), False, {}
        case "POST", ["sales", "v2", "receipts"]:
            state.record_receipts(_batch(raw, MAX_BATCH))
            return 200, None, True, {}
        case "GET", ["retailid", "v2", "receive", "qr", code] if state.package_of_code(code):
            return 200, state.package_of_code(code), False, {}
        case "GET", ["retailid", "v2", "receive", label] if label in state.packages or state.shipped(label):
            urls = state.qr_codes(label)
            return 200, {"Label": label, "QrCount": len(urls), "Eaches": urls}, False, {}
    return NOT_FOUND


def _known(state: SimState, delivery: str) -> bool:
    return delivery.isdigit() and int(delivery) in state.deliveries


def _packages(state: SimState, query: Mapping[str, str]) -> list[Json]:
    return state.active_packages(query.get("lastModifiedStart"), query.get("lastModifiedEnd"))


def _receipts(state: SimState, query: Mapping[str, str]) -> list[Json]:
    by_sale = query.get("salesDateStart") or query.get("salesDateEnd")
    by_change = query.get("lastModifiedStart") or query.get("lastModifiedEnd")
    if by_sale and by_change:
        raise Rejected([{"Message": "Use either salesDateStart/End or lastModifiedStart/End, not both."}])
    if by_change:
        return modified_between(state.receipts, query.get("lastModifiedStart"), query.get("lastModifiedEnd"))
    return state.receipts_between(query.get("salesDateStart"), query.get("salesDateEnd"))


def _page(rows: Sequence[Json], query: Mapping[str, str]) -> Answer:
    try:
        number = int(query.get("pageNumber") or 1)
        size = int(query.get("pageSize") or MAX_PAGE_SIZE)
    except ValueError:
        raise Rejected([{"Message": "pageNumber and pageSize must be whole numbers."}]) from None
    if number < 1 or not 1 <= size <= MAX_PAGE_SIZE:
        raise Rejected([{"Message": f"pageNumber starts at 1 and pageSize must be between 1 and {MAX_PAGE_SIZE}."}])
    pages = max(1, -(-len(rows) // size))
    data = list(rows[(number - 1) * size : number * size])
    envelope = {
        "Data": data,
        "Total": len(rows),
        "TotalRecords": len(rows),
        "PageSize": size,
        "RecordsOnPage": len(data),
        "Page": number,
        "CurrentPage": number,
        "TotalPages": pages,
    }
    return 200, envelope, False, {}


def _check_window(query: Mapping[str, str], max_window: timedelta | None) -> None:
    start, end = query.get("lastModifiedStart"), query.get("lastModifiedEnd")
    if max_window is None or not (start or end):
        return
    try:
        low, high = datetime.fromisoformat(start or ""), datetime.fromisoformat(end or "")
    except ValueError:
        raise Rejected([{"Message": "lastModifiedStart and lastModifiedEnd are both required."}]) from None
    if high - low > max_window:
        hours = max_window.total_seconds() / 3600
        raise Rejected([{"Message": f"The lastModified date range cannot exceed {hours:g} hours."}])


def _batch(raw: bytes, limit: int | None = None) -> list[Any]:
    try:
        data = from_json(raw)
    except ValueError:
        raise Rejected([{"Message": "The request is invalid: the body is not JSON."}]) from None
    if not isinstance(data, list):
        raise Rejected([{"Message": "The request is invalid: the body must be a JSON array."}])
    if limit is not None and len(data) > limit:
        raise TooLarge(len(data), limit)
    return data


class TooLarge(Exception):
    """A v2 write with more objects than METRC takes in one call (answered 413)."""

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(f"The request contains {count} objects; at most {limit} are allowed per call.")
