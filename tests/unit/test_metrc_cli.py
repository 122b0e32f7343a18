"""``backoffice metrc setup``, ``metrc key set`` (key from standard input only),
``retail-id resolve`` and the key store's messages, as a store's script uses them."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from backoffice.cli.main import main
from backoffice.metrc.keys import SERVICE, MetrcKeyStore
from backoffice.metrc.simulator import (
    DEFAULT_USER_KEY,
    DEFAULT_VENDOR_KEY,
    MetrcSimulator,
)
from tests.unit.cli_signin import new_store, signin
from tests.unit.keyring_memory import MemoryBackend

BACKEND = "tests.unit.keyring_memory.MemoryBackend"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", BACKEND)
    MemoryBackend.entries.clear()
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    new_store(monkeypatch, ["--db", url], "alex")
    yield url
    MemoryBackend.entries.clear()


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def test_setup_sets_and_shows_the_connection(
    monkeypatch: pytest.MonkeyPatch, store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--db", store, *signin(monkeypatch, "admin"), "metrc", "setup"]) == 0
    assert "API version    v2" in capsys.readouterr().out  # the default
    assert (
        main(
            [
                "--db",
                store,
                *signin(monkeypatch, "admin"),
                "metrc",
                "setup",
                "--url",
                "https://api-ny.metrc.com/",
                "--license",
                "OCM-1",
                "--api",
                "v1",
                "--window-hours",
                "12",
                "--retail-id-required",
                "yes",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "https://api-ny.metrc.com/" in out and "OCM-1" in out and "v1" in out and "12 h" in out
    assert "required on every unit" in out
    assert main(["--db", store, *signin(monkeypatch, "admin"), "metrc", "setup", "--url", "ftp://nowhere"]) == 1
    assert "is not a web address" in capsys.readouterr().err
    assert main(["--db", store, *signin(monkeypatch, "alex"), "metrc", "setup", "--api", "v2"]) == 1
    assert "may not change store settings" in capsys.readouterr().err


def test_keys_come_from_standard_input_into_the_named_backend(
    store: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _stdin(monkeypatch, "vendor-secret-1\n")
    assert main(["--db", store, *signin(monkeypatch, "admin"), "metrc", "key", "set", "--vendor"]) == 0
    _stdin(monkeypatch, "alex-secret-2\n")
    assert main(["--db", store, *signin(monkeypatch, "admin"), "metrc", "key", "set", "--user", "Alex"]) == 0
    out = capsys.readouterr().out
    assert "secret" not in out and "stored in the system key store" in out
    assert MemoryBackend.entries == {(SERVICE, "vendor"): "vendor-secret-1", (SERVICE, "user:alex"): "alex-secret-2"}
    with pytest.raises(SystemExit):  # never as an argument
        main(["--db", store, *signin(monkeypatch, "admin"), "metrc", "key", "set", "--vendor", "vendor-secret-1"])
    _stdin(monkeypatch, "x\n")
    assert main(["--db", store, *signin(monkeypatch, "admin"), "metrc", "key", "set", "--user", "nobody"]) == 1
    assert "there is no user 'nobody'" in capsys.readouterr().err
    _stdin(monkeypatch, "\n")
    assert main(["--db", store, *signin(monkeypatch, "admin"), "metrc", "key", "set", "--vendor"]) == 1
    assert "is empty" in capsys.readouterr().err


def test_a_backend_that_cannot_be_loaded_or_none_at_all_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from backoffice.metrc.errors import KeyStoreUnavailable

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.nowhere.Keyring")
    with pytest.raises(KeyStoreUnavailable, match="cannot be loaded.*pip install keyrings.alt"):
        MetrcKeyStore().vendor_key()
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    with pytest.raises(KeyStoreUnavailable, match="apt-get install gnome-keyring.*keyrings.alt.file.EncryptedKeyring"):
        MetrcKeyStore().vendor_key()


def test_retail_id_resolve_from_the_command_line(
    store: str, samples: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with MetrcSimulator(seed_dir=samples, api="v2") as sim:
        assert (
            main(
                [
                    "--db",
                    store,
                    *signin(monkeypatch, "admin"),
                    "metrc",
                    "setup",
                    "--url",
                    sim.url,
                    "--license",
                    sim.license_number,
                ]
            )
            == 0
        )
        MemoryBackend.entries.update(
            {(SERVICE, "vendor"): DEFAULT_VENDOR_KEY, (SERVICE, "user:alex"): DEFAULT_USER_KEY}
        )
        url = sim.state.qr_codes("1A4060300000000000000001")[0]
        assert main(["--db", store, *signin(monkeypatch, "alex"), "retail-id", "resolve", url]) == 0
        assert "one unit) of package 1A4060300000000000000001  [metrc]" in capsys.readouterr().out
        sim.go_away()
        assert main(["--db", store, *signin(monkeypatch, "alex"), "retail-id", "resolve", url]) == 0
        assert "[cache]" in capsys.readouterr().out
        assert (
            main(["--db", store, *signin(monkeypatch, "alex"), "retail-id", "resolve", "https://1a4.com/ZZZZ9999"]) == 1
        )
        assert "METRC cannot be reached" in capsys.readouterr().err


def test_drift_from_the_command_line(
    monkeypatch: pytest.MonkeyPatch, store: str, samples: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "--db",
                store,
                *signin(monkeypatch, "admin"),
                "import",
                "metrc-packages",
                str(samples / "metrc_packages_active.json"),
            ]
        )
        == 0
    )
    with MetrcSimulator(seed_dir=samples, api="v2") as sim:
        assert (
            main(
                [
                    "--db",
                    store,
                    *signin(monkeypatch, "admin"),
                    "metrc",
                    "setup",
                    "--url",
                    sim.url,
                    "--license",
                    sim.license_number,
                ]
            )
            == 0
        )
        MemoryBackend.entries.update(
            {(SERVICE, "vendor"): DEFAULT_VENDOR_KEY, (SERVICE, "user:admin"): DEFAULT_USER_KEY}
        )
        capsys.readouterr()
        assert main(["--db", store, *signin(monkeypatch, "admin"), "metrc", "drift"]) == 0
        assert "full check: 120 package(s) fetched from METRC, 120 compared, 0 differ" in capsys.readouterr().out
        sim.state.touch("1A4060300000000000000001", IsOnHold=True)
        assert main(["--db", store, *signin(monkeypatch, "admin"), "metrc", "drift"]) == 1
        out = capsys.readouterr().out
        assert "1A4060300000000000000001  hold" in out and "incremental check: 1 package(s) fetched" in out
        assert "likely: put on hold in METRC" in out
