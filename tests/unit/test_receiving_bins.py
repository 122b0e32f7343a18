"""The vault bin chosen for a received package: by product type, then expiration date."""

from __future__ import annotations

from datetime import date

from backoffice.services.receiving_bins import BinStock, Incoming, choose, new_bin_name

GUMMY, CHOCOLATE = 1, 2


def _bin(name: str, category: str, *held: tuple[int, date | None, int]) -> BinStock:
    stock = BinStock(name, category)
    for item_id, expires, count in held:
        stock.add(item_id, expires, expires, count)
    return stock


BINS = [
    _bin("V-EDI-01", "Edible", (GUMMY, date(2027, 1, 10), 4), (CHOCOLATE, date(2027, 2, 1), 1)),
    _bin("V-EDI-02", "Edible", (CHOCOLATE, date(2027, 9, 1), 2)),
    _bin("V-EDI-03", "Edible", (GUMMY, None, 1)),
    _bin("V-BUD-01", "Buds", (7, date(2027, 1, 10), 9)),
]


def _choose(category: str, item_id: int, expires: date | None) -> str | None:
    found = choose(Incoming("T", category, item_id, expires), BINS)
    return found.bin if found else None


def test_a_dated_package_joins_the_bin_of_its_type_expiring_closest() -> None:
    assert _choose("Edible", CHOCOLATE, date(2027, 1, 20)) == "V-EDI-01"  # inside 01's Jan 10 – Feb 1 range
    assert _choose("Edible", GUMMY, date(2027, 7, 1)) == "V-EDI-02"  # 62 days from 02, 150 from 01
    assert _choose("Edible", GUMMY, date(2026, 12, 1)) == "V-EDI-01"


def test_an_undated_package_joins_the_bin_holding_most_of_its_item_else_the_emptiest() -> None:
    assert _choose("Edible", GUMMY, None) == "V-EDI-01"  # 4 gummies there, 1 in 03
    assert _choose("Edible", 99, None) == "V-EDI-03"  # a new item: the emptiest edible bin


def test_a_type_without_a_bin_gets_a_new_one() -> None:
    assert _choose("Tincture (volume - each)", 5, date(2027, 1, 1)) is None
    assert new_bin_name("Tincture (volume - each)", set()) == "V-TIN-01"
    assert new_bin_name("Edible", {"V-EDI-01", "V-EDI-02"}) == "V-EDI-03"
    assert new_bin_name("123", set()) == "V-GEN-01"


def test_a_bin_range_grows_with_what_it_takes() -> None:
    stock = _bin("V-X-01", "X", (1, date(2027, 3, 1), 1))
    stock.add(2, date(2027, 1, 1), date(2027, 1, 1))
    stock.add(3, None, None)
    assert (stock.earliest, stock.latest, stock.packages, stock.items) == (
        date(2027, 1, 1),
        date(2027, 3, 1),
        3,
        {1: 1, 2: 1, 3: 1},
    )
    assert stock.days_from(date(2027, 2, 1)) == 0 and stock.days_from(date(2026, 12, 30)) == 2
