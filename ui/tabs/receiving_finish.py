"""The manifest-level steps of the Receiving tab, each run off the GUI thread: finish the
receiving (where to, with the bins), then save the receive sheet and bin labels (the choice
stays open until the person closes it), and check afterwards that METRC agrees."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox

from backoffice.domain.enums import ManifestLineState
from backoffice.errors import UserError
from backoffice.services import receiving, receiving_metrc, settings
from backoffice.services.receiving import FinishResult
from ui import messages
from ui.commands import Job, run_command, run_query
from ui.errors import show_error
from ui.tabs.receiving_dialogs import FinishDialog, ReceivedDialog

if TYPE_CHECKING:
    from ui.tabs.receiving import ReceivingTab

BIN_LABEL_TEMPLATE = "thermal-2x1"


class FinishFlow:
    def __init__(self, tab: ReceivingTab) -> None:
        self.tab, self.ctx = tab, tab.ctx

    def finish(self) -> None:
        tab = self.tab
        if tab.current is None:
            return
        try:
            view = receiving.ready_to_finish(self.ctx.db, self.ctx.actor, tab.current.id)
        except UserError as exc:
            show_error(tab, exc)
            return
        accepting = [line.tag for line in view.lines if line.state is ManifestLineState.ACCEPTED]
        knowingly = tab.retail_ids.confirm("Finish receiving", accepting, view.unit_codes_missing)
        if knowingly is None:
            return
        db, actor = self.ctx.db, self.ctx.actor

        def bins_in(location: str) -> dict[str, str]:
            try:
                return receiving.suggest_bins(db, actor, view.id, location)
            except UserError:
                return {}

        dialog = FinishDialog(self.ctx, view, tab, bins_in)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        location = dialog.location.currentText()
        run_command(
            tab,
            self.ctx,
            lambda job: receiving.finish(db, actor, view.id, location=location, without_unit_codes=knowingly),
            self._finished,
            progress=f"Receiving manifest {view.manifest_number}",
        )

    def _finished(self, result: FinishResult) -> None:
        self.tab.show_received.setChecked(True)  # the received manifest stays in view, with its bins
        messages.ok(
            f"Manifest {result.manifest_number} received into {result.location}: {len(result.received)} "
            f"package(s), {result.rejected} rejected. Key the receive sheet into METRC."
        )
        dialog = ReceivedDialog(result, self.tab)
        dialog.sheet_button.clicked.connect(lambda: self.save_report(result.manifest_id, result.manifest_number))
        dialog.labels_button.clicked.connect(lambda: self.save_bin_labels(result.manifest_number))
        dialog.exec()

    def save_report(self, manifest_id: int, manifest_number: str) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self.tab,
            "Save receiving report",
            str(Path.home() / f"receiving-{manifest_number}.pdf"),
            "PDF files (*.pdf)",
        )
        if not path:
            return
        from backoffice.exporters.receiving_report import ReportResult, export_receiving_report

        db, actor = self.ctx.db, self.ctx.actor

        def saved(result: ReportResult) -> None:
            messages.ok(f"Receiving report saved: {result.path} ({result.pages} page(s)).")

        run_query(
            self.tab,
            lambda job: export_receiving_report(db, actor, manifest_id, path),
            saved,
            progress="Saving the receiving report",
        )

    def save_bin_labels(self, manifest_number: str) -> None:
        from backoffice.services import labels

        path, _ = QFileDialog.getSaveFileName(
            self.tab, "Save bin labels", str(Path.home() / f"bins-{manifest_number}.pdf"), "PDF files (*.pdf)"
        )
        if not path:
            return
        db, actor = self.ctx.db, self.ctx.actor
        try:
            run = labels.select_labels(db, actor, labels.Selection(labels.Source.MANIFEST, (manifest_number,)))
        except UserError as exc:
            show_error(self.tab, exc)
            return
        cleared = run.without_flagged()  # labels for product not cleared for sale need a manager: Labels tab
        left_out = len(run.lines) - len(cleared.lines)

        def saved(job: labels.PrintJob) -> None:
            extra = (
                f" {left_out} left out (lab results not cleared): print them from the Labels tab with a manager."
                if left_out
                else ""
            )
            (messages.warning if left_out else messages.ok)(f"{job.labels} bin label(s) saved to {path}.{extra}")

        def save(job: Job) -> labels.PrintJob:
            return labels.save_pdf(db, actor, cleared, BIN_LABEL_TEMPLATE, path, cancel=job.cancelled)

        run_command(self.tab, self.ctx, save, saved, progress="Saving bin labels")

    def check_metrc(self) -> None:
        view = self.tab.current
        if view is None:
            return
        db, actor, manifest_id = self.ctx.db, self.ctx.actor, view.id
        if settings.read(db, settings.METRC_BASE_URL):
            from backoffice.services import metrc_connection

            def ask(job: Job) -> receiving_metrc.MetrcCheck:
                return receiving_metrc.check_metrc(
                    db, actor, manifest_id, metrc_connection.fetch_active_packages(db, actor)
                )

            run_command(
                self.tab, self.ctx, ask, self._checked, progress="Asking METRC for its active packages", network=True
            )
            return
        path, _ = QFileDialog.getOpenFileName(
            self.tab, "METRC active packages (JSON export)", str(Path.home()), "JSON (*.json)"
        )
        if not path:
            return

        def from_file(job: Job) -> receiving_metrc.MetrcCheck:
            from backoffice.importers import metrc_packages

            return receiving_metrc.check_metrc(db, actor, manifest_id, metrc_packages.read_json(Path(path)))

        run_command(self.tab, self.ctx, from_file, self._checked, progress="Checking METRC's active packages")

    def _checked(self, check: receiving_metrc.MetrcCheck) -> None:
        if check.agrees:
            closed = " The receive sheet is closed in the METRC outbox." if check.outbox_closed else ""
            QMessageBox.information(
                self.tab,
                "METRC agrees",
                f"METRC shows manifest {check.manifest_number} as "
                f"received here: {check.accepted} accepted, "
                f"{check.rejected} rejected.{closed}",
            )
            return
        shown = "\n".join(f"• {p}" for p in check.problems[:15])
        more = f"\n… and {len(check.problems) - 15} more" if len(check.problems) > 15 else ""
        QMessageBox.warning(
            self.tab,
            "METRC differs",
            f"METRC differs from manifest {check.manifest_number} in "
            f"{len(check.problems)} package(s):\n\n{shown}{more}",
        )
