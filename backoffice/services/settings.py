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
from backoffice.domain.numbers import parse_decimal
from backoffice.domain.store_calendar import StoreCalendar
from backoffice.errors import ValidationError
from backoffice.services import audit
from backoffice.services.actor import Actor, Permission
from backoffice.services.changes import Changes

T = TypeVar("T")


@dataclass(frozen=True)
class Setting(Generic[T]):
    key: str
    type: type
    default: T
    description: str

    def decode(self, raw: str) -> T:
        return self.type(json.loads(raw))  # a Decimal is stored as its text: Decimal("5.00") reads it back

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
APPROVAL_UNITS = _declare(
    "approval_threshold_units", Decimal, Decimal(5), "Adjustments above this many units need a manager PIN"
)
APPROVAL_DOLLARS = _declare(
    "approval_threshold_dollars", Decimal, Decimal(100), "Adjustments above this value need a manager PIN"
)
LEAD_TIME_DAYS = _declare("lead_time_days", int, 7, "Days from purchase order to product on the shelf")
TARGET_DAYS_OF_SUPPLY = _declare("target_days_of_supply", int, 21, "Stock to hold after a reorder, in days of sales")
METRC_BASE_URL = _declare("metrc_base_url", str, "", "METRC API base URL (empty: manual CSV mode)")
METRC_API_VERSION = _declare(
    "metrc_api_version",
    str,
    "v2",
    "METRC API version the store's keys are for: v2 (current) or v1 (states still on it)",
)
METRC_WINDOW_HOURS = _declare(
    "metrc_window_hours", int, 24, "Longest lastModified window per METRC list call, in hours (the state's limit)"
)
METRC_MAX_IN_FLIGHT = _declare("metrc_max_in_flight", int, 4, "METRC calls sent at the same time (paged lists)")
RETAIL_ID_REQUIRED = _declare(
    "retail_id_required",
    bool,
    False,
    "The state requires a Retail ID QR code on every unit (e.g. New York): receiving flags packages without unit codes",
)
LOW_TAG_THRESHOLD = _declare(
    "low_tag_threshold", int, 20, "Warn in the Transfers tab when fewer unused package tags than this remain"
)
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


@dataclass(frozen=True)
class SettingView:
    key: str
    value: Any
    default: Any
    description: str

    @property
    def text(self) -> str:
        return format_value(self.value)


@dataclass(frozen=True)
class SettingsChanged:
    changed: dict[str, tuple[Any, Any]]  # key → (before, after), only the settings that changed
    changes: Changes = Changes.SETTINGS | Changes.AUDIT


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value.normalize():f}" if isinstance(value, Decimal) else str(value)


def list_settings(db: Database, actor: Actor) -> list[SettingView]:
    """Every store setting with its value (the default when never set) and what it is for."""
    actor.require(Permission.VIEW_INVENTORY)
    with db.read() as session:
        return [
            SettingView(s.key, get(session, s), s.default, s.description)
            for s in sorted(REGISTRY.values(), key=lambda s: s.key)
        ]


def lookup(key: str) -> Setting[Any]:
    setting = REGISTRY.get(key.strip())
    if setting is None:
        raise ValidationError(f"unknown setting {key!r}; known: {', '.join(sorted(REGISTRY))}")
    return setting


_YES, _NO = {"yes", "y", "true", "on", "1"}, {"no", "n", "false", "off", "0"}


def parse_text(setting: Setting[Any], text: str) -> Any:
    """A value typed at a command line, in the setting's type (yes/no for a switch)."""
    text = text.strip()
    if setting.type is bool:
        if text.lower() in _YES | _NO:
            return text.lower() in _YES
        raise ValidationError(f"setting {setting.key} is a yes/no switch; {text!r} is neither")
    if setting.type is int:
        try:
            return int(text)
        except ValueError:
            raise ValidationError(f"setting {setting.key} needs a whole number, not {text!r}") from None
    if setting.type is Decimal:
        return parse_decimal(text, what=f"setting {setting.key}")
    return text


def set_value(db: Database, actor: Actor, key: str, value: Any) -> SettingsChanged:
    return set_values(db, actor, {key: value})


def set_values(db: Database, actor: Actor, values: dict[str, Any]) -> SettingsChanged:
    """Change several settings in one transaction: every value is checked first (the Settings
    dialog and ``backoffice settings set`` use the same checks); values already set change nothing."""
    actor.require(Permission.MANAGE_SETTINGS)
    encoded = {}
    for key, value in values.items():
        setting = lookup(key)
        if setting.type is bool and not isinstance(value, bool):
            raise ValidationError(f"setting {setting.key} is a yes/no switch, not {value!r}")
        if isinstance(value, str):
            value = value.strip()
        encoded[setting.key] = setting.encode(value)
        check(setting, setting.decode(encoded[setting.key]))
    changed: dict[str, tuple[Any, Any]] = {}
    with db.transaction() as session:
        for key, raw in encoded.items():
            setting, row = REGISTRY[key], session.get(StoreSetting, key)
            before = setting.default if row is None else setting.decode(row.value)
            after = setting.decode(raw)
            if before == after:
                continue
            stored_before = None if row is None else json.loads(row.value)
            if row is None:
                session.add(StoreSetting(key=key, value=raw))
            else:
                row.value = raw
            changed[key] = (before, after)
            audit.record(session, actor, "setting.change", "setting", key, before=stored_before, after=json.loads(raw))
    return SettingsChanged(changed, SettingsChanged.changes if changed else Changes.NONE)


def check(setting: Setting[Any], value: Any) -> None:
    """The rule of one setting's value, beyond its type."""
    if setting in (STORE_NAME, LICENSE_NUMBER) and not str(value).strip():
        raise ValidationError(f"setting {setting.key} may not be empty ({setting.description.lower()})")
    if setting is TIMEZONE:
        StoreCalendar.named(str(value))  # refuses a name that is not a time zone
    low, high = _RANGES.get(setting.key, (None, None))
    if low is not None and not low <= value <= high:
        raise ValidationError(f"setting {setting.key} = {format_value(value)} is not between {low} and {high}")
    _check_metrc(setting, value)


# Bounds of the numeric settings: outside them a value is a typo, not a policy.
_RANGES: dict[str, tuple[Any, Any]] = {
    "lockout_attempts": (1, 100),
    "lockout_minutes": (1, 24 * 60),
    "lead_time_days": (0, 365),
    "target_days_of_supply": (1, 365),
    "metrc_max_attempts": (1, 100),
    "approval_threshold_units": (Decimal(0), Decimal(100000)),
    "approval_threshold_dollars": (Decimal(0), Decimal(1000000)),
}


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
