"""Purchasing reports: sales velocity with reorder suggestions, and inventory accuracy.

Each report is a plain data object built by one read-only service call; the exporters in
``backoffice.exporters`` turn it into a workbook, and the Reports tab previews it.
"""

from backoffice.services.reports.accuracy import AccuracyReport, accuracy_report
from backoffice.services.reports.scope import Scope, ScopeChoices, scope_choices
from backoffice.services.reports.velocity import VelocityReport, velocity_report

__all__ = [
    "AccuracyReport",
    "Scope",
    "ScopeChoices",
    "VelocityReport",
    "accuracy_report",
    "scope_choices",
    "velocity_report",
]
