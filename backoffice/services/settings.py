"""Store-wide settings, each declared once with its type, default and description
(the idea of Electrum's ConfigVar); values live in ``store_settings`` as JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from backoffice.db.engine import Database
from backoffice.db.models import StoreSetting
from backoffice.domain.store_calendar import StoreCalendar
from backoffice.errors import ValidationError
from backoffice.services import audit
from backoffice.services.actor import Actor, Permission

T = TypeVar("T")


@dataclass(frozen=True)
class Setting(Generic[T]):
    key: str
    type: type
    default: T
    description: str

    def decode(self, raw: str) -> T:
        value = json.loads(raw)
        return Decimal(value) if self.type is Decimal else self.type(value)

    def encode(self, value: Any) -> str:
        try:
            typed = Decimal(str(value)) if self.type is Decimal else self.type(value)
        except (ValueError, ArithmeticError):
            raise ValidationError(f"setting {self.key} needs a {self.type.__name__}, not {value!r}") from None
        return json.dumps(str(typed) if self.type is Decimal else typed)


REGISTRY: dict[str, Setting[Any]] = {}


def _declare(key: str, type_: type, default: Any, description: str) -> Setting[Any]:
    setting = Setting(key, type_, default, description)
    REGISTRY[key] = setting
    return setting


STORE_NAME = _declare("store_name", str, "Green Door Dispensary", "Store name printed on reports and labels")
LICENSE_NUMBER = _declare("license_number", str, "C10-0000789-LIC", "The store's METRC facility license number")
TIMEZONE = _declare("timezone", str, "America/Los_Angeles", "Facility time zone (METRC sales times are local)")
STRICT_TAGS = _declare("strict_tags", bool, False, "Require tags to be 1A4 + 21 hex characters")
LOCKOUT_ATTEMPTS = _declare("lockout_attempts", int, 5, "Wrong PINs in a row before an account locks")
LOCKOUT_MINUTES = _declare("lockout_minutes", int, 15, "How long a locked account stays locked")
APPROVAL_UNITS = _declare("approval_threshold_units", Decimal, Decimal(5), "Adjustments above this many units need a manager PIN")
APPROVAL_DOLLARS = _declare("approval_threshold_dollars", Decimal, Decimal(100), "Adjustments above this value need a manager PIN")
LEAD_TIME_DAYS = _declare("lead_time_days", int, 7, "Days from purchase order to product on the shelf")
TARGET_DAYS_OF_SUPPLY = _declare("target_days_of_supply", int, 21, "Stock to hold after a reorder, in days of sales")
METRC_BASE_URL = _declare("metrc_base_url", str, "", "METRC API base URL (empty: manual CSV mode)")
METRC_API_VERSION = _declare("metrc_api_version", str, "v2",
                             "METRC API version the store's keys are for: v2 (current) or v1 (states still on it)")
METRC_WINDOW_HOURS = _declare("metrc_window_hours", int, 24,
                              "Longest lastModified window per METRC list call, in hours (the state's limit)")
METRC_MAX_IN_FLIGHT = _declare("metrc_max_in_flight", int, 4, "METRC calls sent at the same time (paged lists)")
RETAIL_ID_REQUIRED = _declare("retail_id_required", bool, False,
                              "The state requires a Retail ID QR code on every unit (e.g. New York): receiving "
                              "flags packages without unit codes")
LOW_TAG_THRESHOLD = _declare("low_tag_threshold", int, 20,
                             "Warn in the Transfers tab when fewer unused package tags than this remain")
METRC_MAX_ATTEMPTS = _declare("metrc_max_attempts", int, 8, "Sends before an outbox item is marked failed")


def get(session: Session, setting: Setting[T]) -> T:
    row = session.get(StoreSetting, setting.key)
    return setting.default if row is None else setting.decode(row.value)


def read(db: Database, setting: Setting[T]) -> T:
    with db.read() as session:
        return get(session, setting)


def calendar(session: Session) -> StoreCalendar:
    """The store's calendar (time zone, today, business days): the one source of "today"."""
    return StoreCalendar.named(get(session, TIMEZONE))


def store_calendar(db: Database) -> StoreCalendar:
    with db.read() as session:
        return calendar(session)


def set_value(db: Database, actor: Actor, key: str, value: Any) -> None:
    set_values(db, actor, {key: value})


def set_values(db: Database, actor: Actor, values: dict[str, Any]) -> None:
    """Change several settings in one transaction, each change audited (unchanged ones are skipped)."""
    actor.require(Permission.MANAGE_SETTINGS)
    encoded: dict[str, str] = {}
    for key, value in values.items():
        setting = REGISTRY.get(key)
        if setting is None:
            raise ValidationError(f"unknown setting {key!r}; known: {', '.join(sorted(REGISTRY))}")
        encoded[key] = setting.encode(value)
        if setting is TIMEZONE:
            StoreCalendar.named(str(value))  # refuses a name that is not a time zone
        _check_metrc(setting, value)
    with db.transaction() as session:
        for key, text in encoded.items():
            row = session.get(StoreSetting, key)
            before = None if row is None else json.loads(row.value)
            if row is not None and row.value == text:
                continue
            if row is None:
                session.add(StoreSetting(key=key, value=text))
            else:
                row.value = text
            audit.record(session, actor, "setting.change", "setting", key, before=before, after=json.loads(text))


def _check_metrc(setting: Setting[Any], value: Any) -> None:
    if setting is METRC_API_VERSION and str(value) not in ("v1", "v2"):
        raise ValidationError(f"METRC API version {value!r} is not v1 or v2; use the version the store's keys are for")
    if setting is METRC_WINDOW_HOURS and not 1 <= int(value) <= 24 * 31:
        raise ValidationError(f"a METRC window of {value} hours is not between 1 hour and 31 days")
    if setting is METRC_MAX_IN_FLIGHT and not 1 <= int(value) <= 16:
        raise ValidationError(f"{value} METRC calls at once is not between 1 and 16")
    if setting is METRC_BASE_URL and str(value).strip():
        from urllib.parse import urlsplit

        parts = urlsplit(str(value).strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValidationError(f"METRC address {value!r} is not a web address like https://api-ca.metrc.com/")
