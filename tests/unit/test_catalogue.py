"""The catalogue service: listing and filtering items, adding, editing (price changes stamped
and audited), archiving, a bulk price list (nothing applied when a line is bad), and items
created from a delivery's manifest lines with their brand and shelf price."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from backoffice.db.engine import Database
from backoffice.db.models import AuditEvent, Item
from backoffice.domain.units import Unit
from backoffice.errors import ImportFileError, NotFound, PermissionDenied, RuleViolation, ValidationError
from backoffice.services import catalogue, receiving
from backoffice.services.actor import Actor
from backoffice.services.catalogue import NewItem
from tests.unit.receiving_store import UNKNOWN, line, manifest, stock_store, tag


@pytest.fixture
def store(db: Database, actors: dict[str, Actor], samples: Path) -> tuple[Database, dict[str, Actor]]:
    stock_store(db, actors["admin"], samples)
    return db, actors


def _events(db: Database, action: str) -> list[AuditEvent]:
    with db.read() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_add_edit_filter_and_archive(store: tuple[Database, dict[str, Actor]]) -> None:
    db, actors = store
    pat, alex = actors["pat"], actors["alex"]
    added = catalogue.add_item(
        db,
        pat,
        {
            "name": "Lumen  Blue Dream Gummies",
            "brand": "Lumen",
            "category": "Edible",
            "unit": "ea",
            "vendor": "Lumen Distribution",
            "floor_par": "12",
        },
        sku="LUM-BD-10",
    )
    assert (added.item.name, added.item.unit, added.item.price_text) == (
        "Lumen Blue Dream Gummies",
        Unit.EACH,
        "no price yet",
    )
    assert "no price yet" in added.message
    with pytest.raises(RuleViolation, match="LUM-BD-10 is already “Lumen Blue Dream Gummies”"):
        catalogue.add_item(db, pat, {"name": "lumen blue dream gummies", "category": "edible", "unit": "Each"})
    with pytest.raises(ValidationError, match="an item needs a category"):
        catalogue.add_item(db, pat, {"name": "Nameless", "category": " ", "unit": "Each"})
    with pytest.raises(PermissionDenied, match="alex \\(associate\\) may not edit the catalogue"):
        catalogue.add_item(db, alex, {"name": "X", "category": "Edible", "unit": "Each"})

    saved = catalogue.update_item(db, pat, "LUM-BD-10", {"price": "$18.50", "strain": "Blue Dream", "brand": "Lumen"})
    assert saved.message == "Item LUM-BD-10: strain, price changed."
    assert (saved.item.price, saved.item.price_text) == (Decimal("18.50"), "18.50")
    assert saved.item.price_changed_at is not None
    [price_event] = _events(db, "item.price")
    assert json.loads(price_event.before or "{}") == {"price": "0.00"}
    assert json.loads(price_event.after or "{}") == {"price": "18.50"}
    [update_event] = _events(db, "item.update")
    assert json.loads(update_event.before or "{}") == {"strain": ""}
    assert not catalogue.update_item(db, pat, "LUM-BD-10", {"price": "18.5"}).changes  # the same price
    for bad, message in (
        ({"price": "1.999"}, "fractions of a cent"),
        ({"floor_par": "-1"}, "negative"),
        ({"unit": "parsecs"}, "unit"),
        ({"colour": "red"}, "cannot set colour"),
        ({"name": "x" * 201}, "at most 200 characters"),
    ):
        with pytest.raises(ValidationError, match=message):
            catalogue.update_item(db, pat, "LUM-BD-10", bad)
    with pytest.raises(NotFound, match="no item with SKU 'NOPE'"):
        catalogue.update_item(db, pat, "NOPE", {"brand": "x"})

    assert [r.sku for r in catalogue.list_items(db, alex, brand="Lumen")] == ["LUM-BD-10"]
    assert [r.sku for r in catalogue.list_items(db, alex, search="blue DREAM", vendor="Lumen Distribution")] == [
        "LUM-BD-10"
    ]
    assert "Lumen" in catalogue.facets(db, alex).brands
    assert catalogue.set_archived(db, pat, "LUM-BD-10").item.archived_at is not None
    assert catalogue.list_items(db, alex, brand="Lumen") == []
    assert [r.sku for r in catalogue.list_items(db, alex, brand="Lumen", archived=True)] == ["LUM-BD-10"]
    assert catalogue.set_archived(db, pat, "LUM-BD-10", False).item.archived_at is None


def test_an_item_in_stock_keeps_its_unit_and_is_not_archived(store: tuple[Database, dict[str, Actor]]) -> None:
    db, actors = store
    with db.read() as session:
        sku = session.scalars(select(Item.sku).where(Item.unit == Unit.EACH).order_by(Item.id)).first()
    assert sku is not None
    with pytest.raises(RuleViolation, match="package\\(s\\) counted in Each"):
        catalogue.update_item(db, actors["maria"], sku, {"unit": "Grams"})
    with pytest.raises(RuleViolation, match="still has .* package\\(s\\) in stock"):
        catalogue.set_archived(db, actors["maria"], sku)


def test_a_price_list_with_a_bad_line_changes_nothing(store: tuple[Database, dict[str, Actor]], tmp_path: Path) -> None:
    db, actors = store
    maria = actors["maria"]
    skus = [r.sku for r in catalogue.list_items(db, maria)][:3]
    path = tmp_path / "prices.csv"
    path.write_bytes(
        (
            "\ufeffItem SKU,Shelf Price\r\n"
            f'{skus[0]},$24.99\r\n{skus[1]},"1,200.00"\r\nNOPE-1,5\r\n{skus[2]},cheap\r\n'
            f"{skus[0]},3\r\n"
        ).encode()
    )
    with pytest.raises(ImportFileError) as refused:
        catalogue.import_prices(db, maria, path)
    text = str(refused.value)
    assert "prices.csv: 3 problem(s) in 3 line(s); nothing was imported" in text
    assert "prices.csv, line 4, field 'SKU': there is no item with SKU NOPE-1" in text
    assert "line 5, field 'Price': price 'cheap' is not a number" in text
    assert f"line 6, field 'SKU': SKU {skus[0]} is listed twice (first on line 2)" in text
    assert all(r.price != Decimal("24.99") for r in catalogue.list_items(db, maria))
    assert _events(db, "item.price") == []

    path.write_text(f"SKU,Price\n{skus[0]},24.99\n{skus[1]},1200\n")
    imported = catalogue.import_prices(db, maria, path)
    assert [sku for sku, _, _ in imported.changed] == skus[:2] and imported.lines == 2
    assert {r.sku: r.price for r in catalogue.list_items(db, maria)}[skus[0]] == Decimal("24.99")
    with pytest.raises(PermissionDenied):
        catalogue.import_prices(db, actors["alex"], path)
    path.write_text("Name,Cost\nx,1\n")
    with pytest.raises(ImportFileError, match="lacks the column\\(s\\) SKU, Price"):
        catalogue.import_prices(db, maria, path)


def test_items_of_a_delivery_are_created_with_brand_and_price(store: tuple[Database, dict[str, Actor]]) -> None:
    db, actors = store
    maria, alex = actors["maria"], actors["alex"]
    for name, brand in (("Kind Harvest Sour Diesel Flower", "Kind Harvest"), ("Kind Tonics Rosin", "Kind")):
        catalogue.add_item(db, maria, {"name": name, "brand": brand, "category": "Buds", "unit": "Grams"})
    cart = (UNKNOWN[0], UNKNOWN[1])
    tincture = ("Kindness Tincture 30ml", "Tincture")
    first = receiving.import_manifest(
        db, alex, manifest("0009990001", line(1, item=cart, price="207.00"), line(2, item=cart), line(3, item=tincture))
    ).manifest_id
    proposals = catalogue.propose_items(db, alex, first)
    assert [(p.tag, p.brand, p.lines, p.unit_cost) for p in proposals] == [
        (tag(1), "Kind Harvest", 2, Decimal("20.70")),
        (tag(3), "", 1, Decimal("8.10")),
    ]  # "Kind" is not "Kindness"

    with pytest.raises(ValidationError, match=f"no shelf price for {tag(3)}: give one, or confirm"):
        catalogue.create_items_from_lines(db, maria, first, [NewItem(tag(1), "39.00"), NewItem(tag(3))])
    with pytest.raises(PermissionDenied, match="may not change item prices"):
        catalogue.create_items_from_lines(db, alex, first, [NewItem(tag(1), "39.00")])
    made = catalogue.create_items_from_lines(
        db,
        maria,
        first,
        [NewItem(tag(1), "39.00"), NewItem(tag(2), "39"), NewItem(tag(3), "0", brand="Kindness")],
        no_price_ok=True,
    )
    assert [(i.brand, i.price, i.created, i.lines_linked) for i in made.items] == [
        ("Kind Harvest", Decimal("39.00"), True, 2),
        ("Kindness", Decimal(0), True, 1),
    ]
    assert made.message == "2 item(s) created (1 with no price yet); 3 manifest line(s) now use them."
    listed = {r.name: r for r in catalogue.list_items(db, maria, no_price_only=True)}
    assert listed[tincture[0]].price_text == "no price yet" and cart[0] not in listed
    with db.read() as session:
        item = session.scalar(select(Item).where(Item.name == cart[0]))
        assert item is not None and item.price_changed_at is not None and item.vendor.startswith("Kind Harvest")
    assert catalogue.propose_items(db, alex, first) == []
    assert all(ln.item_id for ln in receiving.get_manifest(db, alex, first).lines)
    with pytest.raises(RuleViolation, match="already matched to item"):
        catalogue.create_items_from_lines(db, alex, first, [NewItem(tag(3))], no_price_ok=True)
