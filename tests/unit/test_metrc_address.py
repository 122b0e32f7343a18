"""METRC keys only go to a TLS address; plain http only to this machine (the simulator)."""

from __future__ import annotations

import httpx
import pytest

from backoffice.errors import ValidationError
from backoffice.metrc.client import MetrcClient


def _refusing_transport(sent: list[httpx.Request]) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: sent.append(request) or httpx.Response(200, json=[]))


@pytest.mark.parametrize(
    "url",
    [
        "http://metrc.example.com/",
        "http://10.0.0.5:8899",
        "http://127.0.0.1.evil.example/",
        "ftp://api-ca.metrc.com",
        "api-ca.metrc.com",
        "https://",
        "http://user@localhost.evil.example/",
    ],
)
def test_keys_are_never_sent_in_clear_to_another_host(url: str) -> None:
    sent: list[httpx.Request] = []
    with pytest.raises(ValidationError, match="METRC keys are only sent over TLS"):
        MetrcClient(url, "LIC", "vendor-key", "user-key", transport=_refusing_transport(sent))
    assert sent == []


@pytest.mark.parametrize(
    "url", ["https://api-ca.metrc.com", "http://127.0.0.1:8899/", "http://localhost:8899", "http://[::1]:8899"]
)
def test_tls_or_this_machine_is_accepted(url: str) -> None:
    sent: list[httpx.Request] = []
    with MetrcClient(url, "LIC", "vendor-key", "user-key", transport=_refusing_transport(sent)) as client:
        client.active_packages()
    assert len(sent) == 1 and sent[0].headers["authorization"].startswith("Basic ")
