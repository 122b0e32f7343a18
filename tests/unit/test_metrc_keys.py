"""METRC API keys in the OS key store, here an in-memory stand-in: never the real one."""

from __future__ import annotations

import keyring
import pytest
from keyring.backends import fail
from keyring.errors import KeyringLocked, PasswordDeleteError

from backoffice.errors import ValidationError
from backoffice.metrc.errors import KeyStoreUnavailable, MetrcKeyMissing
from backoffice.metrc.keys import SERVICE, MetrcKeyStore


class MemoryKeyring:
    """The three calls of a keyring backend, over a dict."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[service, username] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.entries:
            raise PasswordDeleteError("no such password")
        del self.entries[service, username]


class LockedKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("collection is locked")


def test_keys_are_kept_per_user_under_the_service_name() -> None:
    backend = MemoryKeyring()
    store = MetrcKeyStore(backend)
    store.set_user_key("ana", "  key-ana \n")
    store.set_user_key("bo", "key-bo")
    store.set_vendor_key("vendor-1")
    assert store.user_key("ana") == "key-ana" and store.user_key("bo") == "key-bo"
    assert store.vendor_key() == "vendor-1"
    assert backend.entries == {
        (SERVICE, "user:ana"): "key-ana",
        (SERVICE, "user:bo"): "key-bo",
        (SERVICE, "vendor"): "vendor-1",
    }
    assert SERVICE == "vault-workstation-metrc"


def test_missing_keys_say_what_to_do() -> None:
    store = MetrcKeyStore(MemoryKeyring())
    with pytest.raises(MetrcKeyMissing, match="No METRC API key is stored for user 'ana'.*Settings"):
        store.user_key("ana")
    with pytest.raises(MetrcKeyMissing, match="vendor"):
        store.vendor_key()


def test_delete() -> None:
    store = MetrcKeyStore(MemoryKeyring())
    store.set_user_key("ana", "key-ana")
    assert store.delete_user_key("ana") is True
    assert store.delete_user_key("ana") is False
    with pytest.raises(MetrcKeyMissing):
        store.user_key("ana")
    store.set_vendor_key("v")
    assert store.delete_vendor_key() is True


def test_empty_names_and_keys_are_refused() -> None:
    store = MetrcKeyStore(MemoryKeyring())
    with pytest.raises(ValidationError, match="empty"):
        store.set_user_key("ana", "   ")
    with pytest.raises(ValidationError, match="user name is empty"):
        store.user_key(" ")


def test_no_key_store_on_this_computer() -> None:
    store = MetrcKeyStore(fail.Keyring())
    for call in (
        lambda: store.user_key("ana"),
        lambda: store.set_user_key("ana", "k"),
        lambda: store.delete_user_key("ana"),
    ):
        with pytest.raises(KeyStoreUnavailable, match="No key store is available.*keyrings.alt"):
            call()


def test_locked_key_store() -> None:
    with pytest.raises(KeyStoreUnavailable, match="locked: unlock it"):
        MetrcKeyStore(LockedKeyring()).user_key("ana")


def test_default_store_uses_the_keyring_module(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = MemoryKeyring()
    monkeypatch.setattr(keyring, "get_keyring", lambda: backend)  # keys.py imports keyring when a key is first needed
    MetrcKeyStore().set_user_key("ana", "key-ana")
    assert backend.entries == {(SERVICE, "user:ana"): "key-ana"}
