"""backoffice tags import / list, transfer split and settings, signed in as a script does."""

from __future__ import annotations

from pathlib import Path

import pytest

from backoffice.cli.main import main
from tests.unit.cli_signin import new_store, signin

P = "1A406030000000000009"


@pytest.fixture
def store(tmp_path: Path, samples: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    db = ["--db", f"sqlite:///{tmp_path / 'cli.sqlite'}"]
    new_store(monkeypatch, db, "maria", "alex")
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
    assert main([*db, *signin(monkeypatch, "admin"), "locations", "add", "Back Room", "--kind", "vault"]) == 0
    return db


def test_import_list_and_split(
    store: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    order = tmp_path / "order.txt"
    order.write_text(f"{P}0001-{P}0003\n{P}0003\n")
    capsys.readouterr()
    assert main([*store, *signin(monkeypatch, "alex"), "tags", "import", str(order)]) == 1  # managers only
    assert "may not" in capsys.readouterr().err
    assert main([*store, *signin(monkeypatch, "maria"), "tags", "import", str(order)]) == 0
    assert "3 tags added from order.txt" in capsys.readouterr().out
    alex = signin(monkeypatch, "alex")
    assert (
        main([*store, *alex, "transfer", "create", "--from", "Vault", "--to", "Back Room", "1A4060300000000000000002"])
        == 0
    )
    capsys.readouterr()
    assert main([*store, *alex, "transfer", "split", "1", "1A4060300000000000000001", "1"]) == 0
    assert f"into new package {P}0001" in capsys.readouterr().out
    assert main([*store, *alex, "tags", "list", "--available"]) == 0
    out = capsys.readouterr().out
    assert f"{P}0001" not in out and f"{P}0002  unused" in out and "2 unused" in out
    assert "warning: Only 2 unused package tags" in out
    assert main([*store, *alex, "tags", "list"]) == 0
    assert f"{P}0001  used" in capsys.readouterr().out


def test_bad_input_exits_1_and_names_the_line(
    store: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    order = tmp_path / "order.txt"
    order.write_text(f"{P}0001\n{P}0003-{P}0001\n")
    maria = signin(monkeypatch, "maria")
    assert main([*store, *maria, "tags", "import", str(order)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "order.txt, line 2" in err
    assert main([*store, *maria, "tags", "import"]) == 1
    assert "FILE or --from-metrc" in capsys.readouterr().err
    assert main([*store, *maria, "tags", "import", "--from-metrc"]) == 1
    assert "manual mode" in capsys.readouterr().err


def test_the_low_tag_threshold_is_a_store_setting(
    store: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    admin = signin(monkeypatch, "admin")
    assert main([*store, *admin, "settings", "set", "low_tag_threshold", "5"]) == 0
    assert main([*store, *admin, "settings", "list"]) == 0
    assert any(line.split()[:2] == ["low_tag_threshold", "5"] for line in capsys.readouterr().out.splitlines())
    assert main([*store, *admin, "settings", "set", "low_tag_threshold", "many"]) == 1
    assert "low_tag_threshold needs" in capsys.readouterr().err
    assert main([*store, *admin, "settings", "set", "no_such_thing", "1"]) == 1
    assert "unknown setting" in capsys.readouterr().err
    assert main([*store, *signin(monkeypatch, "maria"), "settings", "set", "low_tag_threshold", "9"]) == 1
    assert "may not change store settings" in capsys.readouterr().err
