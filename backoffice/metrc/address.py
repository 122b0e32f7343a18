"""Where METRC keys may be sent: a TLS address, or plain http only to this machine (the simulator).

Checked by the client before it holds the keys, so a METRC address set to ``http://`` on
another host can never receive the vendor and user keys in clear."""

from __future__ import annotations

from urllib.parse import urlsplit

from backoffice.errors import ValidationError

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def require_tls(base_url: str) -> None:
    parts = urlsplit(base_url.strip())
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" and host:
        return
    if parts.scheme == "http" and host in _LOOPBACK:
        return
    raise ValidationError(
        f"the METRC address {base_url!r} is not https: METRC keys are only sent over TLS "
        "(plain http only to 127.0.0.1 or localhost, for the simulator); set an https:// address in Settings"
    )
