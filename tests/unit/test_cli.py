"""The backoffice command: exit codes, messages on stderr, and the same rules as the services."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from backoffice.cli.main import main
from backoffice.services.actor import SYSTEM
from tests.unit.cli_signin import new_store, signin


@pytest.fixture
def store(tmp_path: Path, samples: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    new_store(monkeypatch, ["--db", url], "alex")
    assert (
        main(
            [
                "--db",
                url,
                *signin(monkeypatch, "admin"),
                "import",
                "metrc-packages",
                str(samples / "metrc_packages_active.json"),
            ]
        )
        == 0
    )
    return url


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["no-such-command"])
    assert exit_.value.code == 2


def test_user_errors_exit_1_with_a_message_on_stderr(
    monkeypatch: pytest.MonkeyPatch, store: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('[{"Label": "short"}]')
    assert main(["--db", store, *signin(monkeypatch, "admin"), "import", "metrc-packages", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "bad.json, line 1, field 'Label'" in err


def test_role_is_enforced_for_user(
    monkeypatch: pytest.MonkeyPatch, store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BACKOFFICE_NEW_PIN", "123456")
    assert main(["--db", store, *signin(monkeypatch, "alex"), "users", "add", "sam", "--role", "admin"]) == 1
    assert "may not manage users" in capsys.readouterr().err


def test_audit_verify_passes_then_names_a_tampered_row(
    monkeypatch: pytest.MonkeyPatch, store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--db", store, *signin(monkeypatch, "admin"), "audit", "verify"]) == 0
    assert "audit chain intact" in capsys.readouterr().out
    conn = sqlite3.connect(store.removeprefix("sqlite:///"))
    conn.execute("UPDATE audit_events SET username = 'mallory' WHERE id = 2")
    conn.commit()
    conn.close()
    assert main(["--db", store, *signin(monkeypatch, "admin"), "audit", "verify"]) == 1
    assert "audit event 2" in capsys.readouterr().err


def test_backup_and_restore_round_trip(
    monkeypatch: pytest.MonkeyPatch, store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backup = tmp_path / "backup.sqlite"
    assert main(["--db", store, *signin(monkeypatch, "admin"), "backup", "--out", str(backup)]) == 0
    monkeypatch.setenv("BACKOFFICE_NEW_PIN", "1234")
    assert main(["--db", store, *signin(monkeypatch, "admin"), "users", "add", "late", "--role", "associate"]) == 0
    assert main(["--db", store, *signin(monkeypatch, "admin"), "restore", str(backup)]) == 0
    capsys.readouterr()
    assert main(["--db", store, *signin(monkeypatch, "admin"), "users", "list"]) == 0
    assert "late" not in capsys.readouterr().out
    assert main(["--db", store, *signin(monkeypatch, "admin"), "audit", "verify"]) == 0
    not_a_db = tmp_path / "notes.txt"
    not_a_db.write_text("hello")
    assert main(["--db", store, *signin(monkeypatch, "admin"), "restore", str(not_a_db)]) == 1
    assert "not a Vault Workstation database" in capsys.readouterr().err
    assert (
        main(["--db", store, *signin(monkeypatch, "admin"), "backup", "--out", str(backup)]) == 1
    )  # never overwrite a backup


def test_transfer_commands(
    monkeypatch: pytest.MonkeyPatch, store: str, samples: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    tag = next(
        r["Label"]
        for r in json.loads((samples / "metrc_packages_active.json").read_text())
        if r["LocationName"] == "Vault" and r["LabTestingState"] == "TestPassed" and not r["IsOnHold"]
    )
    assert main(["--db", store, *signin(monkeypatch, "alex"), "transfer", "move", tag]) == 1
    assert "no recorded transfer" in capsys.readouterr().err
    assert main(["--db", store, *signin(monkeypatch, "alex"), "transfer", "create", tag]) == 0
    assert main(["--db", store, *signin(monkeypatch, "alex"), "transfer", "record", "1"]) == 0
    assert main(["--db", store, *signin(monkeypatch, "alex"), "transfer", "move", tag]) == 0
    assert "moved" in capsys.readouterr().out


def test_demo_is_deterministic(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = []
    for name in ("a", "b"):
        assert main(["--db", f"sqlite:///{tmp_path / name}.sqlite", "demo", "--scale", "small", "--seed", "3"]) == 0
        outputs.append(capsys.readouterr().out.split(" built in ")[1].split(": ", 1)[1])
    assert outputs[0] == outputs[1]
    assert main(["--db", f"sqlite:///{tmp_path / 'a'}.sqlite", *signin(monkeypatch, "admin"), "audit", "verify"]) == 0
    assert (
        main(["--db", f"sqlite:///{tmp_path / 'a'}.sqlite", *signin(monkeypatch, "admin"), "demo"]) == 1
    )  # never over an existing store


def test_daily_backup_once_a_day_with_retention(monkeypatch: pytest.MonkeyPatch, store: str) -> None:
    from datetime import date, timedelta

    from backoffice.db.engine import Database
    from backoffice.paths import backup_dir
    from backoffice.services.backup import daily_backup

    db = Database(store)
    first = daily_backup(db, SYSTEM, today=date(2026, 11, 1))
    assert first is not None and first.exists()
    assert daily_backup(db, SYSTEM, today=date(2026, 11, 1)) is None  # once a day
    later = daily_backup(db, SYSTEM, keep_days=14, today=date(2026, 11, 1) + timedelta(days=15))
    assert later is not None and not first.exists()  # pruned after 14 days
    assert sorted(p.name for p in backup_dir().glob("daily-*")) == ["daily-20261116.sqlite"]
    restored = Database(f"sqlite:///{later}")
    from backoffice.services import audit

    assert audit.verify(restored, SYSTEM).ok  # a backup is a store that verifies
    restored.dispose()
    db.dispose()
    assert main(["--db", store, *signin(monkeypatch, "admin"), "backup", "--daily"]) == 0
