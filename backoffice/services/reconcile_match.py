"""Match one business day of POS sale lines against METRC sales receipts (pure, no database).

POS receipts are paired with METRC receipts by number (the POS number is METRC's
``ExternalReceiptNumber``, or its ``ReceiptNumber`` when the POS wrote it there). A METRC
receipt entered without the POS number (by hand, or by a POS that does not send it) is
paired by package tag within a time window instead. Within a pair, lines are compared per
tag, summing a tag's lines on each side: METRC deducts a package by its total, however the
POS split the lines. Lines without a tag are items METRC does not track and are left out.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from backoffice.domain.enums import FindingKind
from backoffice.domain.numbers import QTY_PLACES, money_text
from backoffice.domain.units import Unit, convert

DEFAULT_WINDOW = timedelta(minutes=10)
_KIND_ORDER = {kind: i for i, kind in enumerate(FindingKind)}


class PosLine(Protocol):
    """What matching reads from a POS sale line (the importer's PosSaleLine or the ORM row)."""

    @property
    def receipt_number(self) -> str: ...
    @property
    def sold_at(self) -> datetime: ...
    @property
    def tag(self) -> str | None: ...
    @property
    def quantity(self) -> Decimal: ...
    @property
    def unit(self) -> Unit | None: ...
    @property
    def amount(self) -> Decimal: ...


class MetrcTransaction(Protocol):
    @property
    def tag(self) -> str: ...
    @property
    def quantity(self) -> Decimal: ...
    @property
    def unit(self) -> Unit: ...
    @property
    def amount(self) -> Decimal: ...


class MetrcReceipt(Protocol):
    @property
    def receipt_number(self) -> str | None: ...
    @property
    def external_receipt_number(self) -> str | None: ...
    @property
    def sold_at(self) -> datetime: ...
    @property
    def transactions(self) -> Sequence[MetrcTransaction]: ...


@dataclass(frozen=True)
class Finding:
    kind: FindingKind
    receipt_number: str
    tag: str
    pos_quantity: Decimal | None
    pos_amount: Decimal | None
    metrc_quantity: Decimal | None
    metrc_amount: Decimal | None
    detail: str


@dataclass
class _Total:
    """One tag's lines on one side of one receipt, summed in the first line's unit."""

    quantity: Decimal
    unit: Unit | None
    amount: Decimal


def match_day(
    pos_lines: Iterable[PosLine],
    metrc_receipts: Iterable[MetrcReceipt],
    *,
    floor_tags: set[str],
    known_tags: set[str],
    window: timedelta = DEFAULT_WINDOW,
) -> list[Finding]:
    """Every difference between the day's POS sales and METRC's, ordered by receipt and tag.

    ``known_tags``: packages this store has; ``floor_tags``: those on the sales floor
    (a POS sale of anything else broke transfer-before-move).
    """
    pos_receipts: dict[str, list[PosLine]] = defaultdict(list)
    for line in pos_lines:
        if line.tag:
            pos_receipts[line.receipt_number].append(line)
    receipts = list(metrc_receipts)
    pairs, unused = _pair(pos_receipts, receipts, window)

    findings: list[Finding] = []
    for number, lines, receipt in pairs:
        pos = _totals((line.tag, line.quantity, line.unit, line.amount) for line in lines if line.tag)
        # a void (a sale and its reversal on one receipt) nets to nothing: METRC needs no record of it
        pos = {tag: p for tag, p in pos.items() if p.quantity or p.amount}
        findings += _pos_tag_checks(number, pos, floor_tags, known_tags)
        if receipt is None:
            findings += _missing_in_metrc(number, lines[0].sold_at, pos)
            continue
        metrc = _metrc_totals(receipt)
        findings += _compare(number, pos, metrc)
        findings += _unknown_in_metrc(number, {t: m for t, m in metrc.items() if t not in pos}, known_tags)
    for receipt in unused:
        number = receipt.external_receipt_number or receipt.receipt_number or ""
        metrc = _metrc_totals(receipt)
        findings += _missing_in_pos(number, receipt.sold_at, metrc, duplicate=number in pos_receipts)
        findings += _unknown_in_metrc(number, metrc, known_tags)
    findings.sort(key=lambda f: (f.receipt_number, f.tag, _KIND_ORDER[f.kind]))
    return findings


def _pair(
    pos_receipts: dict[str, list[PosLine]], receipts: list[MetrcReceipt], window: timedelta
) -> tuple[list[tuple[str, list[PosLine], MetrcReceipt | None]], list[MetrcReceipt]]:
    """Each POS receipt with its METRC receipt (or None), and the METRC receipts left over."""
    by_external: dict[str, list[MetrcReceipt]] = defaultdict(list)
    by_number: dict[str, list[MetrcReceipt]] = defaultdict(list)
    for receipt in receipts:
        if receipt.external_receipt_number:
            by_external[receipt.external_receipt_number].append(receipt)
        if receipt.receipt_number:
            by_number[receipt.receipt_number].append(receipt)
    used: set[int] = set()
    pairs: list[tuple[str, list[PosLine], MetrcReceipt | None]] = []
    unpaired: list[tuple[str, list[PosLine]]] = []
    for number, lines in pos_receipts.items():
        # the external number is the POS's own; METRC's ReceiptNumber matches only when the POS wrote it there
        candidates = (*by_external.get(number, ()), *by_number.get(number, ()))
        match = next((r for r in candidates if id(r) not in used), None)
        if match is None:
            unpaired.append((number, lines))
        else:
            used.add(id(match))
            pairs.append((number, lines, match))
    pool = _TimePool([r for r in receipts if id(r) not in used and not r.external_receipt_number])
    for number, lines in unpaired:
        match = pool.take(lines, window)
        if match is not None:
            used.add(id(match))
        pairs.append((number, lines, match))
    return pairs, [r for r in receipts if id(r) not in used]


class _TimePool:
    """METRC receipts without the POS number, found by shared tags within a time window."""

    def __init__(self, receipts: list[MetrcReceipt]) -> None:
        entries: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
        for index, receipt in enumerate(receipts):
            for tag in {tx.tag for tx in receipt.transactions}:
                entries[tag].append((receipt.sold_at, index))
        self._receipts = receipts
        self._by_tag = {tag: sorted(found) for tag, found in entries.items()}
        self._times = {tag: [when for when, _ in found] for tag, found in self._by_tag.items()}
        self._taken: set[int] = set()

    def take(self, lines: list[PosLine], window: timedelta) -> MetrcReceipt | None:
        """The free receipt sharing most tags with ``lines``, then the nearest in time."""
        sold_at = lines[0].sold_at
        shared: dict[int, int] = defaultdict(int)
        for tag in {line.tag for line in lines if line.tag}:
            times = self._times.get(tag, [])
            low, high = bisect.bisect_left(times, sold_at - window), bisect.bisect_right(times, sold_at + window)
            for _, index in self._by_tag[tag][low:high] if times else ():
                if index not in self._taken:
                    shared[index] += 1
        if not shared:
            return None
        best = max(shared, key=lambda i: (shared[i], -abs(self._receipts[i].sold_at - sold_at), -i))
        self._taken.add(best)
        return self._receipts[best]


def _metrc_totals(receipt: MetrcReceipt) -> dict[str, _Total]:
    return _totals((tx.tag, tx.quantity, tx.unit, tx.amount) for tx in receipt.transactions)


def _totals(items: Iterable[tuple[str | None, Decimal, Unit | None, Decimal]]) -> dict[str, _Total]:
    totals: dict[str, _Total] = {}
    for tag, quantity, unit, amount in items:
        assert tag is not None  # callers pass tagged lines only
        total = totals.get(tag)
        if total is None:
            totals[tag] = _Total(quantity, unit, amount)
        else:
            total.quantity += _in_unit(quantity, unit, total.unit)
            total.amount += amount
    return totals


def _pos_only(kind: FindingKind, number: str, tag: str, p: _Total, detail: str) -> Finding:
    """A finding about a tag only the POS side of the receipt has."""
    return Finding(kind, number, tag, p.quantity, p.amount, None, None, detail)


def _metrc_only(kind: FindingKind, number: str, tag: str, m: _Total, detail: str) -> Finding:
    """A finding about a tag only METRC's side of the receipt has."""
    return Finding(kind, number, tag, None, None, m.quantity, m.amount, detail)


def _both(kind: FindingKind, number: str, tag: str, p: _Total, m: _Total, detail: str) -> Finding:
    """A finding about a tag both sides have, differently."""
    return Finding(kind, number, tag, p.quantity, p.amount, m.quantity, m.amount, detail)


def _in_unit(quantity: Decimal, unit: Unit | None, target: Unit | None) -> Decimal:
    """``quantity`` in ``target`` when both are known and convertible; as it is otherwise."""
    if unit is None or target is None or unit is target or unit.family is not target.family:
        return quantity
    return convert(quantity, unit, target).quantize(QTY_PLACES)


def _missing_in_metrc(number: str, sold_at: datetime, pos: dict[str, _Total]) -> list[Finding]:
    return [
        _pos_only(
            FindingKind.RETURN_NOT_IN_METRC,
            number,
            tag,
            p,
            f"POS receipt {number} at {sold_at:%H:%M} {_sold(p)} of {tag} (refund {money_text(-p.amount)}), but "
            "METRC has no such return. Record the return in METRC, or explain why the product did not go back.",
        )
        if p.quantity < 0
        else _pos_only(
            FindingKind.MISSING_IN_METRC,
            number,
            tag,
            p,
            f"POS receipt {number} at {sold_at:%H:%M} sold {_qty(p)} of {tag} for {money_text(p.amount)}, "
            "but METRC has no such sale, so METRC has not deducted this package. Record the sale in METRC.",
        )
        for tag, p in pos.items()
    ]


def _missing_in_pos(number: str, sold_at: datetime, metrc: dict[str, _Total], *, duplicate: bool) -> list[Finding]:
    receipt = f"METRC receipt {number}" if number else "A METRC receipt without a number"
    why = (
        f"the POS has receipt {number} only once: METRC has deducted this sale twice"
        if duplicate
        else "the POS export has no such sale"
    )
    return [
        _metrc_only(
            FindingKind.MISSING_IN_POS,
            number,
            tag,
            m,
            f"{receipt} at {sold_at:%H:%M} deducts {_qty(m)} of {tag} for {money_text(m.amount)}, but {why}.",
        )
        for tag, m in metrc.items()
    ]


def _compare(number: str, pos: dict[str, _Total], metrc: dict[str, _Total]) -> list[Finding]:
    findings = []
    for tag, p in pos.items():
        m = metrc.get(tag)
        if m is None and p.quantity < 0:
            findings.append(
                _pos_only(
                    FindingKind.RETURN_NOT_IN_METRC,
                    number,
                    tag,
                    p,
                    f"POS receipt {number} {_sold(p)} of {tag}, but METRC's receipt has no return of that package. "
                    "Record the return in METRC, or explain why the product did not go back.",
                )
            )
            continue
        if m is None:
            findings.append(
                _pos_only(
                    FindingKind.MISSING_IN_METRC,
                    number,
                    tag,
                    p,
                    f"POS receipt {number} sold {_qty(p)} of {tag}, but METRC's receipt for this sale does not "
                    "deduct that package, so METRC has not deducted it.",
                )
            )
            continue
        pos_quantity = _in_unit(p.quantity, p.unit, m.unit)
        units_clash = p.unit is not None and m.unit is not None and p.unit.family is not m.unit.family
        if units_clash or pos_quantity != m.quantity:
            how_far = "" if units_clash else f" ({_difference(m.quantity - pos_quantity, m.unit)})"
            findings.append(
                _both(
                    FindingKind.QUANTITY_MISMATCH,
                    number,
                    tag,
                    p,
                    m,
                    f"Receipt {number}, {tag}: the POS {_sold(p)}, METRC deducted {_qty(m)}{how_far}.",
                )
            )
        if p.amount != m.amount:
            findings.append(
                _both(
                    FindingKind.AMOUNT_MISMATCH,
                    number,
                    tag,
                    p,
                    m,
                    f"Receipt {number}, {tag}: the POS charged {money_text(p.amount)}, METRC recorded {money_text(m.amount)}.",
                )
            )
    return findings + [
        _metrc_only(
            FindingKind.MISSING_IN_POS,
            number,
            tag,
            m,
            f"METRC's receipt for POS receipt {number} deducts {_qty(m)} of {tag}, which the POS receipt "
            "does not sell.",
        )
        for tag, m in metrc.items()
        if tag not in pos
    ]


def _pos_tag_checks(number: str, pos: dict[str, _Total], floor_tags: set[str], known_tags: set[str]) -> list[Finding]:
    findings = []
    for tag, p in pos.items():
        if tag not in known_tags:
            findings.append(
                _pos_only(
                    FindingKind.UNKNOWN_TAG,
                    number,
                    tag,
                    p,
                    f"Receipt {number} {_sold(p)} of {tag}, a package this store has no record of.",
                )
            )
        elif tag not in floor_tags and p.quantity > 0:  # a return may come back to any room
            findings.append(
                _pos_only(
                    FindingKind.NOT_ON_FLOOR,
                    number,
                    tag,
                    p,
                    f"Receipt {number} sold {_qty(p)} of {tag}, which is not on the sales floor: it was sold before "
                    "its transfer to the floor was recorded.",
                )
            )
    return findings


def _unknown_in_metrc(number: str, metrc: dict[str, _Total], known_tags: set[str]) -> list[Finding]:
    """METRC-only tags this store has never heard of (a sale under another store's tag, or a typo)."""
    return [
        _metrc_only(
            FindingKind.UNKNOWN_TAG,
            number,
            tag,
            m,
            f"METRC receipt {number or 'without a number'} deducts {_qty(m)} of {tag}, a package this store "
            "has no record of.",
        )
        for tag, m in metrc.items()
        if tag not in known_tags
    ]


def _sold(total: _Total) -> str:
    """What the POS did with a tag: 'sold 2 Each', or for a return 'took back 1 Each (a return)'."""
    if total.quantity < 0:
        return f"took back {_qty(_Total(-total.quantity, total.unit, -total.amount))} (a return)"
    return f"sold {_qty(total)}"


def _qty(total: _Total) -> str:
    return f"{_plain(total.quantity)} {total.unit.value}" if total.unit else _plain(total.quantity)


def _difference(delta: Decimal, unit: Unit | None) -> str:
    size = f"{_plain(abs(delta))} {unit.value}" if unit else _plain(abs(delta))
    return f"{size} more than was sold" if delta > 0 else f"{size} less than was sold"


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")
