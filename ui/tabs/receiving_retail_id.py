"""Retail ID at receiving: "Fetch unit codes" caches every unit code METRC lists for the open
manifest's packages (so a unit's QR code resolves offline later) and marks the packages
without codes when the store's state requires them. The flags are shown on the lines and in
the instruction panel, and accepting or finishing with a flagged package asks first (the
words come from ``receiving.retail_id_warning``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMessageBox, QPushButton

from backoffice.services import receiving, retail_id
from backoffice.services.event_words import plural
from ui import messages
from ui.commands import run_command

if TYPE_CHECKING:
    from ui.tabs.receiving import ReceivingTab


class RetailIdFlow:
    def __init__(self, tab: ReceivingTab) -> None:
        self.tab, self.ctx = tab, tab.ctx
        self.button = QPushButton("Fetch unit codes")
        self.button.setObjectName("fetchUnitCodes")
        self.button.setToolTip("Save the Retail ID unit codes METRC lists for this manifest's packages")
        self.button.clicked.connect(self.fetch)
        self.available = False  # the store is connected to METRC through API v2 (Retail ID is v2 only)
        self._flagged: dict[int, frozenset[str]] = {}  # manifest id → flagged tags, from the last fetch

    def flagged(self) -> frozenset[str]:
        view = self.tab.current
        return self._flagged.get(view.id, frozenset()) if view is not None else frozenset()

    def enable(self) -> None:
        view = self.tab.current
        self.button.setEnabled(self.available and view is not None and view.open)
        self.tab.line_model.set_retail_id_flagged(self.flagged())

    def fetch(self) -> None:
        view = self.tab.current
        if view is None:
            return
        db, actor, manifest_id = self.ctx.db, self.ctx.actor, view.id
        run_command(
            self.tab,
            self.ctx,
            lambda job: retail_id.fetch_manifest_codes(db, actor, manifest_id),
            lambda result: self._fetched(manifest_id, result),
            progress=f"Fetching Retail ID unit codes of manifest {view.manifest_number}",
            network=True,
        )

    def _fetched(self, manifest_id: int, result: retail_id.ManifestCodes) -> None:
        self._flagged[manifest_id] = frozenset(result.flagged)
        self.enable()
        saved = f"Manifest {result.manifest_number}: {plural(result.codes, 'unit code')} saved."
        if result.flagged:
            text = (
                f"{saved} {plural(len(result.flagged), 'package')} with {receiving.RETAIL_ID_MISSING}: "
                f"{', '.join(result.flagged)}."
            )
            self.tab.steps.show_instruction(text)
            messages.warning(text)
            return
        bare = (
            f" {plural(len(result.without_codes), 'package')} without codes (optional here)."
            if result.without_codes
            else ""
        )
        messages.ok(saved + bare)

    def confirm(self, title: str, accepting: Sequence[str]) -> bool:
        """True when nothing flagged is being accepted, or the person goes ahead knowingly."""
        warning = receiving.retail_id_warning(self.flagged(), accepting)
        if warning is None:
            return True
        answer = QMessageBox.warning(
            self.tab,
            title,
            f"{warning}\n\nAccept them anyway?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes
