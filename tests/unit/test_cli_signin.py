"""Signing in to the ``backoffice`` command: --user NAME with NAME's PIN from a terminal prompt
or BACKOFFICE_PIN, never an argument; every refusal is one line on stderr and exit 1."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from backoffice.cli.main import main
from backoffice.db.engine import Database
from backoffice.services import audit
from backoffice.services.actor import SYSTEM
from tests.unit.cli_signin import new_store, signin


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    db = ["--db", f"sqlite:///{tmp_path / 'cli.sqlite'}"]
    new_store(monkeypatch, db, "alex", "maria")
    return db


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err


def _events(url: list[str], action: str) -> list[audit.AuditRow]:
    store = Database(url[1])
    try:
        return [e for e in audit.list_events(store, SYSTEM, action) if e.action == action]
    finally:
        store.dispose()


@pytest.mark.parametrize(
    "argv",
    [
        ["users", "list"],
        ["audit", "verify"],
        ["locations", "list"],
        ["metrc", "status"],
        ["count", "list"],
        ["adjust", "1A4060300000000000000002", "--quantity", "-9", "--reason", "Theft", "--note", "x"],
        ["backup", "--out", "x.sqlite"],
        ["restore", "x.sqlite"],
        ["transfer", "list"],
        ["metrc", "sync"],
        ["users", "add", "evil", "--role", "associate"],
        ["pending", "list"],
    ],
)
def test_without_user_everything_else_says_to_sign_in(
    db: list[str], argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*db, *argv]) == 1
    assert "sign in with --user NAME" in _one_line_error(capsys)


def test_what_runs_without_signing_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    empty = ["--db", f"sqlite:///{tmp_path / 'empty.sqlite'}"]
    assert main([*empty, "db", "status"]) == 0
    assert main([*empty, "db", "upgrade"]) == 0
    monkeypatch.setenv("BACKOFFICE_NEW_PIN", "123456")
    assert main([*empty, "users", "add", "boss", "--role", "associate"]) == 1  # the first user is an admin
    assert "sign in with --user NAME as an administrator" in _one_line_error(capsys)
    assert main([*empty, "users", "add", "boss", "--role", "admin"]) == 0
    assert main([*empty, "users", "add", "evil", "--role", "admin"]) == 1  # only into a store with no users
    assert "only a store without users" in _one_line_error(capsys)
    assert main([*empty, "demo"]) == 1  # the demo adds users with known PINs: not into a store with users
    assert "sign in with --user NAME" in _one_line_error(capsys)
    demo = ["--db", f"sqlite:///{tmp_path / 'demo.sqlite'}"]
    assert main([*demo, "demo"]) == 0


def test_the_pin_comes_from_the_environment_or_a_prompt_never_an_argument(
    db: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as usage:
        main([*db, "--user", "alex", "--pin", "1111", "transfer", "list"])
    assert usage.value.code == 2
    with pytest.raises(SystemExit) as usage:
        main(
            [
                *db,
                *signin(monkeypatch, "alex"),
                "adjust",
                "T",
                "--quantity",
                "-1",
                "--reason",
                "Theft",
                "--approver",
                "maria",
                "--approver-pin",
                "222222",
            ]
        )
    assert usage.value.code == 2
    capsys.readouterr()
    monkeypatch.delenv("BACKOFFICE_PIN")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # a script or cron job: not a terminal
    assert main([*db, "--user", "alex", "transfer", "list"]) == 1
    assert "no PIN for alex: set BACKOFFICE_PIN" in _one_line_error(capsys)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    asked: list[str] = []
    monkeypatch.setattr("getpass.getpass", lambda prompt: asked.append(prompt) or "1111")
    assert main([*db, "--user", "alex", "transfer", "list"]) == 0
    assert asked == ["PIN for alex: "]


def test_wrong_pins_are_audited_and_lock_the_account(
    db: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BACKOFFICE_PIN", "0000")
    for left in (4, 3, 2, 1):
        assert main([*db, "--user", "maria", "transfer", "list"]) == 1
        assert f"Wrong PIN. {left} attempt" in _one_line_error(capsys)
    assert main([*db, "--user", "maria", "transfer", "list"]) == 1
    assert "now locked" in _one_line_error(capsys)
    assert main([*db, *signin(monkeypatch, "maria"), "transfer", "list"]) == 1  # even the right PIN
    assert "is locked after too many wrong PINs" in _one_line_error(capsys)
    failed = _events(db, "user.sign_in_failed")
    assert [e.reason for e in failed] == ["account locked"] + ["wrong PIN"] * 5
    assert all(e.username == "maria" for e in failed)


def test_unknown_and_disabled_users_cannot_act(
    db: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*db, "--user", "mallory", "transfer", "list"]) == 1
    assert "Unknown or disabled user" in _one_line_error(capsys)
    assert main([*db, *signin(monkeypatch, "admin"), "users", "disable", "alex"]) == 0
    assert main([*db, *signin(monkeypatch, "alex"), "transfer", "list"]) == 1
    assert "Unknown or disabled user" in _one_line_error(capsys)
    assert [e.entity for e in _events(db, "user.sign_in_failed")] == ["user 2", "user mallory"]


def test_a_wrong_approver_pin_is_audited(
    db: list[str], samples: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                *db,
                *signin(monkeypatch, "admin"),
                "import",
                "metrc-packages",
                str(samples / "metrc_packages_active.json"),
            ]
        )
        == 0
    )
    monkeypatch.setenv("BACKOFFICE_APPROVER_PIN", "999999")
    assert (
        main(
            [
                *db,
                *signin(monkeypatch, "alex"),
                "adjust",
                "1A4060300000000000000002",
                "--quantity",
                "-8",
                "--reason",
                "Theft",
                "--note",
                "gone",
                "--approver",
                "maria",
            ]
        )
        == 1
    )
    assert "manager approval failed: Wrong PIN" in _one_line_error(capsys)
    assert [e.username for e in _events(db, "user.approval_failed")] == ["maria"]


def test_only_an_administrator_backs_up_or_restores(
    db: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "copy.sqlite"
    for name in ("maria", "alex"):
        assert main([*db, *signin(monkeypatch, name), "backup", "--out", str(copy)]) == 1
        assert "may not back up and restore the database" in _one_line_error(capsys)
    assert main([*db, *signin(monkeypatch, "admin"), "backup", "--out", str(copy)]) == 0
    assert main([*db, *signin(monkeypatch, "maria"), "restore", str(copy)]) == 1
    assert "may not back up and restore the database" in _one_line_error(capsys)
    assert main([*db, *signin(monkeypatch, "admin"), "restore", str(copy)]) == 0
    assert main([*db, *signin(monkeypatch, "admin"), "audit", "verify"]) == 0
