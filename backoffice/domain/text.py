"""Text that leaves the app in files people open in spreadsheets.

A cell that starts with ``= + - @`` (or a tab or carriage return) is run as a formula by
Excel, LibreOffice and Google Sheets when the file is opened: ``=HYPERLINK(…)`` from an
imported item name would become a live link. Files the app writes for people get such text
neutralised with a leading apostrophe; text bound for METRC's upload files, which must
carry it verbatim, is refused where it is typed or imported instead.
"""

from __future__ import annotations

from backoffice.errors import ValidationError

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS)


def neutralise(value: object) -> object:
    """``value`` as a CSV cell a spreadsheet shows as text (non-text values unchanged)."""
    if isinstance(value, str) and is_formula_like(value):
        return "'" + value
    return value


def check_metrc_text(text: str, what: str) -> str:
    """Refuse text METRC's upload files cannot carry safely (see the module's doc)."""
    if is_formula_like(text):
        raise ValidationError(
            f"{what} {text[:40]!r} starts with {text[0]!r}, which spreadsheets run as a formula, "
            "and METRC's upload files would carry it as is; start it with a word or a number"
        )
    if "\x00" in text:
        raise ValidationError(f"{what} holds a NUL character; type it again")
    return text
