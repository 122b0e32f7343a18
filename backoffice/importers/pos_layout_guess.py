"""A first guess at an unknown POS export's layout, for a person to confirm.

Headers are matched against the names POS vendors use for each field (``Ticket No`` is the
receipt number, ``METRC ID`` the tag, ``Ext. Price`` the amount), exact names before words
within a name; the date and the time may be one column or two. The date style and the
number format are read from the first rows, and those rows are parsed through the guess so
the person sees what the mapping makes of them before saving it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from backoffice.domain.numbers import NumberFormat
from backoffice.errors import ImportFileError, UserError, ValidationError
from backoffice.importers.csv_common import (
    Table,
    cell_text,
    normalize_header,
    number_format_of,
)
from backoffice.importers.pos_sales_file import (
    CANONICAL_FIELDS,
    DATE_STYLES,
    REQUIRED_FIELDS,
    ParsedPosFile,
    PosLayout,
    header_signature,
    parse_table,
    read_table,
)

PREVIEW_ROWS = 5
# whole header names (normalised) that name a field outright
_EXACT: dict[str, tuple[str, ...]] = {
    "receipt_number": (
        "receipt",
        "receiptno",
        "receiptnumber",
        "receiptid",
        "ticket",
        "ticketno",
        "ticketnumber",
        "ticketid",
        "order",
        "orderid",
        "orderno",
        "ordernumber",
        "transaction",
        "transactionid",
        "transactionno",
        "transactionnumber",
        "invoice",
        "invoiceno",
        "invoicenumber",
        "saleid",
    ),
    "sold_at": (
        "date",
        "datetime",
        "dateandtime",
        "datetimesold",
        "soldon",
        "solddate",
        "saledate",
        "salesdate",
        "transactiondate",
        "orderdate",
        "completedat",
        "completed",
        "closed",
        "closedat",
        "timestamp",
        "sold",
        "soldat",
    ),
    "sold_time": ("time", "at", "soldtime", "saletime", "transactiontime", "ordertime", "timeofsale"),
    "tag": (
        "tag",
        "packageid",
        "packagelabel",
        "packagetag",
        "metrcid",
        "metrctag",
        "metrclabel",
        "metrcpackage",
        "label",
        "package",
        "uid",
        "packageuid",
    ),
    "sku": ("sku", "itemcode", "productcode", "productsku", "itemsku"),
    "product_name": ("product", "productname", "item", "itemname", "description", "name", "productdescription"),
    "brand": ("brand", "brandname", "vendor", "manufacturer"),
    "category": ("category", "productcategory", "itemcategory", "type", "producttype"),
    "quantity": ("qty", "quantity", "units", "qtysold", "unitssold", "quantitysold", "count"),
    "unit": ("uom", "unit", "unitofmeasure", "measure", "unitofmeasurement"),
    "amount": (
        "amount",
        "total",
        "linetotal",
        "netsales",
        "extprice",
        "extendedprice",
        "net",
        "sales",
        "subtotal",
        "lineamount",
        "netamount",
        "nettotal",
        "linenet",
        "totalprice",
        "price",
    ),
    "budtender": ("budtender", "employee", "cashier", "staff", "clerk", "salesperson", "associate", "servedby"),
}
# words within a header, tried for the fields still unmapped, in this order
_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("tag", ("metrc", "packagelabel", "packageid", "tag")),
    ("receipt_number", ("receipt", "ticket", "transaction", "order", "invoice")),
    ("sold_time", ("time",)),
    ("sold_at", ("date", "completed", "closed", "sold")),
    ("amount", ("total", "amount", "net", "extprice", "sales")),
    ("quantity", ("qty", "quantity")),
    ("unit", ("uom", "measure")),
    ("sku", ("sku",)),
    ("product_name", ("product", "item", "description", "name")),
    ("category", ("category",)),
    ("brand", ("brand",)),
    ("budtender", ("budtender", "employee", "cashier")),
)


def guess_columns(headers: Sequence[str]) -> dict[str, str]:
    """Each field's most likely column (a header used once at most)."""
    guesses: dict[str, str] = {}
    used: set[str] = set()
    names = [(header, normalize_header(header)) for header in headers if normalize_header(header)]
    for field in CANONICAL_FIELDS:
        for header, name in names:
            if header not in used and name in _EXACT[field]:
                guesses[field] = header
                used.add(header)
                break
    for field, words in _WORDS:
        if field in guesses:
            continue
        for header, name in names:
            if header not in used and any(word in name for word in words) and not _is_other_time(field, name):
                guesses[field] = header
                used.add(header)
                break
    if "sold_time" in guesses and "sold_at" not in guesses:  # one column holding date and time
        guesses["sold_at"] = guesses.pop("sold_time")
    return {field: guesses[field] for field in CANONICAL_FIELDS if field in guesses}


def _is_other_time(field: str, name: str) -> bool:
    """'Date/Time' and 'Timestamp' are a date and time in one column, not a time alone."""
    return field == "sold_time" and ("date" in name or "stamp" in name)


@dataclass(frozen=True)
class LayoutGuess:
    file: str
    headers: list[str]
    signature: str
    columns: dict[str, str]
    date_style: str  # a DATE_STYLES key
    number_format: NumberFormat | None  # None: the file's values do not say (the decimal point is assumed)
    sample: Table  # the header and the first rows, for previews of other mappings
    store_tz: str
    preview: ParsedPosFile | None = None  # the first rows read through the guess, when it reads them
    preview_problem: str | None = None  # why they could not be read

    @property
    def missing(self) -> list[str]:
        return [f for f in REQUIRED_FIELDS if f not in self.columns]

    def layout(self, name: str, columns: Mapping[str, str] | None = None, *, timezone: str | None = None) -> PosLayout:
        return PosLayout(
            name,
            self.signature,
            dict(self.columns if columns is None else columns),
            DATE_STYLES[self.date_style],
            timezone,
            self.number_format,
        )

    def with_mapping(
        self,
        columns: Mapping[str, str],
        date_style: str | None = None,
        number_format: NumberFormat | None = None,
        timezone: str | None = None,
    ) -> LayoutGuess:
        """The guess as a person corrected it, with its preview read again."""
        changed = replace(
            self,
            columns={f: h for f, h in columns.items() if h},
            date_style=date_style or self.date_style,
            number_format=number_format or self.number_format,
            preview=None,
            preview_problem=None,
        )
        if changed.missing:
            labels = ", ".join(f.replace("_", " ") for f in changed.missing)
            return replace(changed, preview_problem=f"no column chosen for: {labels}")
        try:
            layout = changed.layout("preview", timezone=timezone or None)
            preview = parse_table(self.file, "", self.sample, layout, store_tz=self.store_tz)
        except UserError as exc:
            return replace(changed, preview_problem=str(exc))
        return replace(changed, preview=preview)


def guess_layout(path: str, *, store_tz: str, columns: Mapping[str, str] | None = None) -> LayoutGuess:
    """Guess the layout of the export at ``path``; ``columns`` override the guess field by field
    (an empty header clears a field)."""
    src, table = read_table(path)
    if table is None:
        raise ImportFileError(f"{src.name} is empty: it has no header row and no sales lines.")
    guessed = guess_columns(table.headers)
    if columns:
        unknown = sorted(set(columns) - set(CANONICAL_FIELDS))
        if unknown:
            raise ValidationError(f"unknown field(s) {', '.join(unknown)}; fields: {', '.join(CANONICAL_FIELDS)}")
        present = {normalize_header(h): h for h in table.headers}
        for field, header in columns.items():
            if header and normalize_header(header) not in present:
                raise ValidationError(f"{src.name} has no column {header!r}; columns: {', '.join(table.headers)}")
            if header:
                guessed = {f: h for f, h in guessed.items() if normalize_header(h) != normalize_header(header)}
                guessed[field] = present[normalize_header(header)]
            else:
                guessed.pop(field, None)
    position = {h: i for i, h in enumerate(table.headers)}
    numbers = number_format_of(
        table.rows, (position.get(guessed.get("quantity", "")), position.get(guessed.get("amount", "")))
    )
    style = _date_style(table, position.get(guessed.get("sold_at", "")), position.get(guessed.get("sold_time", "")))
    sample = Table(table.headers, table.header_line, table.rows[:PREVIEW_ROWS])
    guess = LayoutGuess(
        src.name, table.headers, header_signature(table.headers), guessed, style, numbers, sample, store_tz
    )
    return guess.with_mapping(guessed)


def _date_style(table: Table, day: int | None, clock: int | None) -> str:
    """The first date style that reads every one of the first rows' dates (US when several do)."""
    if day is None:
        return "us"
    samples = [
        cell_text(row[day]) + (f" {cell_text(row[clock])}" if clock is not None and clock < len(row) else "")
        for _, row in table.rows[:50]
        if day < len(row) and not isinstance(row[day], datetime)
    ]
    for style in ("us", "iso", "day-first"):
        if all(_reads(text, DATE_STYLES[style]) for text in samples):
            return style
    return "us"


def _reads(text: str, formats: Sequence[str]) -> bool:
    try:
        datetime.fromisoformat(text)
        return True
    except ValueError:
        pass
    for fmt in formats:
        try:
            datetime.strptime(" ".join(text.split()), fmt)
            return True
        except ValueError:
            continue
    return False
