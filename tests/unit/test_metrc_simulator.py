"""The METRC simulator on the wire: validation as METRC answers it, auth, faults, request log."""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from backoffice.metrc.payloads import from_json, to_json
from backoffice.metrc.simulator import DEFAULT_USER_KEY, DEFAULT_VENDOR_KEY, MetrcSimulator

NOW = datetime(2026, 11, 21, 12, 0)
EACH_TAG = "1A4060300000000000000001"  # 30 Each, Vault, packaged 2026-09-22
OTHER_TAG = "1A4060300000000000000002"  # 12 Each
AUTH = (DEFAULT_VENDOR_KEY, DEFAULT_USER_KEY)
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def sim(samples: Path) -> Iterator[MetrcSimulator]:
    with MetrcSimulator(seed_dir=samples, now=lambda: NOW) as simulator:
        yield simulator


@pytest.fixture
def http(sim: MetrcSimulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.url, auth=AUTH, timeout=5, params={"licenseNumber": sim.license_number}) as client:
        yield client


def post(http: httpx.Client, path: str, batch: Any) -> httpx.Response:
    return http.post(path, content=to_json(batch), headers={"Content-Type": "application/json"})


def grams_tag(sim: MetrcSimulator) -> str:
    return next(label for label, p in sim.state.packages.items() if p["UnitOfMeasureName"] == "Grams")


def adjustment(label: str = EACH_TAG, quantity: Decimal | int = -1, **changes: Any) -> dict[str, Any]:
    element = {
        "Label": label,
        "Quantity": Decimal(quantity),
        "UnitOfMeasure": "Each",
        "AdjustmentReason": "Damage",
        "AdjustmentDate": "2026-11-21",
        "ReasonNote": None,
    }
    return element | changes


def receipt(number: str = "R1121-0001", label: str = EACH_TAG, quantity: int = 1, **changes: Any) -> dict[str, Any]:
    element = {
        "SalesDateTime": "2026-11-21T10:15:00",
        "SalesCustomerType": "Consumer",
        "ExternalReceiptNumber": number,
        "Transactions": [
            {
                "PackageLabel": label,
                "Quantity": Decimal(quantity),
                "UnitOfMeasure": "Each",
                "TotalAmount": Decimal("32.00"),
            }
        ],
    }
    return element | changes


def test_seeded_from_the_samples(sim: MetrcSimulator) -> None:
    state = sim.state
    assert len(state.packages) == 120 and len(state.transfers) == 1 and len(state.receipts) == 39
    assert {"Vault", "Sales Floor", "Quarantine"} <= set(state.locations)
    assert state.packages[EACH_TAG]["Quantity"] == Decimal("30.0")
    assert state.packages[EACH_TAG]["LocationId"] == state.locations["Vault"] == 11  # METRC's ids kept
    assert len(state.deliveries[99001]) == 14


# --- validation, each as METRC words it -------------------------------------------------------

BAD_ADJUSTMENTS = [
    (adjustment(label="1A4060300000000000009999"), "does not exist or is not active"),
    (adjustment(quantity=0), "Quantity cannot be zero"),
    (adjustment(quantity=-31), "cannot be adjusted below zero: it has 30.0 Each"),
    (adjustment(AdjustmentReason="Gremlins"), "Adjustment reason 'Gremlins' is not valid. Valid reasons: Drying"),
    (adjustment(AdjustmentReason="Theft"), "A reason note is required for adjustment reason 'Theft'"),
    (adjustment(AdjustmentReason="Theft", ReasonNote="   "), "A reason note is required"),
    (adjustment(AdjustmentDate="2026-11-22"), "Adjustment date 2026-11-22 cannot be in the future"),
    (adjustment(AdjustmentDate="2026-09-01"), "cannot be before the package's packaged date 2026-09-22"),
    (adjustment(UnitOfMeasure="Grams"), "Unit of measure Grams cannot be used for package 1A4060300000000000000001"),
    (adjustment(UnitOfMeasure="Bushels"), "Unit of measure 'Bushels' is not valid"),
    (adjustment(ReasonNote="x" * 201), "cannot be longer than 200 characters"),
    (adjustment(Quantity="-1"), "Quantity must be a number"),
    (adjustment(AdjustmentDate="next tuesday"), "AdjustmentDate is not a valid date"),
    ("not an object", "must be an object"),
]


@pytest.mark.parametrize(("bad", "message"), BAD_ADJUSTMENTS)
def test_adjustment_errors_name_the_row(http: httpx.Client, sim: MetrcSimulator, bad: Any, message: str) -> None:
    before = copy.deepcopy(sim.state.packages)
    response = post(http, "packages/v1/adjust", [adjustment(OTHER_TAG), bad])
    assert response.status_code == 400
    [problem] = response.json()
    assert problem["row"] == 1 and message in problem["message"]
    assert sim.state.packages == before  # the good element 0 was not applied either
    assert sim.applied("packages/v1/adjust") == []


def test_adjustments_in_one_batch_add_up(http: httpx.Client, sim: MetrcSimulator) -> None:
    response = post(http, "packages/v1/adjust", [adjustment(quantity=-20), adjustment(quantity=-11)])
    assert response.json() == [
        {
            "row": 1,
            "message": "Package 1A4060300000000000000001 cannot be adjusted below zero: "
            "it has 10.0 Each and the adjustment is -11.",
        }
    ]
    assert post(http, "packages/v1/adjust", [adjustment(quantity=-20), adjustment(quantity=-10)]).status_code == 200
    assert sim.state.packages[EACH_TAG]["Quantity"] == Decimal("0.0")


def test_adjustment_converts_within_a_unit_family(http: httpx.Client, sim: MetrcSimulator) -> None:
    tag = grams_tag(sim)
    before = sim.state.packages[tag]["Quantity"]
    ounce = adjustment(tag, Decimal("-0.1"), UnitOfMeasure="Ounces")
    assert post(http, "packages/v1/adjust", [ounce]).status_code == 200
    assert sim.state.packages[tag]["Quantity"] == before - Decimal("2.8350")


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"Label": "1A4060300000000000009999", "Location": "Vault", "MoveDate": "2026-11-21"}, "does not exist"),
        (
            {"Label": EACH_TAG, "Location": "Back Porch", "MoveDate": "2026-11-21"},
            "Location 'Back Porch' does not exist",
        ),
        ({"Label": EACH_TAG, "Location": "Sales Floor", "MoveDate": "2026-12-01"}, "cannot be in the future"),
        ({"Label": EACH_TAG, "Location": "Sales Floor"}, "MoveDate is required"),
    ],
)
def test_location_change_errors(http: httpx.Client, sim: MetrcSimulator, bad: dict, message: str) -> None:
    response = post(http, "packages/v1/change/locations", [bad])
    assert response.status_code == 400 and response.json()[0]["row"] == 0
    assert message in response.json()[0]["message"]
    assert sim.state.packages[EACH_TAG]["LocationName"] == "Vault"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (receipt("R1120-0001"), "external receipt number R1120-0001 already exists"),  # seeded from the samples
        (receipt(label="1A4060300000000000009999"), "does not exist or is not active"),
        (receipt(quantity=31), "does not have enough quantity to sell 31 Each"),
        (receipt(quantity=0), "must be greater than zero"),
        (receipt(SalesDateTime="2026-11-21T12:30:00"), "cannot be in the future"),
        (receipt(SalesCustomerType="Tourist"), "Sales customer type 'Tourist' is not valid"),
        (receipt(Transactions=[]), "at least one transaction"),
    ],
)
def test_receipt_errors(http: httpx.Client, sim: MetrcSimulator, bad: dict, message: str) -> None:
    response = post(http, "sales/v1/receipts", [bad])
    assert response.status_code == 400 and response.json()[0]["row"] == 0
    assert message in response.json()[0]["message"]
    assert len(sim.state.receipts) == 39


def test_duplicate_receipt_number_within_a_batch(http: httpx.Client, sim: MetrcSimulator) -> None:
    response = post(http, "sales/v1/receipts", [receipt("R9"), receipt("R9")])
    assert response.json() == [{"row": 1, "message": "A sales receipt with external receipt number R9 already exists."}]
    assert post(http, "sales/v1/receipts", [receipt("R9")]).status_code == 200
    assert sim.state.packages[EACH_TAG]["Quantity"] == Decimal("29.0")


def test_malformed_requests(http: httpx.Client) -> None:
    response = http.post("packages/v1/adjust", content=b"{nope", headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "not JSON" in response.json()[0]["Message"]
    assert post(http, "packages/v1/adjust", {"Label": EACH_TAG}).status_code == 400
    assert http.get("packages/v1/1A4060300000000000009999").status_code == 404
    assert http.get("transfers/v1/delivery/1/packages").status_code == 404
    assert http.get("plants/v1/active").status_code == 404
    assert http.get("sales/v1/receipts/active", params={"salesDateStart": "yesterday"}).status_code == 400


def test_auth_and_license(sim: MetrcSimulator, http: httpx.Client) -> None:
    for auth in [(DEFAULT_VENDOR_KEY, "wrong"), ("wrong", DEFAULT_USER_KEY), None]:
        with httpx.Client(base_url=sim.url, auth=auth, timeout=5) as other:
            response = other.get("packages/v1/active", params={"licenseNumber": sim.license_number})
        assert response.status_code == 401
        assert response.json() == {"Message": "Authorization has been denied for this request."}
    assert http.get("packages/v1/active", params={"licenseNumber": "C10-1-LIC"}).status_code == 403
    assert all("sim-" not in repr(r) for r in sim.requests)  # the log never holds keys


# --- faults and the request log -----------------------------------------------------------------


def test_fail_next_then_recover(http: httpx.Client, sim: MetrcSimulator) -> None:
    sim.fail_next(2, status=503, retry_after=1.5)
    first = post(http, "packages/v1/adjust", [adjustment()])
    assert first.status_code == 503 and first.headers["Retry-After"] == "1.5"
    assert post(http, "packages/v1/adjust", [adjustment()]).status_code == 503
    assert post(http, "packages/v1/adjust", [adjustment()]).status_code == 200
    assert [r.status for r in sim.requests] == [503, 503, 200]
    assert [r.applied for r in sim.requests] == [False, False, True]
    assert sim.state.packages[EACH_TAG]["Quantity"] == Decimal("29.0")


def test_log_keeps_the_body_as_sent(http: httpx.Client, sim: MetrcSimulator) -> None:
    post(http, "packages/v1/adjust", [adjustment(quantity=Decimal("-1.50"))])
    [logged] = sim.requests
    assert logged.method == "POST" and logged.path == "packages/v1/adjust"
    assert '"Quantity":-1.50' in logged.body
    assert logged.json()[0]["Quantity"] == Decimal("-1.50")
    assert sim.applied("/packages/v1/adjust/") == [logged.json()]
    sim.clear_log()
    assert sim.requests == []


def test_delayed_answer_is_applied_even_if_the_client_gives_up(sim: MetrcSimulator) -> None:
    sim.delay_next(2.0)
    with httpx.Client(base_url=sim.url, auth=AUTH, timeout=0.2, params={"licenseNumber": sim.license_number}) as c:
        with pytest.raises(httpx.ReadTimeout):
            post(c, "packages/v1/adjust", [adjustment()])
    assert sim.state.packages[EACH_TAG]["Quantity"] == Decimal("29.0")
    assert len(sim.applied("packages/v1/adjust")) == 1


def test_go_away_mid_queue_and_come_back(http: httpx.Client, sim: MetrcSimulator) -> None:
    port = sim.port
    sim.go_away(after=2)
    assert post(http, "packages/v1/adjust", [adjustment()]).status_code == 200
    assert post(http, "packages/v1/adjust", [adjustment()]).status_code == 200
    with pytest.raises(httpx.ConnectError):
        post(http, "packages/v1/adjust", [adjustment()])
    sim.come_back()
    assert sim.port == port
    assert post(http, "packages/v1/adjust", [adjustment()]).status_code == 200
    assert len(sim.applied("packages/v1/adjust")) == 3
    assert sim.state.packages[EACH_TAG]["Quantity"] == Decimal("27.0")


def test_stop_is_clean_with_an_answer_still_delayed(samples: Path) -> None:
    sim = MetrcSimulator(seed_dir=samples, now=lambda: NOW).start()
    sim.delay_next(30)
    with httpx.Client(base_url=sim.url, auth=AUTH, timeout=0.2) as c:
        with pytest.raises(httpx.ReadTimeout):
            c.get("packages/v1/active", params={"licenseNumber": sim.license_number})
    started = datetime.now()
    sim.stop()
    assert (datetime.now() - started).total_seconds() < 5


@pytest.mark.parametrize("api", ["v1", "v2"])
def test_runs_standalone_for_the_demo(samples: Path, api: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "backoffice.metrc.simulator",
            "--port",
            "0",
            "--api",
            api,
            "--latency-ms",
            "20",
            "--seed-dir",
            str(samples),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    other = "v2" if api == "v1" else "v1"
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        assert "120 packages" in banner and "C10-0000789-LIC" in banner and f"API {api}" in banner
        url = banner.split(" at ")[1].split(" ")[0]
        with httpx.Client(base_url=url, auth=AUTH, timeout=5) as c:
            started = time.monotonic()
            response = c.get(f"packages/{api}/adjust/reasons", params={"licenseNumber": "C10-0000789-LIC"})
            assert time.monotonic() - started >= 0.02
            wrong = c.get(f"packages/{other}/adjust/reasons", params={"licenseNumber": "C10-0000789-LIC"})
        assert response.status_code == 200 and wrong.status_code == 404
        body = from_json(response.content)
        assert (body if api == "v1" else body["Data"])[0]["Name"] == "Drying"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)
    assert proc.returncode == 0
