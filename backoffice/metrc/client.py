"""HTTP client for the METRC REST API endpoints the store needs, v1 or v2.

METRC authenticates with HTTP Basic: the integrator's vendor key as user name and the
person's user key as password. The keys live only inside httpx's auth object: they are
not attributes of the client, not in ``repr``, not in errors and not in log lines (the
connector logs method, path, element count, status and time, never headers).

The version (``api_versions``) decides the paths, whether lists come paged in an envelope
(v2: pages fetched up to ``max_in_flight`` at a time) and how many objects one write may
carry (v2: 10; longer batches go as several calls, in order). Answers are parsed with every
non-integer number as a Decimal and field names in METRC's documented spelling, whatever
the state's casing; bodies carry Decimals digit for digit (``payloads.to_json``). Failures
become the typed errors of ``backoffice.metrc.errors``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from backoffice.domain.tags import validate_tag
from backoffice.errors import ValidationError
from backoffice.metrc.address import require_tls
from backoffice.metrc.api_versions import (
    V2_MAX_PAGE_SIZE,
    ApiVersion,
    Call,
    api_version,
    canonical,
)
from backoffice.metrc.errors import (
    MetrcKeyMissing,
    MetrcNotFound,
    MetrcRejected,
    MetrcTooLarge,
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

if TYPE_CHECKING:
    import httpx  # imported where a client is made: start-up need not load the HTTP stack (≈25 ms)

log = logging.getLogger("metrc")

JsonObject = dict[str, Any]

# Answers after which METRC certainly did nothing, so a write is safe to send again.
_NOT_PROCESSED = {413, 429, 503}


class MetrcClient:
    """One facility license, one user's key pair. Use as a context manager or call close()."""

    def __init__(
        self,
        base_url: str,
        license_number: str,
        vendor_key: str,
        user_key: str,
        *,
        api: str = "v1",
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        username: str = "",
        page_size: int = V2_MAX_PAGE_SIZE,
        max_in_flight: int = 4,
        window: timedelta = timedelta(hours=24),
    ) -> None:
        if not vendor_key or not user_key:
            who = f"user {username!r}" if username else "this user"
            raise MetrcKeyMissing(f"No METRC API key for {who}: enter the vendor and user keys in Settings.")
        require_tls(base_url)  # before the keys go into the auth object
        self.api: ApiVersion = api_version(api)
        self.base_url = base_url.rstrip("/") + "/"
        self.license_number = license_number
        self.username = username
        self.timeout = timeout
        self.page_size = max(1, min(page_size, V2_MAX_PAGE_SIZE))
        self.max_in_flight = max(1, max_in_flight)
        self.window = window
        import httpx

        limits = httpx.Limits(max_connections=self.max_in_flight, max_keepalive_connections=self.max_in_flight)
        self._http = httpx.Client(
            base_url=self.base_url,
            auth=httpx.BasicAuth(vendor_key, user_key),
            timeout=timeout,
            transport=transport,
            limits=limits,
            headers={"Accept": "application/json"},
        )

    @classmethod
    def for_user(
        cls,
        base_url: str,
        license_number: str,
        username: str,
        keys: MetrcKeyStore,
        *,
        transport: httpx.BaseTransport | None = None,
        **options: Any,
    ) -> MetrcClient:
        """A client with the installation's vendor key and ``username``'s own key from the key store."""
        return cls(
            base_url,
            license_number,
            keys.vendor_key(),
            keys.user_key(username),
            transport=transport,
            username=username,
            **options,
        )

    def __repr__(self) -> str:
        return (
            f"MetrcClient(base_url={self.base_url!r}, license_number={self.license_number!r}, "
            f"api={self.api.name!r}, username={self.username!r})"
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> MetrcClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def max_batch(self) -> int | None:
        return self.api.max_batch

    # --- packages ------------------------------------------------------------------------

    def active_packages(
        self, *, modified_since: datetime | None = None, modified_until: datetime | None = None
    ) -> list[JsonObject]:
        """Every active package, or those METRC changed in [since, until] (windows of ``window``)."""
        rows = self._list("active_packages", since=modified_since, until=modified_until)
        if modified_since is None:
            return rows
        latest: dict[Any, JsonObject] = {}  # a package changed in two windows: the later one wins
        for row in rows:
            latest[row.get("Label") or id(row)] = row
        return list(latest.values())

    def inactive_packages(self, modified_since: datetime, modified_until: datetime | None = None) -> list[JsonObject]:
        """The packages METRC finished (or archived) in [since, until]."""
        return self._list("inactive_packages", since=modified_since, until=modified_until)

    def package(self, label: str) -> JsonObject:
        tag = validate_tag(label)  # also keeps anything but a tag out of the URL path
        return self._object("package", label=tag)

    def change_locations(self, moves: Sequence[LocationChange | Mapping[str, Any]]) -> None:
        self._write("change_locations", [coerce(LocationChange, m).to_metrc() for m in moves])

    def adjust_packages(self, adjustments: Sequence[PackageAdjustment | Mapping[str, Any]]) -> None:
        self._write("adjust", [coerce(PackageAdjustment, a).to_metrc() for a in adjustments])

    def adjustment_reasons(self) -> list[JsonObject]:
        """``[{"Name", "RequiresNote", …}]``: the state's list; honour RequiresNote."""
        return self._list("adjust_reasons")

    def adjustments(self, since: datetime, until: datetime | None = None) -> list[JsonObject]:
        """v2: the adjustments METRC recorded in [since, until]."""
        return self._list("adjustments", since=since, until=until)

    # --- transfers -----------------------------------------------------------------------

    def incoming_transfers(self) -> list[JsonObject]:
        return self._list("incoming_transfers")

    def delivery_packages(self, delivery_id: int) -> list[JsonObject]:
        return self._list("delivery_packages", delivery_id=int(delivery_id))

    # --- sales ---------------------------------------------------------------------------

    def active_receipts(self, sales_date_start: date | datetime, sales_date_end: date | datetime) -> list[JsonObject]:
        params = {"salesDateStart": sales_date_start.isoformat(), "salesDateEnd": sales_date_end.isoformat()}
        return self._list("active_receipts", params=params)

    def record_receipts(self, receipts: Sequence[SalesReceipt | Mapping[str, Any]]) -> None:
        self._write("record_receipts", [coerce(SalesReceipt, r).to_metrc() for r in receipts])

    def receipt_by_external_number(self, number: str) -> JsonObject | None:
        """v2: the receipt METRC holds under the POS's receipt number, or None."""
        try:
            return self._object("receipt_by_external", number=_path_segment(number, "receipt number"))
        except MetrcNotFound:
            return None

    # --- tags ----------------------------------------------------------------------------

    def available_package_tags(self) -> list[JsonObject]:
        """The facility's package tags not yet on a package: ``[{"Id", "Label", …}]``."""
        return self._list("available_package_tags")

    # --- Retail ID (v2) ------------------------------------------------------------------

    def retail_id_eaches(self, label: str) -> list[str]:
        """The unit QR codes (URLs) METRC holds for a package; empty when it has none."""
        answer = self._object("retail_id_eaches", label=validate_tag(label))
        eaches = answer.get("Eaches") or []
        return [str(e.get("Url") or "") if isinstance(e, Mapping) else str(e) for e in eaches]

    def retail_id_package(self, short_code: str) -> JsonObject:
        """The package a scanned unit code belongs to (MetrcNotFound when METRC knows no such code)."""
        return self._object("retail_id_qr", short_code=_path_segment(short_code, "unit code"))

    # --- transport -----------------------------------------------------------------------

    def _object(self, operation: str, **where: Any) -> JsonObject:
        call = self.api.call(operation)
        data = self._json(call, where)
        if not isinstance(data, dict):
            raise self._odd(call, where, "an object")
        return data

    def _list(
        self,
        operation: str,
        *,
        params: Mapping[str, str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        **where: Any,
    ) -> list[JsonObject]:
        call = self.api.call(operation)
        rows: list[JsonObject] = []
        for window in self._windows(since, until):
            query = {**(params or {}), **window}
            rows += self._pages(call, where, query) if self.api.paged else self._bare_list(call, where, query)
        return rows

    def _windows(self, since: datetime | None, until: datetime | None) -> Iterator[dict[str, str]]:
        if since is None:
            yield {}
            return
        end = until or datetime.now(UTC)
        start = since
        while True:
            stop = min(start + self.window, end)
            yield {"lastModifiedStart": start.isoformat(), "lastModifiedEnd": stop.isoformat()}
            if stop >= end:
                return
            start = stop

    def _bare_list(self, call: Call, where: Mapping[str, Any], query: Mapping[str, str]) -> list[JsonObject]:
        data = self._json(call, where, query)
        if not isinstance(data, list):
            raise self._odd(call, where, "a list")
        return data

    def _pages(self, call: Call, where: Mapping[str, Any], query: Mapping[str, str]) -> list[JsonObject]:
        first, total_pages = self._page(call, where, query, 1)
        if total_pages <= 1:
            return first
        numbers = range(2, total_pages + 1)
        if self.max_in_flight == 1:
            later = [self._page(call, where, query, n)[0] for n in numbers]
        else:
            with ThreadPoolExecutor(self.max_in_flight, thread_name_prefix="metrc-page") as pool:
                later = list(pool.map(lambda n: self._page(call, where, query, n)[0], numbers))
        return first + [row for page in later for row in page]

    def _page(
        self, call: Call, where: Mapping[str, Any], query: Mapping[str, str], number: int
    ) -> tuple[list[JsonObject], int]:
        data = self._json(call, where, {**query, "pageNumber": str(number), "pageSize": str(self.page_size)})
        rows = data.get("Data") if isinstance(data, dict) else None
        if not isinstance(rows, list):
            raise self._odd(call, where, 'a page ({"Data": […], "TotalPages": …})')
        pages = data.get("TotalPages")
        return rows, pages if isinstance(pages, int) and not isinstance(pages, bool) else 1

    def _json(self, call: Call, where: Mapping[str, Any], query: Mapping[str, str] | None = None) -> Any:
        response = self._send(call, where, params=query)
        try:
            return canonical(from_json(response.content))
        except ValueError:
            raise MetrcUnexpectedResponse(
                f"METRC answered {call.action.format(**where)} with something that is not JSON; "
                "report this to support with the log file."
            ) from None

    def _odd(self, call: Call, where: Mapping[str, Any], expected: str) -> MetrcUnexpectedResponse:
        return MetrcUnexpectedResponse(
            f"METRC answered {call.action.format(**where)} with something other than {expected}; check that the "
            f"store's METRC API version ({self.api.name}) is the one its keys are for, or report this to support."
        )

    def _write(self, operation: str, batch: list[JsonObject]) -> None:
        call = self.api.call(operation)
        size = self.api.max_batch or len(batch) or 1
        for start in range(0, len(batch), size):  # an empty batch is nothing to tell METRC
            self._send(call, {}, batch=batch[start : start + size], offset=start, total=len(batch))

    def _send(
        self,
        call: Call,
        where: Mapping[str, Any],
        *,
        params: Mapping[str, str] | None = None,
        batch: list[JsonObject] | None = None,
        offset: int = 0,
        total: int = 0,
    ) -> httpx.Response:
        action = call.action.format(**where)
        path = call.path.format(**where)
        query = {"licenseNumber": self.license_number, **(params or {})}
        body = to_json(batch).encode() if batch is not None else None
        headers = {"Content-Type": "application/json"} if body is not None else None
        import httpx

        started = time.monotonic()
        try:
            response = self._http.request(call.method, path, params=query, content=body, headers=headers)
        except httpx.TransportError as exc:
            log.warning(
                "METRC %s %s failed after %.2f s: %s", call.method, path, time.monotonic() - started, type(exc).__name__
            )
            raise self._unavailable(exc, action, posted=batch is not None, done=offset) from None
        log.info(
            "METRC %s %s%s -> %d in %.2f s",
            call.method,
            path,
            f" ({len(batch)} elements)" if batch is not None else "",
            response.status_code,
            time.monotonic() - started,
        )
        if response.is_success:
            return response
        raise self._error(response, action, batch, offset=offset, total=total, listing=not where)

    def _unavailable(self, exc: httpx.TransportError, action: str, *, posted: bool, done: int) -> MetrcUnavailable:
        import httpx

        host = self._http.base_url.host
        if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
            return MetrcUnavailable(
                f"Cannot reach METRC at {host} for {action} ({_reason(exc)}). "
                "Check the network; nothing was sent, so it can be sent again later."
            )
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
        return MetrcUnavailable(message + _partly(done), maybe_applied=maybe_applied)

    def _error(
        self,
        response: httpx.Response,
        action: str,
        batch: list[JsonObject] | None,
        *,
        offset: int,
        total: int,
        listing: bool,
    ) -> Exception:
        status = response.status_code
        done = _partly(offset)
        if status in (401, 403):
            return MetrcUnauthorized(self.username, self.license_number, status)
        if status == 400:
            return MetrcRejected(action, _problems(response, batch), len(batch or ()))
        if status == 404:
            hint = (
                f" If this happens for every call, the address or the API version ({self.api.name}) in Settings "
                "does not match the store's METRC keys."
                if listing or batch is not None
                else ""
            )
            return MetrcNotFound(f"METRC has no record of {action} on license {self.license_number}.{hint}")
        if status == 413:
            return MetrcTooLarge(
                f"METRC refused {action}: more objects in one call than it takes (HTTP 413). "
                f"Nothing in this call was recorded{done}; report this to support with the log file."
            )
        if status == 429 or status >= 500:
            retry_after = _retry_after(response)
            wait = f"try again in {retry_after:g} s" if retry_after is not None else "try again later"
            why = "is limiting this store's calls" if status == 429 else "had an internal error"
            maybe_applied = batch is not None and status not in _NOT_PROCESSED
            tail = " METRC may have recorded it anyway: check METRC before sending it again." if maybe_applied else ""
            return MetrcUnavailable(
                f"METRC {why} (HTTP {status}) during {action}; {wait}.{tail}{done}",
                status=status,
                retry_after=retry_after,
                maybe_applied=maybe_applied,
            )
        return MetrcUnexpectedResponse(
            f"METRC answered {action} with HTTP {status}, which the connector "
            "does not expect; report this to support with the log file."
        )


def _partly(done: int) -> str:
    return f" (the first {done} objects of this batch went in earlier calls and were recorded)" if done else ""


def _path_segment(text: str, what: str) -> str:
    """A value going into a URL path, percent-encoded whole (a slash cannot reach another path)."""
    value = str(text).strip()
    if not value:
        raise ValidationError(f"the {what} is empty")
    return quote(value, safe="")


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
