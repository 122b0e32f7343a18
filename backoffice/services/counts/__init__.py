"""Cycle counts: a slice of inventory counted against the ledger, the POS and METRC.

- ``snapshot``: ``start_count`` (or ``start_count_with_metrc``) freezes what each system
  believes at one instant (``snapshot_at``): this store's ledger, a POS inventory export and
  METRC's active packages.
- ``entries``: ``record_count`` appends a counted quantity for a tag; ``import_sheet`` keys in
  a printed sheet; ``tag_status`` is a scan's feedback.
- ``variance``: ``variance_lines`` compares counted against each system, with the rule of
  ``backoffice.domain.variance``.
- ``submit``: freezes the count and stores its accuracy figures.

Callers use this package's names (``counts.start_count(...)``); the modules are its parts.
"""

from backoffice.domain.variance import Accuracy
from backoffice.services.counts.entries import MAX_COUNT, SheetImport, TagCount, import_sheet, record_count, tag_status
from backoffice.services.counts.info import CountInfo, get_count, list_counts
from backoffice.services.counts.scope import Scope, ScopeChoices, scope_choices
from backoffice.services.counts.sheet import SheetLine, sheet_lines
from backoffice.services.counts.snapshot import start_count, start_count_with_metrc
from backoffice.services.counts.submit import submit
from backoffice.services.counts.variance import LineStatus, VarianceLine, accuracy_of, variance_lines

__all__ = [
    "MAX_COUNT", "Accuracy", "CountInfo", "LineStatus", "Scope", "ScopeChoices", "SheetImport", "SheetLine", "TagCount",
    "VarianceLine", "accuracy_of", "get_count", "import_sheet", "list_counts", "record_count", "scope_choices",
    "sheet_lines", "start_count", "start_count_with_metrc", "submit", "tag_status", "variance_lines",
]
