"""The line state machine as front ends read it: which steps each line allows, and the
"ready to finish" check the tab and the CLI make before asking where the packages go."""

from __future__ import annotations

from pathlib import Path

import pytest

from backoffice.db.engine import Database
from backoffice.errors import RuleViolation
from backoffice.services import receiving
from backoffice.services.actor import Actor
from backoffice.services.receiving import LineAction
from tests.unit.receiving_store import UNKNOWN, line, manifest, stock_store, tag

A = LineAction


@pytest.fixture
def alex(db: Database, actors: dict[str, Actor], samples: Path) -> Actor:
    stock_store(db, actors["admin"], samples)
    return actors["alex"]


def _actions(db: Database, actor: Actor, manifest_id: int) -> dict[str, frozenset[LineAction]]:
    view = receiving.get_manifest(db, actor, manifest_id)
    return {ln.tag: receiving.line_actions(ln, view.status) for ln in view.lines}


def test_each_state_allows_its_own_steps(db: Database, alex: Actor) -> None:
    manifest_id = receiving.import_manifest(
        db, alex, manifest("0009990001", line(1), line(2), line(3), line(4, item=UNKNOWN))
    ).manifest_id
    for n in (2, 3, 4):
        receiving.scan(db, alex, manifest_id, tag(n))
    receiving.accept(db, alex, manifest_id, [tag(3)])
    receiving.reject(db, alex, manifest_id, tag(1), "Not ordered", "not ours")
    actions = _actions(db, alex, manifest_id)
    assert actions[tag(1)] == {A.UNDO}  # rejected: no expiration date, no quantity
    assert actions[tag(2)] == {A.SET_QUANTITY, A.SET_EXPIRATION, A.REJECT, A.ACCEPT}
    assert actions[tag(3)] == {A.SET_EXPIRATION, A.UNDO}
    # scanned but its item is unknown: it may not be accepted until the item exists
    assert actions[tag(4)] == {A.SET_QUANTITY, A.SET_EXPIRATION, A.REJECT, A.CREATE_ITEM}


def test_a_received_manifest_allows_no_step(db: Database, alex: Actor) -> None:
    manifest_id = receiving.import_manifest(db, alex, manifest("0009990001", line(1))).manifest_id
    receiving.accept_all(db, alex, manifest_id)
    assert _actions(db, alex, manifest_id) == {tag(1): frozenset()}
    with pytest.raises(RuleViolation, match="was received on .*nothing left to finish"):
        receiving.ready_to_finish(db, alex, manifest_id)


def test_ready_to_finish_gives_the_same_refusal_as_finish(db: Database, alex: Actor) -> None:
    manifest_id = receiving.import_manifest(db, alex, manifest("0009990001", line(1), line(2))).manifest_id
    receiving.scan(db, alex, manifest_id, tag(1))
    receiving.accept_scanned(db, alex, manifest_id)
    with pytest.raises(RuleViolation) as asked:
        receiving.ready_to_finish(db, alex, manifest_id)
    with pytest.raises(RuleViolation) as finished:
        receiving.finish(db, alex, manifest_id)
    assert str(asked.value) == str(finished.value)
    assert str(asked.value).startswith(
        f"1 of 2 packages on manifest 0009990001 are neither accepted nor rejected: {tag(2)}."
    )
    receiving.reject(db, alex, manifest_id, tag(2), "Not in the delivery", "never arrived")
    assert receiving.ready_to_finish(db, alex, manifest_id).undecided == 0


def test_accepting_a_package_without_the_required_retail_id_codes_asks_first() -> None:
    flagged = {"1A4000000000000000000002"}
    assert receiving.retail_id_warning(flagged, ["1A4000000000000000000001"]) is None
    assert receiving.retail_id_warning(set(), ["1A4000000000000000000002"]) is None  # nothing flagged
    assert receiving.retail_id_warning(flagged, []) is None
    warning = receiving.retail_id_warning(flagged, ["1A4000000000000000000001", "1A4000000000000000000002"])
    assert warning is not None
    assert warning.startswith("1 package(s) being accepted have no Retail ID unit codes: the state requires them")
    assert "1A4000000000000000000002" in warning and "1A4000000000000000000001" not in warning
    many = [f"1A40000000000000000000{n:02d}" for n in range(10)]
    assert "and 5 more" in (receiving.retail_id_warning(set(many), many) or "")
