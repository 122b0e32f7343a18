"""The backoffice command: exit codes, messages on stderr, and the same rules as the services."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from backoffice.cli.main import main


@pytest.fixture
def store(tmp_path: Path, samples: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    assert main(["--db", url, "db", "upgrade"]) == 0
    assert main(["--db", url, "users", "add", "alex", "--role", "associate", "--pin", "1111"]) == 0
    assert main(["--db", url, "import", "metrc-packages", str(samples / "metrc_packages_active.json")]) == 0
    return url


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["no-such-command"])
    assert exit_.value.code == 2


def test_user_errors_exit_1_with_a_message_on_stderr(store: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('[{"Label": "short"}]')
    assert main(["--db", store, "import", "metrc-packages", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "bad.json, line 1, field 'Label'" in err


def test_role_is_enforced_for_user(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", store, "--user", "alex", "users", "add", "sam", "--role", "admin", "--pin", "1234"]) == 1
    assert "may not manage users" in capsys.readouterr().err


def test_audit_verify_passes_then_names_a_tampered_row(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", store, "audit", "verify"]) == 0
    assert "audit chain intact" in capsys.readouterr().out
    conn = sqlite3.connect(store.removeprefix("sqlite:///"))
    conn.execute("UPDATE audit_events SET username = 'mallory' WHERE id = 2")
    conn.commit()
    conn.close()
    assert main(["--db", store, "audit", "verify"]) == 1
    assert "audit event 2" in capsys.readouterr().err


def test_backup_and_restore_round_trip(store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    backup = tmp_path / "backup.sqlite"
    assert main(["--db", store, "backup", "--out", str(backup)]) == 0
    assert main(["--db", store, "users", "add", "late", "--role", "associate", "--pin", "1234"]) == 0
    assert main(["--db", store, "restore", str(backup)]) == 0
    capsys.readouterr()
    assert main(["--db", store, "users", "list"]) == 0
    assert "late" not in capsys.readouterr().out
    assert main(["--db", store, "audit", "verify"]) == 0
    not_a_db = tmp_path / "notes.txt"
    not_a_db.write_text("hello")
    assert main(["--db", store, "restore", str(not_a_db)]) == 1
    assert "not a Vault Workstation database" in capsys.readouterr().err
    assert main(["--db", store, "backup", "--out", str(backup)]) == 1  # never overwrite a backup


def test_transfer_commands(store: str, samples: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    tag = next(r["Label"] for r in json.loads((samples / "metrc_packages_active.json").read_text())
               if r["LocationName"] == "Vault" and r["LabTestingState"] == "TestPassed" and not r["IsOnHold"])
    assert main(["--db", store, "--user", "alex", "transfer", "move", tag]) == 1
    assert "no recorded transfer" in capsys.readouterr().err
    assert main(["--db", store, "--user", "alex", "transfer", "create", tag]) == 0
    assert main(["--db", store, "--user", "alex", "transfer", "record", "1"]) == 0
    assert main(["--db", store, "--user", "alex", "transfer", "move", tag]) == 0
    assert "moved" in capsys.readouterr().out


def test_demo_is_deterministic(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = []
    for name in ("a", "b"):
        assert main(["--db", f"sqlite:///{tmp_path / name}.sqlite", "demo", "--scale", "small", "--seed", "3"]) == 0
        outputs.append(capsys.readouterr().out.split(" built in ")[1].split(": ", 1)[1])
    assert outputs[0] == outputs[1]
    assert main(["--db", f"sqlite:///{tmp_path / 'a'}.sqlite", "audit", "verify"]) == 0
    assert main(["--db", f"sqlite:///{tmp_path / 'a'}.sqlite", "demo"]) == 1  # never over an existing store


def test_daily_backup_once_a_day_with_retention(store: str) -> None:
    from datetime import date, timedelta

    from backoffice.db.engine import Database
    from backoffice.paths import backup_dir
    from backoffice.services.backup import daily_backup

    db = Database(store)
    first = daily_backup(db, today=date(2026, 11, 1))
    assert first is not None and first.exists()
    assert daily_backup(db, today=date(2026, 11, 1)) is None  # once a day
    later = daily_backup(db, keep_days=14, today=date(2026, 11, 1) + timedelta(days=15))
    assert later is not None and not first.exists()  # pruned after 14 days
    assert sorted(p.name for p in backup_dir().glob("daily-*")) == ["daily-20261116.sqlite"]
    restored = Database(f"sqlite:///{later}")
    from backoffice.services import audit

    assert audit.verify(restored).ok  # a backup is a store that verifies
    restored.dispose()
    db.dispose()
    assert main(["--db", store, "backup", "--daily"]) == 0
