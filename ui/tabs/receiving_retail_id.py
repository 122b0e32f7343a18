"""Retail ID at receiving: "Fetch unit codes" caches every unit code METRC lists for the open
manifest's packages (so a unit's QR code resolves offline later); the packages without codes
where the store's state requires them come back with the manifest (``unit_codes_missing``,
kept in the store, so they outlive this window). The flags are shown on the lines and in the
instruction panel, and accepting or finishing with a flagged package asks first (the words
come from ``receiving.retail_id_warning``); the service refuses it unless that was answered
Yes."""

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

    def flagged(self) -> frozenset[str]:
        view = self.tab.current
        return view.unit_codes_missing if view is not None and view.open else frozenset()

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
            self._fetched,
            progress=f"Fetching Retail ID unit codes of manifest {view.manifest_number}",
            network=True,
        )

    def _fetched(self, result: retail_id.ManifestCodes) -> None:
        # the flags come with the manifest, reloaded on the announced change
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

    def confirm(self, title: str, accepting: Sequence[str], flagged: frozenset[str] | None = None) -> bool | None:
        """Ask before accepting a flagged package (by default, flagged on the open manifest).
        None: the person said No. Otherwise what to pass as ``without_unit_codes``: True when
        they go ahead knowingly, False when nothing flagged is being accepted (so a package
        flagged meanwhile is still refused by the service, not accepted unasked)."""
        warning = receiving.retail_id_warning(self.flagged() if flagged is None else flagged, accepting)
        if warning is None:
            return False
        answer = QMessageBox.warning(
            self.tab,
            title,
            f"{warning}\n\nAccept them anyway?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return True if answer == QMessageBox.StandardButton.Yes else None
