"""A scripted count through the ``backoffice`` command: start, import-sheet, variances, submit,
and ``adjust`` with a manager's approval; user errors exit 1 with the reason on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backoffice.cli.main import main
from tests.unit.cli_signin import new_store, signin

GUMMY = "1A4060300000000000000002"


@pytest.fixture(autouse=True)
def _app(qapp: object) -> None:
    """Painting needs the application pytest-qt makes (not one of its own in the same process)."""


@pytest.fixture
def store(tmp_path: Path, samples: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    db = ["--db", f"sqlite:///{tmp_path / 'cli.sqlite'}"]
    new_store(monkeypatch, db, "alex", "maria")
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
    return db


def test_scripted_count_from_start_to_submit(
    monkeypatch: pytest.MonkeyPatch, store: list[str], tmp_path: Path, samples: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    alex = [*store, "--user", "alex"]
    monkeypatch.setenv("BACKOFFICE_PIN", "1111")  # alex's, for the calls below as a script would
    (tmp_path / "pos.csv").write_text(f"Package ID,On Hand\n{GUMMY},11\n")
    assert (
        main(
            [
                *alex,
                "count",
                "start",
                "--name",
                "Gummies",
                "--category",
                "Edible (weight - each)",
                "--location",
                "Vault",
                "--pos-file",
                str(tmp_path / "pos.csv"),
                "--metrc-file",
                str(samples / "metrc_packages_active.json"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "count #1 'Gummies': open, blind" in out and "POS: pos.csv" in out
    assert main([*alex, "count", "sheet", "1", "--out", str(tmp_path / "sheet.pdf")]) == 0
    assert "15 packages, 1 page(s)" in capsys.readouterr().out and (tmp_path / "sheet.pdf").stat().st_size > 0
    (tmp_path / "keyed.csv").write_text(f"tag,quantity\n{GUMMY},10\n")
    assert main([*alex, "count", "import-sheet", "1", str(tmp_path / "keyed.csv")]) == 0
    assert "recorded 1 count(s)" in capsys.readouterr().out
    assert main([*alex, "count", "variances", "1"]) == 0
    assert "blind count: results are shown after submit" in capsys.readouterr().out
    assert main([*store, *signin(monkeypatch, "maria"), "count", "variances", "1"]) == 0
    signin(monkeypatch, "alex")
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.startswith(GUMMY))
    # shelf 10, ledger 12, POS 11, METRC 12: the shelf is short against the ledger and the POS differs too
    assert line.split()[1:9] == ["several", "differ", "10", "12", "11", "12", "0", "-2"]
    assert "INVESTIGATE: shelf vs ledger: 2 Each fewer on the shelf" in out
    assert "INVESTIGATE: POS: the POS has 1 Each fewer than the store's ledger" in out
    assert "METRC agrees on" in out
    assert main([*alex, "count", "submit", "1"]) == 1
    assert "not counted yet" in capsys.readouterr().err
    assert main([*alex, "count", "submit", "1", "--uncounted-as-zero"]) == 0
    assert "submitted" in capsys.readouterr().out
    assert main([*alex, "count", "record", "1", GUMMY, "3"]) == 1
    assert "frozen" in capsys.readouterr().err
    assert main([*alex, "count", "list"]) == 0
    assert "submitted" in capsys.readouterr().out


def test_adjust_with_and_without_approval(
    monkeypatch: pytest.MonkeyPatch, store: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    alex = [*store, "--user", "alex"]
    monkeypatch.setenv("BACKOFFICE_PIN", "1111")  # alex's, for the calls below as a script would
    assert main([*alex, "adjust", GUMMY, "--quantity", "-8", "--reason", "Theft", "--note", "gone"]) == 1
    assert "a manager must enter their PIN" in capsys.readouterr().err
    monkeypatch.setenv("BACKOFFICE_APPROVER_PIN", "999999")
    assert (
        main([*alex, "adjust", GUMMY, "--quantity", "-8", "--reason", "Theft", "--note", "gone", "--approver", "maria"])
        == 1
    )
    assert "manager approval failed: Wrong PIN" in capsys.readouterr().err
    monkeypatch.setenv("BACKOFFICE_APPROVER_PIN", "222222")
    assert (
        main([*alex, "adjust", GUMMY, "--quantity", "-8", "--reason", "Theft", "--note", "gone", "--approver", "maria"])
        == 0
    )
    assert "12 → 4 (Theft, approved by maria)" in capsys.readouterr().out
    assert main([*store, "adjust", GUMMY, "--quantity", "-1", "--reason", "Damage"]) == 1
    assert "sign in with --user NAME" in capsys.readouterr().err
    assert main([*alex, "adjust-reasons"]) == 0
    assert "Scale Variance" in capsys.readouterr().out


def test_start_with_metrc_fetched(
    store: list[str], tmp_path: Path, samples: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    alex = [*store, *signin(monkeypatch, "alex")]
    assert main([*alex, "count", "start", "--name", "Gummies", "--fetch-metrc"]) == 1
    assert "manual mode" in capsys.readouterr().err  # no METRC address set: nothing started
    with pytest.raises(SystemExit) as usage:  # a file and a fetch are two answers to one question
        main(
            [
                *alex,
                "count",
                "start",
                "--name",
                "Gummies",
                "--fetch-metrc",
                "--metrc-file",
                str(samples / "metrc_packages_active.json"),
            ]
        )
    assert usage.value.code == 2
    capsys.readouterr()
    assert main([*alex, "count", "list"]) == 0
    assert capsys.readouterr().out == ""


def test_variances_name_the_source_and_fix_metrc_from_the_line(
    store: list[str], tmp_path: Path, samples: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    records = json.loads((samples / "metrc_packages_active.json").read_text())
    for record in records:
        if record["Label"] == GUMMY:
            record["Quantity"] = 15  # METRC says 15; the store and the shelf say 12
    (tmp_path / "metrc.json").write_text(json.dumps(records))
    alex = [*store, *signin(monkeypatch, "alex")]
    assert (
        main(
            [
                *alex,
                "count",
                "start",
                "--name",
                "Gummies",
                "--category",
                "Edible (weight - each)",
                "--not-blind",
                "--metrc-file",
                str(tmp_path / "metrc.json"),
            ]
        )
        == 0
    )
    assert main([*alex, "count", "record", "1", GUMMY, "12"]) == 0
    capsys.readouterr()
    assert main([*alex, "count", "variances", "1"]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.startswith(GUMMY))
    assert line.split()[1:3] == ["METRC", "differs"]
    assert "INVESTIGATE: METRC: METRC has 3 Each more than the store's ledger; nothing explains it" in out

    fix = ["count", "fix-metrc", "1", GUMMY, "--quantity", "-3", "--note", "METRC had 3 extra"]
    assert main([*alex, *fix, "--reason", "Inventory Audit"]) == 1
    assert "a manager makes it" in capsys.readouterr().err
    maria = [*store, *signin(monkeypatch, "maria")]
    assert main([*maria, *fix]) == 1
    assert "needs --reason" in capsys.readouterr().err
    assert main([*maria, *fix, "--reason", "Inventory Audit"]) == 0
    assert "METRC-only adjustment queued (-3 in METRC), outbox #" in capsys.readouterr().out
    assert main([*store, *signin(monkeypatch, "alex"), "count", "variances", "1", "--all"]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith(GUMMY))
    assert line.split()[1:3] == ["resolved", "12"]
