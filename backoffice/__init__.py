"""Vault Workstation back office: domain, services, persistence, importers, exporters, CLI.

Nothing in this package imports Qt widgets or ``ui``; the GUI sits on top of it.
"""

__version__ = "0.1.0"
