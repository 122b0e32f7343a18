from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from backoffice.domain.enums import FindingKind
from backoffice.domain.units import Unit
from backoffice.importers.metrc_sales_file import MetrcSaleTransaction, ParsedMetrcReceipt, parse_metrc_sales_file
from backoffice.importers.pos_sales_file import PosSaleLine, parse_pos_file
from backoffice.services.reconcile_match import Finding, match_day

TZ = "America/Los_Angeles"
LA = ZoneInfo(TZ)
NOON = datetime(2026, 11, 20, 12, 0, tzinfo=LA)
TAG_A, TAG_B, TAG_C = "1A4060300000000000000001", "1A4060300000000000000002", "1A4060300000000000000003"
STRAY = "1A4060300000000000009999"
ALL_TAGS = {TAG_A, TAG_B, TAG_C}


def _pos(
    receipt: str,
    tag: str | None,
    qty: str = "1",
    amount: str = "10.00",
    *,
    at: datetime = NOON,
    unit: Unit | None = Unit.EACH,
) -> PosSaleLine:
    return PosSaleLine(
        line=0,
        receipt_number=receipt,
        sold_at=at,
        tag=tag,
        sku=None,
        product_name="",
        brand=None,
        category=None,
        quantity=Decimal(qty),
        unit=unit,
        amount=Decimal(amount),
        budtender=None,
    )


def _tx(tag: str, qty: str = "1", amount: str = "10.00", unit: Unit = Unit.EACH) -> MetrcSaleTransaction:
    return MetrcSaleTransaction(0, tag, Decimal(qty), unit, Decimal(amount))


def _receipt(
    number: str | None, *txs: MetrcSaleTransaction, external: str | None = None, at: datetime = NOON
) -> ParsedMetrcReceipt:
    return ParsedMetrcReceipt(0, None, number, external, at, "Consumer", txs)


def _kinds(findings: list[Finding]) -> list[tuple[FindingKind, str, str]]:
    return [(f.kind, f.receipt_number, f.tag) for f in findings]


def _match(pos: list[PosSaleLine], metrc: list[ParsedMetrcReceipt], **kwargs: object) -> list[Finding]:
    options: dict[str, object] = {"floor_tags": ALL_TAGS, "known_tags": ALL_TAGS | {STRAY}, **kwargs}
    return match_day(pos, metrc, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("export", ["pos_sales_export_a.csv", "pos_sales_export_b.csv"])
def test_samples_give_exactly_the_planted_differences(samples: Path, export: str) -> None:
    # Derived from the samples, not from the sales: the store's packages are METRC's active
    # list, and the floor is what that list places in "Sales Floor".
    packages = json.loads((samples / "metrc_packages_active.json").read_text())
    known = {p["Label"] for p in packages}
    floor = {p["Label"] for p in packages if p["LocationName"] == "Sales Floor"}
    pos = parse_pos_file(samples / export, store_tz=TZ).lines
    metrc = parse_metrc_sales_file(samples / "metrc_sales_receipts.json", store_tz=TZ)
    assert {line.tag for line in pos} <= floor < known  # so NOT_ON_FLOOR / UNKNOWN_TAG cannot fire here

    findings = match_day(pos, metrc, floor_tags=floor, known_tags=known)

    assert findings == [
        Finding(
            FindingKind.MISSING_IN_METRC,
            "R1120-0019",
            "1A4060300000000000000096",
            Decimal(1),
            Decimal("37.00"),
            None,
            None,
            "POS receipt R1120-0019 at 11:17 sold 1 Each of 1A4060300000000000000096 for $37.00, but METRC "
            "has no such sale, so METRC has not deducted this package. Record the sale in METRC.",
        ),
        Finding(
            FindingKind.QUANTITY_MISMATCH,
            "R1120-0039",
            "1A4060300000000000000087",
            Decimal(1),
            Decimal("37.00"),
            Decimal(2),
            Decimal("37.00"),
            "Receipt R1120-0039, 1A4060300000000000000087: the POS sold 1 Each, METRC deducted 2 Each "
            "(1 Each more than was sold).",
        ),
    ]


def test_matching_receipts_give_no_findings() -> None:
    pos = [_pos("R1", TAG_A), _pos("R1", TAG_B, "3.5", "19.00", unit=Unit.GRAMS), _pos("R2", TAG_C)]
    metrc = [_receipt("R1", _tx(TAG_B, "3.5", "19.00", Unit.GRAMS), _tx(TAG_A)), _receipt("R2", _tx(TAG_C))]
    assert _match(pos, metrc) == []


def test_external_receipt_number_is_the_pos_number() -> None:
    pos = [_pos("R1", TAG_A)]
    metrc = [_receipt("0000012345", _tx(TAG_A), external="R1")]
    assert _match(pos, metrc) == []


def test_amount_mismatch() -> None:
    findings = _match([_pos("R1", TAG_A, amount="10.00")], [_receipt("R1", _tx(TAG_A, amount="12.50"))])
    assert _kinds(findings) == [(FindingKind.AMOUNT_MISMATCH, "R1", TAG_A)]
    assert findings[0].detail == f"Receipt R1, {TAG_A}: the POS charged $10.00, METRC recorded $12.50."


def test_sale_only_in_metrc_and_a_tag_missing_from_a_matched_receipt() -> None:
    pos = [_pos("R1", TAG_A)]
    metrc = [_receipt("R1", _tx(TAG_A), _tx(TAG_B)), _receipt("R7", _tx(TAG_C, "2", "20.00"))]
    findings = _match(pos, metrc)
    assert _kinds(findings) == [(FindingKind.MISSING_IN_POS, "R1", TAG_B), (FindingKind.MISSING_IN_POS, "R7", TAG_C)]
    assert findings[1].metrc_quantity == Decimal(2) and findings[1].pos_quantity is None
    assert "the POS export has no such sale" in findings[1].detail


def test_a_tag_missing_from_metrcs_receipt() -> None:
    findings = _match([_pos("R1", TAG_A), _pos("R1", TAG_B)], [_receipt("R1", _tx(TAG_A))])
    assert _kinds(findings) == [(FindingKind.MISSING_IN_METRC, "R1", TAG_B)]


def test_a_sale_recorded_twice_in_metrc() -> None:
    findings = _match([_pos("R1", TAG_A)], [_receipt("R1", _tx(TAG_A)), _receipt(None, _tx(TAG_A), external="R1")])
    assert _kinds(findings) == [(FindingKind.MISSING_IN_POS, "R1", TAG_A)]
    assert "METRC has deducted this sale twice" in findings[0].detail


def test_lines_of_one_tag_are_summed_before_comparing() -> None:
    pos = [_pos("R1", TAG_A, "1", "10.00"), _pos("R1", TAG_A, "1", "10.00")]
    assert _match(pos, [_receipt("R1", _tx(TAG_A, "2", "20.00"))]) == []


def test_quantities_compare_across_units_of_one_family_but_not_across_families() -> None:
    pos = [_pos("R1", TAG_A, "1", "200.00", unit=Unit.OUNCES)]
    assert _match(pos, [_receipt("R1", _tx(TAG_A, "28.3495", "200.00", Unit.GRAMS))]) == []
    clash = _match([_pos("R1", TAG_A, "1")], [_receipt("R1", _tx(TAG_A, "1", unit=Unit.GRAMS))])
    assert _kinds(clash) == [(FindingKind.QUANTITY_MISMATCH, "R1", TAG_A)]
    assert clash[0].detail == f"Receipt R1, {TAG_A}: the POS sold 1 Each, METRC deducted 1 Grams."


def test_untagged_pos_lines_are_not_compared() -> None:
    pos = [_pos("R1", TAG_A), _pos("R1", None, amount="2.00", unit=None)]
    assert _match(pos, [_receipt("R1", _tx(TAG_A))]) == []


def test_tag_not_on_floor_and_unknown_tags() -> None:
    pos = [_pos("R1", TAG_A), _pos("R1", STRAY)]
    metrc = [_receipt("R1", _tx(TAG_A), _tx(STRAY)), _receipt("R2", _tx("1A4060300000000000008888"))]
    findings = match_day(pos, metrc, floor_tags={TAG_B}, known_tags={TAG_A, TAG_B})
    assert _kinds(findings) == [
        (FindingKind.NOT_ON_FLOOR, "R1", TAG_A),
        (FindingKind.UNKNOWN_TAG, "R1", STRAY),
        (FindingKind.MISSING_IN_POS, "R2", "1A4060300000000000008888"),
        (FindingKind.UNKNOWN_TAG, "R2", "1A4060300000000000008888"),
    ]
    assert "before its transfer to the floor was recorded" in findings[0].detail
    assert "a package this store has no record of" in findings[1].detail


def test_receipts_without_the_pos_number_match_by_tag_and_time() -> None:
    pos = [_pos("R1", TAG_A, at=NOON), _pos("R1", TAG_B, at=NOON), _pos("R2", TAG_A, at=NOON + timedelta(hours=2))]
    metrc = [  # keyed in by hand in METRC: METRC's own numbers, no ExternalReceiptNumber
        _receipt("0000000777", _tx(TAG_A), at=NOON + timedelta(minutes=8)),
        _receipt("0000000778", _tx(TAG_A), _tx(TAG_B), at=NOON + timedelta(minutes=9)),
        _receipt("0000000779", _tx(TAG_A), at=NOON + timedelta(hours=3)),
    ]
    findings = _match(pos, metrc)
    # R1 takes the receipt sharing both tags; 0777 is left (within R1's window, but R2 is two hours later)
    assert _kinds(findings) == [
        (FindingKind.MISSING_IN_POS, "0000000777", TAG_A),
        (FindingKind.MISSING_IN_POS, "0000000779", TAG_A),
        (FindingKind.MISSING_IN_METRC, "R2", TAG_A),
    ]


def test_a_whole_day_of_ten_thousand_lines_matches() -> None:
    """Correctness at a day's scale; its speed is a benchmark figure (tests/benchmarks), not an assertion."""
    pos: list[PosSaleLine] = []
    metrc: list[ParsedMetrcReceipt] = []
    tags = [f"1A40603000000000000{i:05d}" for i in range(2000)]
    start = datetime(2026, 11, 20, 9, 0, tzinfo=LA)
    for r in range(3000):
        number, at = f"R{r:05d}", start + timedelta(seconds=12 * r)
        lines = [
            _pos(number, tags[(r * 7 + k) % 2000], str(1 + k % 2), f"{10 + k}.00", at=at)
            for k in range(3 + (r % 3 == 0))
        ]
        pos += lines
        txs = [_tx(line.tag or "", str(line.quantity), str(line.amount)) for line in lines]
        if r % 500 == 1:
            continue  # never reached METRC
        if r % 500 == 2:
            txs[0] = _tx(txs[0].tag, "9", str(txs[0].amount))
        metrc.append(_receipt(None if r % 500 == 3 else number, *txs, at=at + timedelta(minutes=1)))
    assert len(pos) == 10000 and len(metrc) == 2994
    known = set(tags)
    findings = match_day(pos, metrc, floor_tags=known, known_tags=known)
    never_sent = [line for line in pos if int(line.receipt_number[1:]) % 500 == 1]
    kinds = [f.kind for f in findings]
    assert kinds.count(FindingKind.QUANTITY_MISMATCH) == 6
    assert kinds.count(FindingKind.MISSING_IN_METRC) == len(never_sent) == 20
    assert len(findings) == 26  # the receipts with no number were matched by tag and time


def test_a_return_is_worded_as_a_return() -> None:
    findings = _match([_pos("R9", TAG_A, "-1", "-32.00")], [])
    assert _kinds(findings) == [(FindingKind.RETURN_NOT_IN_METRC, "R9", TAG_A)]
    assert findings[0].detail == (
        f"POS receipt R9 at 12:00 took back 1 Each (a return) of {TAG_A} (refund $32.00), "
        "but METRC has no such return. Record the return in METRC, or explain why the "
        "product did not go back."
    )
    assert "sold -1" not in findings[0].detail
    partly = _match([_pos("R9", TAG_A), _pos("R9", TAG_B, "-1", "-5.00")], [_receipt("R9", _tx(TAG_A))])
    assert _kinds(partly) == [(FindingKind.RETURN_NOT_IN_METRC, "R9", TAG_B)]
    assert "took back 1 Each (a return)" in partly[0].detail
    off_floor = _match([_pos("R9", TAG_A, "-1", "-32.00")], [], floor_tags=set())
    assert [f.kind for f in off_floor] == [FindingKind.RETURN_NOT_IN_METRC]  # a return may come back to any room


def test_a_void_nets_to_nothing() -> None:
    void = [_pos("R5", TAG_A, "2", "20.00"), _pos("R5", TAG_A, "-2", "-20.00")]
    assert _match(void, []) == []
    assert _match([*void, _pos("R5", TAG_B)], [_receipt("R5", _tx(TAG_B))]) == []
    findings = _match(void, [_receipt("R5", _tx(TAG_A, "2", "20.00"))])
    assert _kinds(findings) == [(FindingKind.MISSING_IN_POS, "R5", TAG_A)]  # METRC kept a sale the POS voided
