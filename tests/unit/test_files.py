"""Output files appear whole or not at all (backoffice.files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from backoffice.errors import UserError, ValidationError
from backoffice.files import atomic_output, write_text_atomic


def test_a_file_appears_only_when_complete(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old")
    with atomic_output(target) as temp:
        temp.write_text("new")
        assert target.read_text() == "old"  # not replaced while being written
    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_an_error_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_output(target) as temp:
        temp.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_a_writer_that_gives_up_deletes_the_temp_and_nothing_appears(tmp_path: Path) -> None:
    target = tmp_path / "out.pdf"
    with atomic_output(target) as temp:
        temp.unlink()  # cancelled
    assert list(tmp_path.iterdir()) == []


def test_missing_folder_and_unwritable_target_are_plain_messages(tmp_path: Path) -> None:
    with (
        pytest.raises(ValidationError, match="folder .*nowhere does not exist"),
        atomic_output(tmp_path / "nowhere" / "x.csv"),
    ):
        pass
    (tmp_path / "taken.csv").mkdir()  # a folder where the file should go: the rename fails
    with pytest.raises(UserError, match="could not save .*taken.csv"):
        write_text_atomic(tmp_path / "taken.csv", "a,b\n")
    assert [p.name for p in tmp_path.iterdir()] == ["taken.csv"]
