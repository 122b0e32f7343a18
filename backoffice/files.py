"""Output files appear whole or not at all.

Every file the product writes (workbooks, PDFs, label runs, count sheets, METRC upload CSVs)
is written under a temporary name in the target's folder and renamed into place only when
complete, so a crash, a cancel or a full disk never leaves a half-written file, and an
existing file keeps its old content until the new one is ready.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from backoffice.errors import UserError, ValidationError


@contextmanager
def atomic_output(target: Path | str, suffix: str = ".part") -> Iterator[Path]:
    """Yield a temporary path beside ``target``; it becomes ``target`` when the block ends
    without an error. A writer that gives up (a cancelled run) deletes the temporary file
    itself, and ``target`` is left as it was."""
    target = Path(target)
    if not target.parent.is_dir():
        raise ValidationError(f"cannot save {target.name}: folder {target.parent} does not exist")
    try:
        handle, name = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=suffix, dir=target.parent)
    except OSError as exc:
        raise UserError(f"cannot save in {target.parent}: {exc.strerror or exc}; choose another folder") from exc
    os.close(handle)
    temp = Path(name)
    try:
        yield temp
        if temp.exists():
            os.replace(temp, target)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        hint = " (is it open in another program? close it and try again)" if isinstance(exc, PermissionError) else ""
        raise UserError(f"could not save {target}: {exc.strerror or exc}{hint}") from exc
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_text_atomic(target: Path | str, text: str, *, encoding: str = "utf-8", newline: str | None = None) -> None:
    with atomic_output(target) as temp, open(temp, "w", encoding=encoding, newline=newline) as handle:
        handle.write(text)
