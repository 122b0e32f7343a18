"""What a service call changed, so each screen refreshes only what it shows
(the idea of Anki's OpChanges)."""

from __future__ import annotations

import enum


class Changes(enum.Flag):
    NONE = 0
    INVENTORY = enum.auto()
    MANIFESTS = enum.auto()
    TRANSFERS = enum.auto()
    COUNTS = enum.auto()
    SALES = enum.auto()
    FINDINGS = enum.auto()
    OUTBOX = enum.auto()
    USERS = enum.auto()
    LABELS = enum.auto()
    SETTINGS = enum.auto()
    AUDIT = enum.auto()
