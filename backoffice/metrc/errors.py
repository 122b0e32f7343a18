"""What can go wrong talking to METRC, as errors a person (or the outbox) can act on.

``retryable`` tells the outbox whether sending the same call again later may succeed;
``maybe_applied`` (on MetrcUnavailable) warns that METRC may have applied a POST whose
answer never arrived, so the sender must check METRC before re-sending it.
No error here ever carries an API key: messages name the user, never the key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from backoffice.errors import UserError


class MetrcError(UserError):
    """Base of every METRC connector error."""

    retryable = False


class MetrcUnauthorized(MetrcError):
    """METRC refused the vendor/user key pair (HTTP 401/403)."""

    def __init__(self, username: str, license_number: str, status: int) -> None:
        self.username = username
        self.license_number = license_number
        self.status = status
        who = f"user {username!r}" if username else "this user"
        super().__init__(
            f"METRC refused the API key for {who} on license {license_number} (HTTP {status}). "
            "Keys expire yearly and are tied to licenses: enter a new key in Settings, "
            "or ask the account manager to give this user access to the license."
        )


class MetrcNotFound(MetrcError):
    """METRC has no such record (HTTP 404), e.g. a package that is not on this license."""


class MetrcTooLarge(MetrcError):
    """METRC refused a write as too large (HTTP 413); nothing in that call was applied."""


class MetrcUnexpectedResponse(MetrcError):
    """METRC answered in a way the connector does not understand (a bug or an API change)."""


class MetrcUnavailable(MetrcError):
    """METRC could not be reached or is overloaded; the call can be sent again later."""

    retryable = True

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None, maybe_applied: bool = False
    ) -> None:
        self.status = status
        self.retry_after = retry_after
        self.maybe_applied = maybe_applied
        super().__init__(message)


class MetrcKeyMissing(UserError):
    """No METRC API key is stored for a user (or no vendor key for this installation)."""


class KeyStoreUnavailable(UserError):
    """The operating system's key store cannot be used (none installed, or locked)."""


@dataclass(frozen=True)
class RowProblem:
    """One message from METRC's 400 answer; ``row`` indexes the batch we sent (0-based)."""

    row: int | None
    message: str
    element: Mapping[str, Any] | None = None

    def describe(self, batch_size: int) -> str:
        if self.row is None:
            return self.message
        where = f"element {self.row + 1} of {batch_size}"
        key = _identify(self.element)
        return f"{where}{f' ({key})' if key else ''}: {self.message}"


# Field that tells a person which element of a batch METRC means.
_KEY_FIELDS = ("Label", "PackageLabel", "ExternalReceiptNumber")


def _identify(element: Mapping[str, Any] | None) -> str:
    if not element:
        return ""
    for field in _KEY_FIELDS:
        if element.get(field):
            return f"{field} {element[field]}"
    return ""


class MetrcRejected(MetrcError):
    """METRC refused the call (HTTP 400); nothing in the batch was applied."""

    def __init__(self, action: str, problems: Sequence[RowProblem], batch_size: int) -> None:
        self.action = action
        self.problems = tuple(problems)
        self.batch_size = batch_size
        lines = [f"METRC refused {action}:"] + [f"  {p.describe(batch_size)}" for p in self.problems]
        lines.append("Nothing in this batch was recorded in METRC; correct the element named above and send it again.")
        super().__init__("\n".join(lines))

    @property
    def rows(self) -> list[int]:
        return [p.row for p in self.problems if p.row is not None]
