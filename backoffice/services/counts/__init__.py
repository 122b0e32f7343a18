"""Cycle counts: a slice of inventory counted against the ledger, the POS and METRC.

- ``snapshot``: ``start_count`` (or ``start_count_with_metrc``) freezes what each system
  believes at one instant (``snapshot_at``): this store's ledger, a POS inventory export and
  METRC's active packages.
- ``entries``: ``record_count`` appends a counted quantity for a tag; ``import_sheet`` keys in
  a printed sheet; ``tag_status`` is a scan's feedback.
- ``variance``: ``variance_lines`` compares counted against each system, with the rule of
  ``backoffice.domain.variance``, and names the source out of step.
- ``causes``: why a line's sources disagree; ``metrc_fix``: correct METRC from a line (a missing
  receipt queued, or a METRC-only adjustment) without touching the store's ledger.
- ``submit``: freezes the count and stores its accuracy figures (physical and METRC agreement).

Callers use this package's names (``counts.start_count(...)``); the modules are its parts.
"""

from backoffice.domain.variance import Accuracy
from backoffice.services.counts.causes import Cause
from backoffice.services.counts.entries import (
    MAX_COUNT,
    SheetImport,
    TagCount,
    import_sheet,
    record_count,
    record_unit,
    tag_status,
)
from backoffice.services.counts.info import CountInfo, get_count, list_counts
from backoffice.services.counts.metrc_fix import (
    MetrcFixOptions,
    MetrcFixResult,
    fix_options,
    metrc_only_adjustment,
    queue_missing_receipt,
)
from backoffice.services.counts.scope import Scope, ScopeChoices, scope_choices
from backoffice.services.counts.sheet import SheetLine, sheet_lines
from backoffice.services.counts.snapshot import start_count, start_count_with_metrc
from backoffice.services.counts.submit import submit
from backoffice.services.counts.variance import (
    DIFFERS,
    LineStatus,
    MetrcAgreement,
    VarianceLine,
    accuracy_of,
    metrc_agreement_of,
    variance_lines,
)

__all__ = [
    "DIFFERS",
    "MAX_COUNT",
    "Accuracy",
    "Cause",
    "CountInfo",
    "LineStatus",
    "MetrcAgreement",
    "MetrcFixOptions",
    "MetrcFixResult",
    "Scope",
    "ScopeChoices",
    "SheetImport",
    "SheetLine",
    "TagCount",
    "VarianceLine",
    "accuracy_of",
    "fix_options",
    "get_count",
    "import_sheet",
    "list_counts",
    "metrc_agreement_of",
    "metrc_only_adjustment",
    "queue_missing_receipt",
    "record_count",
    "record_unit",
    "scope_choices",
    "sheet_lines",
    "start_count",
    "start_count_with_metrc",
    "submit",
    "tag_status",
    "variance_lines",
]
