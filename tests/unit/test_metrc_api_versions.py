"""The connector against the simulator in both API versions: paths, payloads, paging,
chunking, lastModified windows, field-name casing, Retail ID and the bad answers."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from backoffice.metrc.api_versions import NotInVersion
from backoffice.metrc.client import MetrcClient
from backoffice.metrc.errors import (
    MetrcNotFound,
    MetrcRejected,
    MetrcTooLarge,
    MetrcUnauthorized,
    MetrcUnavailable,
)
from backoffice.metrc.payloads import from_json
from backoffice.metrc.simulator import DEFAULT_USER_KEY, DEFAULT_VENDOR_KEY, MetrcSimulator

NOW = datetime(2026, 11, 21, 12, 0)
EACH_TAG = "1A4060300000000000000001"  # 30 Each in the Vault
MOVE_PATH = {"v1": ("POST", "packages/v1/change/locations"), "v2": ("PUT", "packages/v2/location")}


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=["v1", "v2"])
def api(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sim(samples: Path, api: str, clock: Clock) -> Iterator[MetrcSimulator]:
    with MetrcSimulator(seed_dir=samples, now=clock, api=api) as simulator:
        yield simulator


def connect(sim: MetrcSimulator, **options: object) -> MetrcClient:
    return MetrcClient(
        sim.url, sim.license_number, DEFAULT_VENDOR_KEY, DEFAULT_USER_KEY, api=sim.api, username="ana", **options
    )  # type: ignore[arg-type]


def moves(tags: list[str], room: str = "Sales Floor") -> list[dict[str, object]]:
    return [{"Label": t, "Location": room, "MoveDate": NOW.date().isoformat()} for t in tags]


def test_lists_come_whole_in_both_versions_and_v2_pages_by_twenty(sim: MetrcSimulator, api: str) -> None:
    with connect(sim) as client:
        packages = client.active_packages()
        reasons = client.adjustment_reasons()
        incoming = client.incoming_transfers()
        delivery = client.delivery_packages(incoming[0]["DeliveryId"])
        receipts = client.active_receipts(NOW.date() - timedelta(days=1), NOW.date() - timedelta(days=1))
    assert sorted(p["Label"] for p in packages) == sorted(sim.state.packages)
    assert [r["Name"] for r in reasons][:2] == ["Drying", "Entry Error"]
    assert delivery and all("PackageLabel" in p or "Label" in p for p in delivery)
    assert len(receipts) == 39 and all(r["SalesDateTime"].startswith("2026-11-20") for r in receipts)
    pages = [r.query for r in sim.requests if r.path == f"packages/{api}/active"]
    if api == "v1":
        assert pages == [{"licenseNumber": sim.license_number}]
    else:  # 120 packages: pages 1..6 of 20, never larger
        assert sorted(int(q["pageNumber"]) for q in pages) == [1, 2, 3, 4, 5, 6]
        assert {q["pageSize"] for q in pages} == {"20"}
    assert any(r.path == f"transfers/{api}/deliveries/{incoming[0]['DeliveryId']}/packages" for r in sim.requests)


def test_the_other_version_is_not_there(samples: Path, api: str) -> None:
    other = "v1" if api == "v2" else "v2"
    with (
        MetrcSimulator(seed_dir=samples, api=other) as sim,
        MetrcClient(sim.url, sim.license_number, DEFAULT_VENDOR_KEY, DEFAULT_USER_KEY, api=api) as client,
    ):
        with pytest.raises(MetrcNotFound, match=rf"API version \({api}\) in Settings"):
            client.active_packages()


def test_writes_go_in_chunks_of_ten_on_v2_with_metrc_field_names(sim: MetrcSimulator, api: str) -> None:
    tags = sorted(sim.state.packages)[:25]
    with connect(sim) as client:
        client.change_locations(moves(tags))
        client.adjust_packages(
            [
                {
                    "Label": EACH_TAG,
                    "Quantity": Decimal("-2"),
                    "UnitOfMeasure": "Each",
                    "AdjustmentReason": "Damage",
                    "AdjustmentDate": NOW.date().isoformat(),
                }
            ]
        )
    method, path = MOVE_PATH[api]
    calls = [r for r in sim.requests if r.path == path]
    assert {r.method for r in calls} == {method}
    assert [len(r.json()) for r in calls] == ([25] if api == "v1" else [10, 10, 5])
    assert [e["Label"] for r in calls for e in r.json()] == tags  # in order
    assert set(calls[0].json()[0]) == {"Label", "Location", "MoveDate"}
    assert all(sim.state.packages[t]["LocationName"] == "Sales Floor" for t in tags)
    adjust = next(r for r in sim.requests if r.path == f"packages/{api}/adjust")
    assert adjust.json()[0]["Quantity"] == Decimal("-2") and sim.state.packages[EACH_TAG]["Quantity"] == 28


def test_v2_refuses_more_than_ten_objects_with_413(samples: Path) -> None:
    with MetrcSimulator(seed_dir=samples, now=lambda: NOW, api="v2") as sim, connect(sim) as client:
        client.api = dataclasses.replace(client.api, max_batch=None)  # as if a client forgot the limit
        with pytest.raises(MetrcTooLarge, match="HTTP 413.*Nothing in this call was recorded"):
            client.change_locations(moves(sorted(sim.state.packages)[:11]))
        assert not sim.applied("packages/v2/location")


def test_changed_since_uses_lastmodified_windows_of_the_set_length(sim: MetrcSimulator, api: str, clock: Clock) -> None:
    since = NOW.astimezone(UTC) - timedelta(hours=1)
    clock.now = NOW + timedelta(minutes=5)
    with connect(sim) as client:
        client.change_locations(moves([EACH_TAG]))
        changed = client.active_packages(modified_since=since, modified_until=since + timedelta(hours=50))
    assert [p["Label"] for p in changed] == [EACH_TAG]
    windows = [
        (r.query["lastModifiedStart"], r.query["lastModifiedEnd"])
        for r in sim.requests
        if r.path == f"packages/{api}/active"
    ]
    spans = sorted({datetime.fromisoformat(e) - datetime.fromisoformat(s) for s, e in windows})
    assert spans == [timedelta(hours=2), timedelta(hours=24)] and len(windows) >= 3


def test_a_window_longer_than_the_state_allows_is_refused_with_metrc_text(sim: MetrcSimulator) -> None:
    with connect(sim, window=timedelta(hours=48)) as client:
        with pytest.raises(MetrcRejected, match="cannot exceed 24 hours"):
            client.active_packages(modified_since=datetime.now(UTC) - timedelta(hours=40))


def test_field_names_are_read_whatever_their_case(samples: Path) -> None:
    with MetrcSimulator(seed_dir=samples, api="v2", lower_case_fields=True) as sim, connect(sim) as client:
        packages = client.active_packages()
        one = client.package(EACH_TAG)
    assert len(packages) == 120 and packages[0]["Label"] and one["LocationName"] == "Vault"
    assert one["Item"]["Name"]


def test_retail_id_lists_unit_codes_and_resolves_a_scanned_one(samples: Path) -> None:
    with MetrcSimulator(seed_dir=samples, api="v2") as sim, connect(sim) as client:
        urls = client.retail_id_eaches(EACH_TAG)
        assert len(urls) == 30 and all(u.startswith("https://1a4.com/") for u in urls)
        package = client.retail_id_package(urls[3].rsplit("/", 1)[1])
        assert package["Label"] == EACH_TAG
        with pytest.raises(MetrcNotFound):
            client.retail_id_package("NOSUCHCODE00")
        with pytest.raises(MetrcNotFound):  # percent-encoded: it cannot reach another path
            client.retail_id_package("../packages/active")
        assert sim.requests[-1].path == "retailid/v2/receive/qr/..%2Fpackages%2Factive"


def test_retail_id_on_v1_says_it_needs_v2(samples: Path) -> None:
    with MetrcSimulator(seed_dir=samples, api="v1") as sim, connect(sim) as client:
        with pytest.raises(NotInVersion, match="needs API v2.*--api v2"):
            client.retail_id_eaches(EACH_TAG)


def test_bad_answers_have_messages_a_person_can_act_on(sim: MetrcSimulator, api: str) -> None:
    with connect(sim, timeout=0.3) as client:
        sim.fail_next(1, status=429, retry_after=7)
        with pytest.raises(MetrcUnavailable, match=r"limiting this store's calls \(HTTP 429\).*try again in 7 s"):
            client.active_packages()
        sim.delay_next(1.0)
        with pytest.raises(MetrcUnavailable, match="did not answer .* within 0.3 s") as late:
            client.change_locations(moves([EACH_TAG]))
        assert late.value.maybe_applied and "check METRC before sending it again" in str(late.value)
        sim.revoke_user_key(DEFAULT_USER_KEY)
        with pytest.raises(MetrcUnauthorized, match="Keys expire yearly.*enter a new key"):
            client.package(EACH_TAG)
        assert DEFAULT_USER_KEY not in str(late.value)


def test_a_page_that_is_not_an_envelope_is_reported(samples: Path) -> None:
    with MetrcSimulator(seed_dir=samples, api="v1") as sim, connect(sim) as client:
        client.api = dataclasses.replace(client.api, paged=True)  # v1 bare arrays read as v2 pages
        with pytest.raises(Exception, match="API version .* is the one its keys are for"):
            client.active_packages()


def test_v2_adjust_answers_ids_and_history_lists_them(samples: Path) -> None:
    with MetrcSimulator(seed_dir=samples, api="v2") as sim, connect(sim) as client:
        since = datetime.now(UTC) - timedelta(minutes=1)
        client.adjust_packages(
            [
                {
                    "Label": EACH_TAG,
                    "Quantity": Decimal("-1"),
                    "UnitOfMeasure": "Each",
                    "AdjustmentReason": "Damage",
                    "AdjustmentDate": datetime.now().date().isoformat(),
                }
            ]
        )
        history = client.adjustments(since)
    answer = next(r for r in sim.requests if r.path == "packages/v2/adjust")
    assert answer.status == 200
    assert [(h["PackageLabel"], h["AdjustmentQuantity"]) for h in history] == [(EACH_TAG, Decimal("-1"))]
    assert from_json(answer.body)[0]["AdjustmentReason"] == "Damage"
