"""HTTP client for the METRC REST API endpoints the store needs (v1 paths).

METRC authenticates with HTTP Basic: the integrator's vendor key as user name and the
person's user key as password. The keys live only inside httpx's auth object: they are
not attributes of the client, not in ``repr``, not in errors and not in log lines (the
connector logs method, path, element count, status and time, never headers).

Answers are parsed with every non-integer number as a Decimal, and POST bodies carry
Decimals digit for digit (see ``payloads.to_json``). Failures become the typed errors of
``backoffice.metrc.errors``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import httpx

from backoffice.domain.tags import validate_tag
from backoffice.metrc.address import require_tls
from backoffice.metrc.errors import (
    MetrcKeyMissing,
    MetrcNotFound,
    MetrcRejected,
    MetrcUnauthorized,
    MetrcUnavailable,
    MetrcUnexpectedResponse,
    RowProblem,
)
from backoffice.metrc.keys import MetrcKeyStore
from backoffice.metrc.payloads import (
    LocationChange,
    PackageAdjustment,
    SalesReceipt,
    coerce,
    from_json,
    to_json,
)

log = logging.getLogger("metrc")

JsonObject = dict[str, Any]

# What a call does, in words for error messages ("METRC refused <action>").
_ACTIONS = {
    "packages/v1/active": "the list of active packages",
    "packages/v1/change/locations": "the package location changes",
    "packages/v1/adjust": "the package adjustments",
    "packages/v1/adjust/reasons": "the list of adjustment reasons",
    "transfers/v1/incoming": "the list of incoming transfers",
    "sales/v1/receipts/active": "the list of sales receipts",
    "sales/v1/receipts": "the sales receipts",
}
# Answers after which METRC certainly did nothing, so a POST is safe to send again.
_NOT_PROCESSED = {429, 503}


class MetrcClient:
    """One facility license, one user's key pair. Use as a context manager or call close()."""

    def __init__(self, base_url: str, license_number: str, vendor_key: str, user_key: str, *,
                 timeout: float = 30.0, transport: httpx.BaseTransport | None = None, username: str = "") -> None:
        if not vendor_key or not user_key:
            who = f"user {username!r}" if username else "this user"
            raise MetrcKeyMissing(f"No METRC API key for {who}: enter the vendor and user keys in Settings.")
        require_tls(base_url)  # before the keys go into the auth object
        self.base_url = base_url.rstrip("/") + "/"
        self.license_number = license_number
        self.username = username
        self.timeout = timeout
        self._http = httpx.Client(base_url=self.base_url, auth=httpx.BasicAuth(vendor_key, user_key),
                                  timeout=timeout, transport=transport, headers={"Accept": "application/json"})

    @classmethod
    def for_user(cls, base_url: str, license_number: str, username: str, keys: MetrcKeyStore, *,
                 timeout: float = 30.0, transport: httpx.BaseTransport | None = None) -> MetrcClient:
        """A client with the installation's vendor key and ``username``'s own key from the key store."""
        return cls(base_url, license_number, keys.vendor_key(), keys.user_key(username), timeout=timeout,
                   transport=transport, username=username)

    def __repr__(self) -> str:
        return (f"MetrcClient(base_url={self.base_url!r}, license_number={self.license_number!r}, "
                f"username={self.username!r})")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> MetrcClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- packages ------------------------------------------------------------------------

    def active_packages(self) -> list[JsonObject]:
        return self._get("packages/v1/active")

    def package(self, label: str) -> JsonObject:
        tag = validate_tag(label)  # also keeps anything but a tag out of the URL path
        return self._get(f"packages/v1/{tag}", action=f"package {tag}")

    def change_locations(self, moves: Sequence[LocationChange | Mapping[str, Any]]) -> None:
        self._post("packages/v1/change/locations", [coerce(LocationChange, m).to_metrc() for m in moves])

    def adjust_packages(self, adjustments: Sequence[PackageAdjustment | Mapping[str, Any]]) -> None:
        self._post("packages/v1/adjust", [coerce(PackageAdjustment, a).to_metrc() for a in adjustments])

    def adjustment_reasons(self) -> list[JsonObject]:
        """``[{"Name", "RequiresNote", …}]``: the state's list; honour RequiresNote."""
        return self._get("packages/v1/adjust/reasons")

    # --- transfers -----------------------------------------------------------------------

    def incoming_transfers(self) -> list[JsonObject]:
        return self._get("transfers/v1/incoming")

    def delivery_packages(self, delivery_id: int) -> list[JsonObject]:
        return self._get(f"transfers/v1/delivery/{int(delivery_id)}/packages",
                         action=f"the packages of delivery {delivery_id}")

    # --- sales ---------------------------------------------------------------------------

    def active_receipts(self, sales_date_start: date | datetime, sales_date_end: date | datetime) -> list[JsonObject]:
        params = {"salesDateStart": sales_date_start.isoformat(), "salesDateEnd": sales_date_end.isoformat()}
        return self._get("sales/v1/receipts/active", params=params)

    def record_receipts(self, receipts: Sequence[SalesReceipt | Mapping[str, Any]]) -> None:
        self._post("sales/v1/receipts", [coerce(SalesReceipt, r).to_metrc() for r in receipts])

    # --- transport -----------------------------------------------------------------------

    def _get(self, path: str, *, params: Mapping[str, str] | None = None, action: str | None = None) -> Any:
        response = self._send("GET", path, params=params, action=action)
        try:
            return from_json(response.content)
        except ValueError:
            raise MetrcUnexpectedResponse(
                f"METRC answered {action or _ACTIONS[path]} with something that is not JSON; "
                "report this to support with the log file."
            ) from None

    def _post(self, path: str, batch: list[JsonObject]) -> None:
        if batch:  # an empty batch is nothing to tell METRC
            self._send("POST", path, batch=batch)

    def _send(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
              batch: list[JsonObject] | None = None, action: str | None = None) -> httpx.Response:
        action = action or _ACTIONS[path]
        query = {"licenseNumber": self.license_number, **(params or {})}
        body = to_json(batch).encode() if batch is not None else None
        headers = {"Content-Type": "application/json"} if body is not None else None
        started = time.monotonic()
        try:
            response = self._http.request(method, path, params=query, content=body, headers=headers)
        except httpx.TransportError as exc:
            log.warning("METRC %s %s failed after %.2f s: %s", method, path, time.monotonic() - started,
                        type(exc).__name__)
            raise self._unavailable(exc, action, posted=batch is not None) from None
        log.info("METRC %s %s%s -> %d in %.2f s", method, path,
                 f" ({len(batch)} elements)" if batch is not None else "", response.status_code,
                 time.monotonic() - started)
        if response.is_success:
            return response
        raise self._error(response, action, batch)

    def _unavailable(self, exc: httpx.TransportError, action: str, *, posted: bool) -> MetrcUnavailable:
        host = self._http.base_url.host
        if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
            return MetrcUnavailable(f"Cannot reach METRC at {host} for {action} ({_reason(exc)}). "
                                    "Check the network; nothing was sent, so it can be sent again later.")
        if isinstance(exc, httpx.TimeoutException):
            message = f"METRC did not answer {action} within {self.timeout:g} s; it may be slow or down."
        else:
            message = f"The connection to METRC at {host} broke during {action} ({_reason(exc)})."
        # A POST that reached METRC may have been recorded even though no answer came back.
        maybe_applied = posted and not isinstance(exc, (httpx.PoolTimeout, httpx.WriteTimeout, httpx.WriteError))
        if maybe_applied:
            message += " METRC may have recorded it anyway: check METRC before sending it again."
        else:
            message += " Try again later."
        return MetrcUnavailable(message, maybe_applied=maybe_applied)

    def _error(self, response: httpx.Response, action: str, batch: list[JsonObject] | None) -> Exception:
        status = response.status_code
        if status in (401, 403):
            return MetrcUnauthorized(self.username, self.license_number, status)
        if status == 400:
            return MetrcRejected(action, _problems(response, batch), len(batch or ()))
        if status == 404:
            return MetrcNotFound(f"METRC has no record of {action} on license {self.license_number}.")
        if status == 429 or status >= 500:
            retry_after = _retry_after(response)
            wait = f"try again in {retry_after:g} s" if retry_after is not None else "try again later"
            why = "is limiting this store's calls" if status == 429 else "had an internal error"
            maybe_applied = batch is not None and status not in _NOT_PROCESSED
            tail = " METRC may have recorded it anyway: check METRC before sending it again." if maybe_applied else ""
            return MetrcUnavailable(f"METRC {why} (HTTP {status}) during {action}; {wait}.{tail}",
                                    status=status, retry_after=retry_after, maybe_applied=maybe_applied)
        return MetrcUnexpectedResponse(f"METRC answered {action} with HTTP {status}, which the connector "
                                       "does not expect; report this to support with the log file.")


def _reason(exc: httpx.TransportError) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers["Retry-After"])
    except (KeyError, ValueError):
        return None


def _problems(response: httpx.Response, batch: list[JsonObject] | None) -> list[RowProblem]:
    """METRC answers 400 with ``[{"row": n, "message": …}]`` or ``{"Message": …}``."""
    try:
        data: Any = from_json(response.content)
    except ValueError:
        data = response.text.strip() or f"no reason given (HTTP {response.status_code})"
    items = data if isinstance(data, list) else [data]
    problems = []
    for item in items:
        fields = {str(k).lower(): v for k, v in item.items()} if isinstance(item, Mapping) else {"message": item}
        row = fields.get("row")
        row = row if isinstance(row, int) and not isinstance(row, bool) else None
        element = batch[row] if batch is not None and row is not None and 0 <= row < len(batch) else None
        problems.append(RowProblem(row, str(fields.get("message") or item), element))
    return problems or [RowProblem(None, f"no reason given (HTTP {response.status_code})")]
