"""The METRC client against the simulator: every endpoint, every error mapping, key hygiene."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from backoffice.domain.units import Unit
from backoffice.errors import UserError, ValidationError
from backoffice.metrc.client import MetrcClient
from backoffice.metrc.errors import (
    MetrcKeyMissing,
    MetrcNotFound,
    MetrcRejected,
    MetrcUnauthorized,
    MetrcUnavailable,
    MetrcUnexpectedResponse,
)
from backoffice.metrc.keys import MetrcKeyStore
from backoffice.metrc.payloads import (
    LocationChange,
    PackageAdjustment,
    SalesReceipt,
    SalesTransaction,
    from_json,
    to_json,
)
from backoffice.metrc.simulator import DEFAULT_VENDOR_KEY, MetrcSimulator
from tests.unit.test_metrc_keys import MemoryKeyring

NOW = datetime(2026, 11, 21, 12, 0)
TODAY = NOW.date()
EACH_TAG = "1A4060300000000000000001"  # 30 Each in the Vault, packaged 2026-09-22
USER_KEY = "user-key-s3cr3t-7781"
VENDOR_KEY = "vendor-key-s3cr3t-4410"


@pytest.fixture
def sim(samples: Path) -> Iterator[MetrcSimulator]:
    with MetrcSimulator(seed_dir=samples, now=lambda: NOW, vendor_key=VENDOR_KEY, user_keys=[USER_KEY]) as simulator:
        yield simulator


@pytest.fixture
def client(sim: MetrcSimulator) -> Iterator[MetrcClient]:
    with MetrcClient(sim.url, sim.license_number, VENDOR_KEY, USER_KEY, timeout=5, username="ana") as c:
        yield c


def grams_package(sim: MetrcSimulator) -> dict:
    return next(p for p in sim.state.packages.values() if p["UnitOfMeasureName"] == "Grams")


# --- endpoints ----------------------------------------------------------------------------


def test_active_packages_come_back_with_exact_decimals(client: MetrcClient) -> None:
    packages = client.active_packages()
    assert len(packages) == 120
    first = next(p for p in packages if p["Label"] == EACH_TAG)
    assert first["Quantity"] == Decimal("30.0") and isinstance(first["Quantity"], Decimal)
    assert first["Item"]["UnitThcPercent"] == Decimal("14.74")


def test_package_by_label(client: MetrcClient, sim: MetrcSimulator) -> None:
    assert client.package(EACH_TAG)["LocationName"] == "Vault"
    with pytest.raises(MetrcNotFound, match="package 1A4060300000000000009999"):
        client.package("1A4060300000000000009999")
    sent = len(sim.requests)
    with pytest.raises(ValidationError, match="not a METRC tag"):
        client.package("../../transfers/v1/incoming")
    assert len(sim.requests) == sent  # refused before anything went on the wire


def test_adjustment_reasons_say_which_need_a_note(client: MetrcClient) -> None:
    reasons = {r["Name"]: r["RequiresNote"] for r in client.adjustment_reasons()}
    assert reasons["Theft"] is True and reasons["Drying"] is False


def test_incoming_transfers_and_delivery_packages(client: MetrcClient) -> None:
    [transfer] = client.incoming_transfers()
    assert transfer["ManifestNumber"] == "0004412217" and "Packages" not in transfer
    packages = client.delivery_packages(transfer["DeliveryId"])
    assert len(packages) == transfer["DeliveryPackageCount"] == 14
    flower = next(p for p in packages if p["PackageLabel"] == "1A4060300000000000005004")
    assert flower["ShippedQuantity"] == Decimal("453.59")
    with pytest.raises(MetrcNotFound):
        client.delivery_packages(12345)


def test_active_receipts_by_sales_date(client: MetrcClient, sim: MetrcSimulator) -> None:
    assert len(client.active_receipts(date(2026, 11, 20), date(2026, 11, 20))) == 39
    assert client.active_receipts(date(2026, 11, 19), date(2026, 11, 19)) == []
    morning = client.active_receipts(datetime(2026, 11, 20, 9, 0), datetime(2026, 11, 20, 10, 0))
    assert morning and all("T09:" in r["SalesDateTime"] for r in morning)
    assert sim.requests[-1].query == {
        "licenseNumber": sim.license_number,
        "salesDateStart": "2026-11-20T09:00:00",
        "salesDateEnd": "2026-11-20T10:00:00",
    }


def test_change_locations(client: MetrcClient, sim: MetrcSimulator) -> None:
    client.change_locations([LocationChange(EACH_TAG, "Sales Floor", TODAY)])
    assert client.package(EACH_TAG)["LocationName"] == "Sales Floor"
    assert sim.applied("packages/v1/change/locations") == [
        [{"Label": EACH_TAG, "Location": "Sales Floor", "MoveDate": "2026-11-21"}]
    ]


def test_adjust_packages_keeps_decimals_exact_both_ways(client: MetrcClient, sim: MetrcSimulator) -> None:
    pkg = grams_package(sim)
    before = client.package(pkg["Label"])["Quantity"]
    client.adjust_packages([PackageAdjustment(pkg["Label"], Decimal("-0.10"), Unit.GRAMS, "Scale Variance", TODAY)])
    assert '"Quantity":-0.10,' in sim.requests[-1].body  # digit for digit, no float, no string
    after = client.package(pkg["Label"])["Quantity"]
    assert after == before - Decimal("0.10")
    assert str(after) == str(before - Decimal("0.10"))


def test_outbox_style_dicts_are_accepted(client: MetrcClient, sim: MetrcSimulator) -> None:
    # The outbox journals payloads as JSON with Decimals as strings.
    client.adjust_packages(
        [
            {
                "Label": EACH_TAG,
                "Quantity": "-2",
                "UnitOfMeasure": "Each",
                "AdjustmentReason": "Theft",
                "AdjustmentDate": "2026-11-21",
                "ReasonNote": "case 44",
            }
        ]
    )
    assert client.package(EACH_TAG)["Quantity"] == Decimal("28.0")
    assert sim.applied("packages/v1/adjust")[0][0]["Quantity"] == -2


def test_record_receipts(client: MetrcClient, sim: MetrcSimulator) -> None:
    receipt = SalesReceipt(
        datetime(2026, 11, 21, 10, 30),
        "R1121-0001",
        (SalesTransaction(EACH_TAG, Decimal(2), Unit.EACH, Decimal("64.00")),),
    )
    client.record_receipts([receipt])
    [stored] = client.active_receipts(date(2026, 11, 21), date(2026, 11, 21))
    assert stored["ExternalReceiptNumber"] == "R1121-0001" and stored["TotalPrice"] == Decimal("64.00")
    assert stored["SalesDateTime"] == "2026-11-21T10:30:00"
    assert client.package(EACH_TAG)["Quantity"] == Decimal("28.0")
    with pytest.raises(MetrcRejected, match="ExternalReceiptNumber R1121-0001.*already exists") as caught:
        client.record_receipts([receipt])
    assert caught.value.rows == [0]


def test_empty_batch_sends_nothing(client: MetrcClient, sim: MetrcSimulator) -> None:
    client.change_locations([])
    assert sim.requests == []


def test_floats_never_reach_the_wire() -> None:
    with pytest.raises(ValidationError, match="Decimal"):
        PackageAdjustment(EACH_TAG, -1.1, Unit.EACH, "Damage", TODAY)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="float"):
        to_json({"Quantity": 0.1})


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1E+2"), "100"),
        (Decimal("0.000001"), "0.000001"),
        (Decimal("-0.50"), "-0.50"),
        (Decimal("453.59"), "453.59"),
        (Decimal("12345678901234567890.123456789"), "12345678901234567890.123456789"),
    ],
)
def test_decimal_json_is_exact(value: Decimal, text: str) -> None:
    assert to_json([value]) == f"[{text}]"
    assert from_json(to_json([value])) == [value]


# --- error mapping ------------------------------------------------------------------------


def test_rejected_batch_names_the_element(client: MetrcClient, sim: MetrcSimulator) -> None:
    moves = [
        LocationChange(EACH_TAG, "Sales Floor", TODAY),
        LocationChange("1A4060300000000000000002", "Back Porch", TODAY),
        LocationChange("1A4060300000000000000003", "Vault", TODAY),
    ]
    with pytest.raises(MetrcRejected) as caught:
        client.change_locations(moves)
    error = caught.value
    assert isinstance(error, UserError) and not error.retryable
    element = error.problems[0].element
    assert error.rows == [1] and element is not None and element["Label"] == "1A4060300000000000000002"
    assert "element 2 of 3 (Label 1A4060300000000000000002)" in str(error)
    assert "Location 'Back Porch' does not exist" in str(error)
    assert sim.state.packages[EACH_TAG]["LocationName"] == "Vault"  # nothing in the batch applied


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"Message": "The request is invalid."}', "The request is invalid."),
        ('[{"row": 0, "message": "Bad label"}, {"row": 1, "message": "Bad date"}]', "element 2 of 2"),
        ("Bad Request", "Bad Request"),
        ("", "no reason given"),
    ],
)
def test_400_answer_shapes(body: str, expected: str) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(400, text=body))
    moves = [LocationChange(EACH_TAG, "Vault", TODAY), LocationChange("1A4060300000000000000002", "Vault", TODAY)]
    with MetrcClient("http://127.0.0.1:9/", "LIC", "v", "u", timeout=1, transport=transport) as c:
        with pytest.raises(MetrcRejected, match=expected):
            c.change_locations(moves)


def test_unexpected_answers() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, text="<html>maintenance</html>"))
    with MetrcClient("http://127.0.0.1:9/", "LIC", "v", "u", timeout=1, transport=transport) as c:
        with pytest.raises(MetrcUnexpectedResponse, match="not JSON"):
            c.active_packages()
    transport = httpx.MockTransport(lambda request: httpx.Response(302, headers={"Location": "/login"}))
    with MetrcClient("http://127.0.0.1:9/", "LIC", "v", "u", timeout=1, transport=transport) as c:
        with pytest.raises(MetrcUnexpectedResponse, match="HTTP 302"):
            c.active_packages()


def test_401_says_which_user_and_what_to_do(sim: MetrcSimulator) -> None:
    with MetrcClient(sim.url, sim.license_number, VENDOR_KEY, "expired-key", timeout=5, username="ana") as c:
        with pytest.raises(MetrcUnauthorized) as caught:
            c.active_packages()
    message = str(caught.value)
    assert caught.value.status == 401 and not caught.value.retryable
    assert "user 'ana'" in message and "expire yearly" in message and "Settings" in message
    assert "expired-key" not in message


def test_revoked_key_and_wrong_license(client: MetrcClient, sim: MetrcSimulator) -> None:
    sim.revoke_user_key(USER_KEY)
    with pytest.raises(MetrcUnauthorized, match="HTTP 401"):
        client.adjustment_reasons()
    sim.add_user_key(USER_KEY)
    with MetrcClient(sim.url, "C10-9999999-LIC", VENDOR_KEY, USER_KEY, timeout=5, username="ana") as other:
        with pytest.raises(MetrcUnauthorized, match="license C10-9999999-LIC .*HTTP 403"):
            other.active_packages()


def test_500_is_retryable_and_changes_nothing(client: MetrcClient, sim: MetrcSimulator) -> None:
    sim.fail_next(1)
    move = [LocationChange(EACH_TAG, "Sales Floor", TODAY)]
    with pytest.raises(MetrcUnavailable, match="HTTP 500") as caught:
        client.change_locations(move)
    assert caught.value.retryable and caught.value.status == 500
    assert caught.value.maybe_applied  # a 500 on a POST does not prove METRC did nothing
    assert sim.applied("packages/v1/change/locations") == []
    client.change_locations(move)
    assert len(sim.applied("packages/v1/change/locations")) == 1


def test_429_carries_retry_after(client: MetrcClient, sim: MetrcSimulator) -> None:
    sim.fail_next(1, status=429, retry_after=3)
    with pytest.raises(MetrcUnavailable, match="try again in 3 s") as caught:
        client.adjust_packages([PackageAdjustment(EACH_TAG, Decimal(-1), Unit.EACH, "Damage", TODAY)])
    assert caught.value.retry_after == 3.0 and not caught.value.maybe_applied


def test_timeout_warns_that_metrc_may_have_recorded_it(sim: MetrcSimulator) -> None:
    sim.delay_next(2.0)
    with MetrcClient(sim.url, sim.license_number, VENDOR_KEY, USER_KEY, timeout=0.3) as c:
        with pytest.raises(MetrcUnavailable, match="did not answer .* within 0.3 s") as caught:
            c.change_locations([LocationChange(EACH_TAG, "Sales Floor", TODAY)])
        assert caught.value.retryable and caught.value.maybe_applied
        # The simulator recorded it before the answer was lost: exactly the case to check before re-sending.
        assert len(sim.applied("packages/v1/change/locations")) == 1
        sim.delay_next(2.0)
        with pytest.raises(MetrcUnavailable) as caught:
            c.active_packages()
        assert not caught.value.maybe_applied  # a GET changes nothing


def test_connection_refused_then_back(client: MetrcClient, sim: MetrcSimulator) -> None:
    sim.go_away()
    with pytest.raises(MetrcUnavailable, match="Cannot reach METRC at 127.0.0.1") as caught:
        client.change_locations([LocationChange(EACH_TAG, "Sales Floor", TODAY)])
    assert caught.value.retryable and not caught.value.maybe_applied
    sim.come_back()
    client.change_locations([LocationChange(EACH_TAG, "Sales Floor", TODAY)])
    assert len(sim.applied("packages/v1/change/locations")) == 1


def test_server_going_away_mid_queue(client: MetrcClient, sim: MetrcSimulator) -> None:
    sim.go_away(after=1)
    client.change_locations([LocationChange(EACH_TAG, "Sales Floor", TODAY)])
    with pytest.raises(MetrcUnavailable):
        client.change_locations([LocationChange("1A4060300000000000000002", "Sales Floor", TODAY)])
    assert [b[0]["Label"] for b in sim.applied("packages/v1/change/locations")] == [EACH_TAG]


# --- keys stay secret ---------------------------------------------------------------------


def test_keys_never_in_logs_errors_or_repr(sim: MetrcSimulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = [VENDOR_KEY, USER_KEY, base64.b64encode(f"{VENDOR_KEY}:{USER_KEY}".encode()).decode()]
    errors: list[Exception] = []
    with MetrcClient(sim.url, sim.license_number, VENDOR_KEY, USER_KEY, timeout=0.3, username="ana") as c:
        texts = [repr(c), str(vars(c))]
        c.active_packages()
        c.adjust_packages([PackageAdjustment(EACH_TAG, Decimal(-1), Unit.EACH, "Damage", TODAY)])
        for fault in (lambda: sim.fail_next(1), lambda: sim.delay_next(2.0), lambda: None):
            fault()
            with pytest.raises(UserError) as caught:
                c.change_locations([LocationChange(EACH_TAG, "Nowhere", TODAY)])
            errors.append(caught.value)
        sim.revoke_user_key(USER_KEY)
        with pytest.raises(MetrcUnauthorized) as caught:
            c.active_packages()
        errors.append(caught.value)
    assert {type(e) for e in errors} == {MetrcUnavailable, MetrcRejected, MetrcUnauthorized}
    texts += [str(e) for e in errors] + [repr(e) for e in errors] + [repr(vars(e)) for e in errors]
    texts += [caplog.text, repr(sim.requests)]
    # no httpx exception (holding the request and its Authorization header) rides along
    assert all(e.__cause__ is None and (e.__context__ is None or e.__suppress_context__) for e in errors)
    for secret in secrets:
        assert not any(secret in text for text in texts), secret
    assert "packages/v1/active" in caplog.text  # calls are logged, only without the keys


def test_missing_keys_are_a_user_error() -> None:
    with pytest.raises(MetrcKeyMissing, match="user 'ana'.*Settings"):
        MetrcClient("http://127.0.0.1:9/", "LIC", DEFAULT_VENDOR_KEY, "", timeout=1, username="ana")


def test_client_for_user_reads_the_key_store(sim: MetrcSimulator) -> None:
    store = MetrcKeyStore(MemoryKeyring())
    store.set_vendor_key(VENDOR_KEY)
    store.set_user_key("ana", USER_KEY)
    with MetrcClient.for_user(sim.url, sim.license_number, "ana", store, timeout=5) as c:
        assert len(c.adjustment_reasons()) == 11
    with pytest.raises(MetrcKeyMissing, match="user 'bo'"):
        MetrcClient.for_user(sim.url, sim.license_number, "bo", store)
