"""``backoffice labels`` and ``backoffice price``: runs to PDF that a barcode reader decodes, the
test print sub-command beside the run's options, usage errors, and the lab-result override."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from backoffice.cli.main import main
from tests.unit.cli_signin import new_store, signin
from tests.unit.test_labels_render import decode, needs_tools, rasterize


@pytest.fixture(autouse=True)
def _app(qapp: object) -> None:
    """Painting needs the application pytest-qt makes."""


@pytest.fixture
def store(tmp_path: Path, samples: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    new_store(monkeypatch, ["--db", url], "alex", "maria")
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


def _records(samples: Path) -> list[dict]:  # type: ignore[type-arg]
    return json.loads((samples / "metrc_packages_active.json").read_text())


@needs_tools
def test_tags_to_pdf_decode_exactly(
    monkeypatch: pytest.MonkeyPatch, store: str, samples: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tags = [r["Label"] for r in _records(samples)[:3]]
    out = tmp_path / "bins.pdf"
    assert (
        main(
            [
                "--db",
                store,
                *signin(monkeypatch, "admin"),
                "labels",
                "--template",
                "thermal-2x1",
                "--tags",
                *tags,
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert "wrote 3 bin labels for 3 scanned tags (3 pages)" in capsys.readouterr().out
    assert decode(rasterize(out)) == [[t] for t in tags]


@needs_tools
def test_shelf_labels_for_a_category_on_a_part_used_sheet(
    monkeypatch: pytest.MonkeyPatch, store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "shelf.pdf"
    assert (
        main(
            [
                "--db",
                store,
                *signin(monkeypatch, "admin"),
                "labels",
                "--template",
                "avery-5160",
                "--category",
                "buds",
                "--shelf",
                "--start",
                "25",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "shelf labels for category Buds (2 pages)" in printed
    pages = decode(rasterize(out))
    assert len(pages) == 2 and all(code.startswith("M") for page in pages for code in page)


def test_test_print_is_a_sub_command(
    monkeypatch: pytest.MonkeyPatch, store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "align.pdf"
    assert (
        main(
            [
                "--db",
                store,
                *signin(monkeypatch, "admin"),
                "labels",
                "test-print",
                "--template",
                "avery-5160",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert out.read_bytes().startswith(b"%PDF") and "100 %" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--template", "thermal-2x1", "--out", "x.pdf"], "choose what to print"),
        (["--category", "Buds", "--out", "x.pdf"], "--template and --out are required"),
        (["--template", "thermal-9x9", "--category", "Buds", "--out", "x.pdf"], "invalid choice: 'thermal-9x9'"),
        (["--template", "thermal-2x1", "--category", "Buds", "--manifest", "1", "--out", "x.pdf"], "not allowed with"),
        (
            ["--template", "thermal-2x1", "--category", "Buds", "--manager", "maria", "--out", "x.pdf"],
            "--manager only goes with --lab-override",
        ),
        (["test-print", "--out", "x.pdf"], "--template"),
    ],
)
def test_usage_errors_exit_2(
    monkeypatch: pytest.MonkeyPatch, store: str, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--db", store, *signin(monkeypatch, "admin"), "labels", *argv])
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_user_errors_exit_1(
    monkeypatch: pytest.MonkeyPatch, store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "--db",
                store,
                *signin(monkeypatch, "admin"),
                "labels",
                "--template",
                "thermal-2x1",
                "--manifest",
                "404",
                "--out",
                str(tmp_path / "x.pdf"),
            ]
        )
        == 1
    )
    assert "no packages were received from manifest 404" in capsys.readouterr().err
    assert (
        main(
            [
                "--db",
                store,
                *signin(monkeypatch, "admin"),
                "labels",
                "--template",
                "avery-5160",
                "--category",
                "Buds",
                "--start",
                "30",
                "--out",
                str(tmp_path / "x.pdf"),
            ]
        )
        == 1
    )
    assert "start position 30 is not on the sheet" in capsys.readouterr().err
    assert not (tmp_path / "x.pdf").exists()


def test_flagged_labels_need_a_managers_pin(
    store: str, samples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tags = [r["Label"] for r in _records(samples)[:2]]
    conn = sqlite3.connect(store.removeprefix("sqlite:///"))
    conn.execute("UPDATE packages SET lab_state = 'TestFailed' WHERE tag = ?", (tags[1],))
    conn.commit()
    conn.close()
    run = [
        "--db",
        store,
        *signin(monkeypatch, "alex"),
        "labels",
        "--template",
        "thermal-2x1",
        "--tags",
        *tags,
        "--out",
        str(tmp_path / "x.pdf"),
    ]
    assert main(run) == 1
    err = capsys.readouterr().err
    assert f"{tags[1]} (failed lab testing (TestFailed))" in err and "--lab-override or --leave-out-flagged" in err
    assert main([*run, "--leave-out-flagged"]) == 0
    assert f"left out: {tags[1]}: left out, failed lab testing" in capsys.readouterr().out
    monkeypatch.setenv("BACKOFFICE_APPROVER_PIN", "222222")
    assert main([*run, "--lab-override", "--manager", "maria"]) == 0
    assert "lab warning overridden by maria" in capsys.readouterr().out
    assert main([*run, "--lab-override"]) == 1  # an associate cannot confirm for themself
    assert "a manager must confirm" in capsys.readouterr().err


def test_price_set_then_price_changed_labels(
    monkeypatch: pytest.MonkeyPatch, store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--db", store, *signin(monkeypatch, "admin"), "price", "set", "M1042", "24.99"]) == 0
    assert "$0.00 → $24.99" in capsys.readouterr().out
    assert main(["--db", store, *signin(monkeypatch, "alex"), "price", "set", "M1042", "1"]) == 1
    assert "may not change item prices" in capsys.readouterr().err
    shelf = [
        "--db",
        store,
        *signin(monkeypatch, "admin"),
        "labels",
        "--template",
        "avery-5160",
        "--price-changed",
        "--shelf",
        "--out",
        str(tmp_path / "p.pdf"),
    ]
    assert main(shelf) == 0
    assert "wrote 1 shelf label" in capsys.readouterr().out
    assert main(shelf) == 1  # printed: nothing is due any more
    assert "nothing to print for items whose price changed" in capsys.readouterr().err
