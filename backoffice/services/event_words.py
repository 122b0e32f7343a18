"""Audit events and stock-ledger rows as sentences a person reads (the Audit tab, a package's
history), instead of the canonical JSON the audit chain stores.

Each known action has its own sentence; any other action is worded from its name and its
before/after values ("Outbox retry later #12: attempts 3, error …"), never shown as JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from backoffice.domain.enums import LedgerKind
from backoffice.domain.numbers import money_text
from backoffice.domain.units import Unit

Facts = Mapping[str, Any]
_SHOWN = 3  # tags listed before "and N more"
_DECIMAL = re.compile(r"-?\d+\.\d+")  # a quantity or amount as the audit log stores it


def plural(n: int, one: str, many: str | None = None) -> str:
    """``plural(1, "package")`` → "1 package"; ``plural(14, "package")`` → "14 packages"."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def _plain(value: Any) -> str:
    """Decimals without trailing zeros ("12.0000" → "12"), lists and mappings as words."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float, Decimal)) or (isinstance(value, str) and _DECIMAL.fullmatch(value)):
        return f"{Decimal(str(value)).normalize():f}"
    if isinstance(value, list):
        return _listed([_plain(v) for v in value])
    if isinstance(value, dict):
        return ", ".join(f"{_words(k)} {_plain(v)}" for k, v in value.items())
    return "—" if value is None else str(value)


def _listed(items: list[str]) -> str:
    if not items:
        return "none"
    shown = ", ".join(items[:_SHOWN])
    return shown + (f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else "")


def _words(name: str) -> str:
    return name.replace("_", " ").replace(".", " ")


def _load(text: str | None) -> Facts:
    if not text:
        return {}
    value = json.loads(text)
    return value if isinstance(value, dict) else {"value": value}


def _tags(facts: Facts, key: str = "tags") -> str:
    tags = list(facts.get(key) or [])
    return f"{plural(len(tags), 'package')} ({_listed(tags)})" if tags else "no packages"


_SENTENCES: dict[str, Callable[[str, Facts, Facts], str]] = {
    "user.add": lambda e, b, a: f"Added user {a.get('username')} ({a.get('role')}, {a.get('display_name')})",
    "user.enable": lambda e, b, a: f"Enabled user #{e}",
    "user.disable": lambda e, b, a: f"Disabled user #{e}",
    "user.pin_change": lambda e, b, a: f"Changed the PIN of user #{e}",
    "user.locked": lambda e, b, a: f"Locked user #{e} after too many wrong PINs",
    "user.sign_in": lambda e, b, a: "Signed in",
    "user.sign_in_failed": lambda e, b, a: f"Sign-in refused for user {e}",
    "user.approval": lambda e, b, a: f"User #{e} approved with their PIN",
    "user.approval_failed": lambda e, b, a: f"Approval refused for user {e}",
    "transfer.create": lambda e, b, a: f"Started transfer #{e} from {a.get('from')} to {a.get('to')} with {_tags(a)}",
    "transfer.add": lambda e, b, a: f"Added {a.get('tag')} to transfer #{e}",
    "transfer.remove": lambda e, b, a: f"Took {b.get('tag')} off transfer #{e}",
    "transfer.record": lambda e, b, a: (
        f"Recorded transfer #{e} (the METRC location change) for {_tags(a)}; "
        f"queued for METRC as outbox #{a.get('outbox')}"
    ),
    "transfer.arrived": lambda e, b, a: (
        f"Package {e} arrived in {a.get('location')} (transfer #{a.get('transfer')}, now {a.get('transfer_status')})"
    ),
    "transfer.cancel": lambda e, b, a: f"Cancelled transfer #{e}",
    "package.split": lambda e, b, a: (
        f"Split {_plain(a.get('quantity'))} off package {e} into new package "
        f"{a.get('new_tag')} for transfer #{a.get('transfer')}"
    ),
    "package.adjust": lambda e, b, a: (
        f"Adjusted package {e} by {_signed(a.get('delta'))}: "
        f"{_plain(b.get('quantity'))} → {_plain(a.get('quantity'))}"
        + (f", approved by {a['approved_by']}" if a.get("approved_by") else "")
        + (f", for count #{a['count']}" if a.get("count") else "")
    ),
    "manifest.import": lambda e, b, a: (
        f"Imported manifest {e} from {a.get('shipper')}: "
        f"{plural(int(a.get('packages') or 0), 'package')}"
        + (f", {plural(int(a['unknown_items']), 'product')} new to the store" if a.get("unknown_items") else "")
    ),
    "manifest.accept": lambda e, b, a: f"Accepted {_tags(a)} on manifest {e}",
    "manifest.reject": lambda e, b, a: f"Rejected package {e} on manifest {a.get('manifest')}",
    "manifest.undo": lambda e, b, a: (
        f"Undid the decision on package {e} (manifest {a.get('manifest')}); it is {a.get('state')} again"
    ),
    "manifest.quantity": lambda e, b, a: (
        f"Package {e} received {_plain(a.get('received_quantity'))} of "
        f"{_plain(a.get('shipped_quantity'))} shipped (manifest {a.get('manifest')})"
    ),
    "manifest.expiration": lambda e, b, a: (
        f"Set expiration {a.get('expiration_date') or 'none'} on {_tags(a)} (manifest {e})"
    ),
    "manifest.receive": lambda e, b, a: (
        f"Received manifest {e} into {a.get('location')}: "
        f"{plural(len(a.get('accepted') or []), 'package')} accepted, "
        f"{plural(len(a.get('rejected') or {}), 'package')} rejected"
    ),
    "manifest.metrc_check": lambda e, b, a: (
        f"Checked manifest {e} against METRC: "
        + ("METRC agrees" if a.get("agrees") else f"{plural(len(a.get('problems') or []), 'difference')}")
    ),
    "item.create": lambda e, b, a: (
        f"Created item {e}, {a.get('name')} ({a.get('category')}, by the "
        f"{a.get('unit')}) from manifest {a.get('from_manifest')}"
    ),
    "item.price": lambda e, b, a: f"Changed the price of {e} from {_money(b.get('price'))} to {_money(a.get('price'))}",
    "count.start": lambda e, b, a: (
        f"Started count #{e} “{a.get('name')}” with "
        f"{plural(int(a.get('lines') or 0), 'expected package')}" + (" (blind)" if a.get("blind") else "")
    ),
    "count.recount": lambda e, b, a: f"Recounted {a.get('tag')} in count #{e}: {_plain(a.get('quantity'))}",
    "count.import_sheet": lambda e, b, a: (
        f"Imported count sheet {a.get('file')} into count #{e}: {plural(int(a.get('lines') or 0), 'line')}"
    ),
    "count.submit": lambda e, b, a: (
        f"Submitted count #{e}: {a.get('lines_matching')} of "
        f"{plural(int(a.get('lines_counted') or 0), 'package')} matched, variance "
        f"{_plain(a.get('unit_variance'))} units ({_money(a.get('dollar_variance'))})"
    ),
    "reconcile.day": lambda e, b, a: (
        f"Reconciled {e}: {plural(int(a.get('pos_lines') or 0), 'POS line')} against "
        f"{plural(int(a.get('metrc_receipts') or 0), 'METRC receipt')}, "
        f"{plural(int(a.get('findings') or 0), 'difference')} "
        f"({a.get('new', 0)} new, {a.get('cleared', 0)} cleared)"
    ),
    "finding.resolve": lambda e, b, a: (
        f"Resolved finding #{e} ({_words(str(a.get('kind')))}, receipt "
        f"{a.get('receipt')}, {a.get('tag')}): {_words(str(a.get('action')))}"
    ),
    "import.pos_sales": lambda e, b, a: (
        f"Imported POS sales file {e}: {plural(int(a.get('added') or 0), 'new line')}"
        f" of {a.get('lines')}, for {_listed(list(a.get('days') or []))}"
    ),
    "import.metrc_sales": lambda e, b, a: (
        f"Imported METRC receipts from {e}: {a.get('added')} new, {a.get('updated')} updated"
    ),
    "outbox.sent": lambda e, b, a: f"Sent outbox #{e} to METRC",
    "outbox.retry": lambda e, b, a: f"Put outbox #{e} back in the queue for METRC",
    "outbox.resolve": lambda e, b, a: f"Closed outbox #{e} by hand",
    "outbox.failed": lambda e, b, a: (
        f"METRC refused outbox #{e} after {plural(int(a.get('attempts') or 0), 'try')}: {a.get('error')}"
    ),
    "outbox.retry_later": lambda e, b, a: (
        f"Outbox #{e} could not reach METRC (try {a.get('attempts')}); it is retried later: {a.get('error')}"
    ),
    "outbox.export_csv": lambda e, b, a: (
        f"Exported "
        f"{plural(len(a.get('entries') or []), 'outbox entry', 'outbox entries')} "
        f"to {e} for METRC's upload pages"
    ),
    "labels.print": lambda e, b, a: (
        f"Printed {plural(int(a.get('labels') or 0), 'label')} ({a.get('template')}) to {a.get('destination')}"
    ),
    "location.add": lambda e, b, a: f"Added location {a.get('name')} ({a.get('kind')})",
    "setting.change": lambda e, b, a: (
        f"Changed setting {_words(e)} from {_plain(b.get('value', b or None))} to {_plain(a.get('value', a or None))}"
    ),
    "demo.build": lambda e, b, a: (
        f"Built the {e} demo store: {plural(int(a.get('skus') or 0), 'item')}, "
        f"{plural(int(a.get('packages') or 0), 'package')}, "
        f"{plural(int(a.get('sale_lines') or 0), 'sale line')}"
    ),
}


def _signed(value: Any) -> str:
    if value is None:
        return "—"
    number = Decimal(str(value)).normalize()
    return f"{number:+f}"


def _money(value: Any) -> str:
    """An amount from an event's JSON: -$64.25 for a loss, not $-64.25."""
    return "—" if value is None else money_text(Decimal(str(value)))


def audit_sentence(
    action: str, entity_type: str, entity_id: str, before: str | None, after: str | None, reason: str | None = None
) -> str:
    """One audit event as a sentence; its reason (a note a person typed) follows it."""
    b, a = _load(before), _load(after)
    words = _SENTENCES.get(action)
    try:
        sentence = words(entity_id, b, a) if words else _generic(action, entity_type, entity_id, b, a)
    except (TypeError, ValueError, ArithmeticError):  # an older event without the fields expected today
        sentence = _generic(action, entity_type, entity_id, b, a)
    if not reason:
        return f"{sentence}."
    return f"{sentence}. {reason[:1].upper()}{reason[1:].rstrip('.')}."  # the reason reads as its own sentence


def _generic(action: str, entity_type: str, entity_id: str, before: Facts, after: Facts) -> str:
    what = _words(action).capitalize()
    changes = [f"{_words(k)} {_plain(before[k])} → {_plain(after[k])}" for k in after if k in before]
    changes += [f"{_words(k)} {_plain(v)}" for k, v in after.items() if k not in before]
    changes += [f"{_words(k)} was {_plain(v)}" for k, v in before.items() if k not in after]
    subject = f"{_words(entity_type)} {entity_id}"
    return f"{what}, {subject}" + (f": {'; '.join(changes)}" if changes else "")


def ledger_sentence(
    kind: LedgerKind,
    delta: Decimal,
    unit: Unit,
    from_location: str | None,
    to_location: str | None,
    doc_type: str,
    doc_id: int | None,
    note: str | None,
    manifest: str | None = None,
) -> str:
    """One stock-ledger row of a package as a sentence."""
    size = f"{abs(delta).normalize():f} {unit.value}"
    match kind:
        case LedgerKind.RECEIVE:
            text = f"Received {size}" + (f" from manifest {manifest}" if manifest else "")
            if to_location:
                text += f" into {to_location}"
        case LedgerKind.TRANSFER:
            text = f"Moved from {from_location or '—'} to {to_location or '—'}"
            if doc_id:
                text += f" (transfer #{doc_id})"
        case LedgerKind.SALE:
            text = f"Sold {size}" if delta <= 0 else f"Returned {size} to stock"
            if doc_id:
                text += f" (POS sale line #{doc_id})"
        case LedgerKind.ADJUSTMENT:
            text = f"Adjusted {'down' if delta < 0 else 'up'} by {size}"
            text += f" (adjustment #{doc_id})" if doc_id else ""
        case _:
            text = f"{_words(kind.value).capitalize()} {size}" + (f" ({_words(doc_type)} #{doc_id})" if doc_id else "")
    return f"{text}. {note.rstrip('.')}." if note else f"{text}."
