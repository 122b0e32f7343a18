"""The first sheet of an .xlsx as a Table, read defensively.

A workbook is a zip of XML parts, and both can lie: a sheet's ``<dimension>`` may claim a
million rows, a cell may hold 300 MB of text, a formula may have no saved value. So the
sheet is streamed through expat and only the rows it really holds are kept; a cell's text
is collected up to Excel's 32,767 characters and no further; a formula cell without a saved
value, a date out of range, or a read that takes longer than ``TIME_LIMIT`` is refused with
the file and the cell. Memory stays bounded by the real content, never by what a part claims.
"""

from __future__ import annotations

import io
import posixpath
import re
import time
import zipfile
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import IO, Any
from xml.parsers import expat

from backoffice.errors import ImportFileError
from backoffice.importers.csv_common import MAX_CELL, SourceFile, Table, cell_text

TIME_LIMIT = 10.0  # seconds: any workbook gets an answer within this
MAX_COLUMNS = 16_384  # Excel's last column, XFD
_CHUNK = 1 << 16
_REF = re.compile(r"^([A-Z]{1,3})(\d+)$")
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_EXCEL_EPOCH = datetime(1899, 12, 30)
_LAST_EXCEL_SERIAL = 2_958_465  # 9999-12-31


class _TooLong:
    """A shared string longer than a cell may be (refused when a cell uses it)."""

    def __init__(self, length: int) -> None:
        self.length = length


def read_xlsx_table(src: SourceFile, *, time_limit: float = TIME_LIMIT) -> Table | None:
    """The first sheet's header row and data rows (real rows only, with their row numbers)."""
    deadline = time.monotonic() + time_limit
    try:
        with zipfile.ZipFile(io.BytesIO(src.data)) as book:
            names = set(book.namelist())
            sheet = _first_sheet(book, names, src.name)
            strings = _shared_strings(book, src.name, deadline) if "xl/sharedStrings.xml" in names else []
            dates = _date_styles(book) if "xl/styles.xml" in names else set()
            with book.open(sheet) as stream:
                return _SheetReader(src.name, strings, dates, deadline).read(stream)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError) as exc:
        raise ImportFileError(f"{src.name} is not a readable Excel workbook ({exc}).") from None
    except expat.ExpatError as exc:
        raise ImportFileError(
            f"{src.name} is not a readable Excel workbook: a part is not valid XML ({exc})."
        ) from None


def _parse(
    stream: IO[bytes],
    start: Callable[..., None],
    end: Callable[[str], None],
    text: Callable[[str], None],
    deadline: float,
    file: str,
    part: str,
) -> None:
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, text
    while chunk := stream.read(_CHUNK):
        parser.Parse(chunk, False)
        if time.monotonic() > deadline:
            raise ImportFileError(
                f"{file}: reading {part} took longer than {TIME_LIMIT:.0f} s; the workbook is far "
                "larger than a store's export. Save the sales sheet alone, or export CSV."
            )
    parser.Parse(b"", True)


def _local(tag: str) -> str:
    return tag.rsplit(" ", 1)[-1]


def _first_sheet(book: zipfile.ZipFile, names: set[str], file: str) -> str:
    """The part of the workbook's first sheet (exports put the sales there)."""
    first: list[str] = []
    targets: dict[str, str] = {}

    def on_book(tag: str, attrs: dict[str, str]) -> None:
        if _local(tag) == "sheet" and not first:
            first.append(attrs.get(f"{_REL} id", ""))

    def on_rels(tag: str, attrs: dict[str, str]) -> None:
        if _local(tag) == "Relationship":
            targets[attrs.get("Id", "")] = attrs.get("Target", "")

    never = time.monotonic() + TIME_LIMIT
    with book.open("xl/workbook.xml") as stream:
        _parse(stream, on_book, lambda _t: None, lambda _t: None, never, file, "the workbook")
    with book.open("xl/_rels/workbook.xml.rels") as stream:
        _parse(stream, on_rels, lambda _t: None, lambda _t: None, never, file, "the workbook")
    target = targets.get(first[0], "") if first else ""
    part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
    if not first or part not in names:
        raise ImportFileError(f"{file} is an Excel workbook without a readable first sheet.")
    return part


def _shared_strings(book: zipfile.ZipFile, file: str, deadline: float) -> list[str | _TooLong]:
    strings: list[str | _TooLong] = []
    parts: list[str] = []
    state = {"length": 0, "in_t": False, "skip": 0}

    def start(tag: str, _attrs: dict[str, str]) -> None:
        name = _local(tag)
        if name == "si":
            parts.clear()
            state["length"] = 0
        elif name in ("rPh", "phoneticPr"):  # phonetic guides are not the cell's text
            state["skip"] += 1
        elif name == "t" and not state["skip"]:
            state["in_t"] = True

    def end(tag: str) -> None:
        name = _local(tag)
        if name == "si":
            length = state["length"]
            strings.append(_TooLong(length) if length > MAX_CELL else "".join(parts))
        elif name in ("rPh", "phoneticPr"):
            state["skip"] -= 1
        elif name == "t":
            state["in_t"] = False

    def text(data: str) -> None:
        if state["in_t"]:
            state["length"] += len(data)
            if state["length"] <= MAX_CELL:
                parts.append(data)

    with book.open("xl/sharedStrings.xml") as stream:
        _parse(stream, start, end, text, deadline, file, "the workbook's text")
    return strings


def _date_styles(book: zipfile.ZipFile) -> set[int]:
    """Indexes of the cell styles whose number format shows a date or time."""
    from openpyxl.styles.numbers import (  # pure helpers, no workbook loaded
        BUILTIN_FORMATS,
        is_date_format,
    )

    formats: dict[int, str] = dict(BUILTIN_FORMATS)
    style_formats: list[int] = []
    state = {"xfs": False}

    def start(tag: str, attrs: dict[str, str]) -> None:
        name = _local(tag)
        if name == "numFmt":
            formats[int(attrs.get("numFmtId", "0"))] = attrs.get("formatCode", "")
        elif name == "cellXfs":
            state["xfs"] = True
        elif name == "xf" and state["xfs"]:
            style_formats.append(int(attrs.get("numFmtId", "0")))

    def end(tag: str) -> None:
        if _local(tag) == "cellXfs":
            state["xfs"] = False

    with book.open("xl/styles.xml") as stream:
        _parse(stream, start, end, lambda _t: None, time.monotonic() + TIME_LIMIT, "", "the styles")
    return {i for i, fmt_id in enumerate(style_formats) if is_date_format(formats.get(fmt_id, ""))}


def _column(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number - 1


class _SheetReader:
    def __init__(self, file: str, strings: Sequence[str | _TooLong], dates: set[int], deadline: float) -> None:
        self.file, self.strings, self.dates, self.deadline = file, strings, dates, deadline
        self.headers: list[str] | None = None
        self.header_line = 0
        self.rows: list[tuple[int, Sequence[object]]] = []
        self.row_number = 0
        self.row: dict[int, object] = {}
        self.next_column = 0
        self.cell: dict[str, Any] | None = None
        self.text: list[str] = []
        self.length = 0
        self.collect = False

    def read(self, stream: IO[bytes]) -> Table | None:
        _parse(stream, self.start, self.end, self.chars, self.deadline, self.file, "the sheet")
        return None if self.headers is None else Table(self.headers, self.header_line, self.rows)

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        name = _local(tag)
        if name == "c":
            ref = attrs.get("r", "")
            found = _REF.match(ref)
            column = _column(found.group(1)) if found else self.next_column
            if column >= MAX_COLUMNS:
                raise ImportFileError(f"{self.file}, cell {ref}: beyond Excel's last column; the sheet is damaged.")
            self.next_column = column + 1
            self.cell = {
                "ref": ref or f"{self._ref(column)}{self.row_number}",
                "column": column,
                "type": attrs.get("t", "n"),
                "style": int(attrs.get("s", "0") or 0),
                "formula": False,
                "value": None,
            }
        elif name == "row":
            self.row_number = int(attrs.get("r", self.row_number + 1))
            self.row, self.next_column = {}, 0
        elif name == "f" and self.cell is not None:
            self.cell["formula"] = True
        elif name in ("v", "t") and self.cell is not None:
            self.text, self.length, self.collect = [], 0, True

    def chars(self, data: str) -> None:
        if self.collect:
            self.length += len(data)
            if self.length <= MAX_CELL:
                self.text.append(data)

    def end(self, tag: str) -> None:
        name = _local(tag)
        if name in ("v", "t") and self.cell is not None:
            self.collect = False
            if self.length > MAX_CELL:
                self._too_long(self.cell["ref"], self.length)
            text = "".join(self.text)
            value = text if self.cell["value"] is None else self.cell["value"] + text
            if len(value) > MAX_CELL:
                self._too_long(self.cell["ref"], len(value))
            self.cell["value"] = value
        elif name == "c" and self.cell is not None:
            value = self._value(self.cell)
            if value is not None and value != "":
                self.row[self.cell["column"]] = value
            self.cell = None
        elif name == "row":
            self._end_row()

    def _end_row(self) -> None:
        if time.monotonic() > self.deadline:
            raise ImportFileError(
                f"{self.file}: reading stopped at row {self.row_number:,} after {TIME_LIMIT:.0f} s; "
                "the sheet is far larger than a store's export. Export CSV instead."
            )
        if not self.row:
            return
        values: list[object] = [None] * (max(self.row) + 1)
        for column, value in self.row.items():
            values[column] = value
        if not any(cell_text(v) for v in values):
            return
        if self.headers is None:
            self.headers, self.header_line = [cell_text(v) for v in values], self.row_number
        else:
            self.rows.append((self.row_number, values))

    def _value(self, cell: dict[str, Any]) -> object:
        raw, kind, ref = cell["value"], cell["type"], cell["ref"]
        if cell["formula"] and (raw is None or raw == ""):
            raise ImportFileError(
                f"{self.file}, cell {ref}: a formula without a saved value; open the file in Excel "
                "and save it again (or paste the values), then import it."
            )
        if raw is None:
            return None
        if kind == "s":
            try:
                text = self.strings[int(raw)]
            except (ValueError, IndexError):
                raise ImportFileError(
                    f"{self.file}, cell {ref}: refers to text the workbook does not hold; the file is damaged."
                ) from None
            if isinstance(text, _TooLong):
                self._too_long(ref, text.length)
            return text
        if kind in ("str", "inlineStr", "e"):
            return raw
        if kind == "b":
            return raw.strip() == "1"
        if kind == "d":
            return self._iso_date(raw, ref)
        return self._number(raw, ref, cell["style"] in self.dates)

    def _number(self, raw: str, ref: str, is_date: bool) -> object:
        text = raw.strip()
        try:
            number: int | float = int(text) if text.lstrip("-").isdigit() else float(text)
        except ValueError:
            raise ImportFileError(
                f"{self.file}, cell {ref}: {text[:40]!r} is stored as a number but is not one; the file is damaged."
            ) from None
        if not is_date:
            return number
        if not 0 <= number <= _LAST_EXCEL_SERIAL:
            raise ImportFileError(f"{self.file}, cell {ref}: the date {number} is outside Excel's calendar.")
        return _EXCEL_EPOCH + timedelta(seconds=round(number * 86_400))  # to the second: serials are floats

    def _iso_date(self, raw: str, ref: str) -> datetime:
        try:
            return datetime.fromisoformat(raw.strip().removesuffix("Z"))
        except ValueError:
            raise ImportFileError(f"{self.file}, cell {ref}: {raw[:40]!r} is not a date.") from None

    def _too_long(self, ref: str, length: int) -> None:
        raise ImportFileError(
            f"{self.file}, cell {ref}: {length:,} characters of text, more than a cell can hold "
            f"({MAX_CELL:,}); this is not an export a store's system writes."
        )

    @staticmethod
    def _ref(column: int) -> str:
        letters = ""
        column += 1
        while column:
            column, rest = divmod(column - 1, 26)
            letters = chr(65 + rest) + letters
        return letters
