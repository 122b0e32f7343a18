"""METRC API keys in the operating system's key store, never in the database.

Several states require a key per person, so user keys are stored per app user name;
the integrator's vendor key is one per installation. Entries live under the service
name ``vault-workstation-metrc`` with the account ``user:<name>`` or ``vendor``.
Errors name the user, never the key. The backend is keyring's own choice for the OS, or
the one named in ``PYTHON_KEYRING_BACKEND`` (read at each use, so a headless workstation
can point at e.g. ``keyrings.alt.file.EncryptedKeyring``).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Protocol

from backoffice.errors import ValidationError
from backoffice.metrc.errors import KeyStoreUnavailable, MetrcKeyMissing

if TYPE_CHECKING:
    from keyring.errors import KeyringError

SERVICE = "vault-workstation-metrc"
ENV_BACKEND = "PYTHON_KEYRING_BACKEND"
_VENDOR = "vendor"


class KeyBackend(Protocol):
    """What is used of a keyring backend (every ``keyring.backend.KeyringBackend`` has it)."""

    def get_password(self, service: str, username: str) -> str | None: ...

    def set_password(self, service: str, username: str, password: str) -> None: ...

    def delete_password(self, service: str, username: str) -> None: ...


def _user_account(username: str) -> str:
    name = username.strip()
    if not name:
        raise ValidationError("a METRC user key belongs to a user; the user name is empty")
    return f"user:{name}"


class MetrcKeyStore:
    """Get, set and delete keys; ``backend`` defaults to the keyring chosen for this OS."""

    def __init__(self, backend: KeyBackend | None = None) -> None:
        self._backend = backend

    def user_key(self, username: str) -> str:
        key = self._get(_user_account(username))
        if not key:
            raise MetrcKeyMissing(
                f"No METRC API key is stored for user {username!r}: enter the key from "
                "METRC (Profile → API Keys) in Settings."
            )
        return key

    def set_user_key(self, username: str, key: str) -> None:
        self._set(_user_account(username), key, f"user {username!r}")

    def delete_user_key(self, username: str) -> bool:
        """Forget a user's key; False when none was stored."""
        return self._delete(_user_account(username))

    def vendor_key(self) -> str:
        key = self._get(_VENDOR)
        if not key:
            raise MetrcKeyMissing(
                "No METRC vendor (integrator) key is stored on this workstation: "
                "an administrator enters it in Settings."
            )
        return key

    def set_vendor_key(self, key: str) -> None:
        self._set(_VENDOR, key, "the vendor")

    def delete_vendor_key(self) -> bool:
        return self._delete(_VENDOR)

    # --- backend calls, with errors a person can act on --------------------------------

    def _keyring(self) -> KeyBackend:
        # Resolved per call, so the OS backend is discovered only when a key is first needed.
        if self._backend is not None:
            return self._backend
        import keyring.core  # here, not at start-up: keyring is loaded when a key is first needed (≈20 ms)

        named = os.environ.get(ENV_BACKEND, "").strip()
        if not named:
            return keyring.get_keyring()
        try:
            return keyring.core.load_keyring(named)
        except (ImportError, AttributeError, ValueError, RuntimeError) as exc:
            raise KeyStoreUnavailable(
                f"{ENV_BACKEND} names the key store {named!r}, which cannot be loaded ({type(exc).__name__}): "
                "install the package that provides it (e.g. pip install keyrings.alt), or unset "
                f"{ENV_BACKEND} to use the system's key store."
            ) from None

    def _get(self, account: str) -> str | None:
        from keyring.errors import KeyringError

        try:
            return self._keyring().get_password(SERVICE, account)
        except KeyringError as exc:
            raise _unavailable(exc) from None

    def _set(self, account: str, key: str, whose: str) -> None:
        key = key.strip()
        if not key:
            raise ValidationError(f"the METRC API key for {whose} is empty")
        from keyring.errors import KeyringError

        try:
            self._keyring().set_password(SERVICE, account, key)
        except KeyringError as exc:
            raise _unavailable(exc) from None

    def _delete(self, account: str) -> bool:
        from keyring.errors import KeyringError, PasswordDeleteError

        backend = self._keyring()
        try:
            if backend.get_password(SERVICE, account) is None:
                return False
            backend.delete_password(SERVICE, account)
        except PasswordDeleteError:
            return False
        except KeyringError as exc:
            raise _unavailable(exc) from None
        return True


def _unavailable(exc: KeyringError) -> KeyStoreUnavailable:
    # The backend's own message is left out: it is not ours to vouch that it holds no secret.
    from keyring.errors import KeyringLocked, NoKeyringError

    if isinstance(exc, KeyringLocked):
        return KeyStoreUnavailable(
            "The system key store is locked: unlock it (log in again or open the keyring/wallet app) and try again."
        )
    if isinstance(exc, NoKeyringError):
        return KeyStoreUnavailable(
            "No key store is available to keep METRC API keys. On a Linux desktop install and start one "
            "(sudo apt-get install gnome-keyring, or KWallet); on a headless workstation install an encrypted "
            f"file store (pip install keyrings.alt) and set {ENV_BACKEND}=keyrings.alt.file.EncryptedKeyring. "
            "Windows and macOS have one built in. Then enter the keys again."
        )
    return KeyStoreUnavailable(
        f"The system key store failed ({type(exc).__name__}); try again, "
        "and if it keeps failing restart the key store or the computer."
    )
