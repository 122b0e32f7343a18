"""The printing half of the Labels tab: label stock and printer, print preview, printing off the
GUI thread, PDFs, the alignment test print, and the manager's confirmation of labels whose lab
results do not clear them."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QPainter
from PySide6.QtPrintSupport import QPrinter, QPrinterInfo, QPrintPreviewDialog
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from backoffice.db.engine import Database
from backoffice.errors import UserError
from backoffice.labels.render import RenderResult, page_layout
from backoffice.labels.templates import TEMPLATES, get_template
from backoffice.labels.testprint import render_test_print
from backoffice.services import labels
from backoffice.services.actor import Actor, Permission
from backoffice.services.labels import LabelRun, LabOverride, PrintJob
from ui import messages
from ui.commands import Job, run_command
from ui.context import AppContext
from ui.scanner import mark_scan_field
from ui.settings_dialog import PRINTER_KEY
from ui.tabs.base import Tab

FLAG_COLOUR = "#c62828"


class LabelPrintingTab(Tab):
    """What the Labels tab prints on: the label stock, the printer, and preview, print, PDF and test
    print of ``self.run``, the labels the subclass chose. The subclass lays these widgets out."""

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.run: LabelRun | None = None
        self.template_box = QComboBox()
        self.template_box.setObjectName("labelTemplate")
        for template in TEMPLATES.values():
            self.template_box.addItem(template.description, template.name)
        self.start_spin = QSpinBox()
        self.start_spin.setObjectName("labelStart")
        self.start_spin.setToolTip(
            "Labels already peeled off the first sheet: printing starts after them, row by row from the top left."
        )
        self.printer_label = QLabel()
        self.printer_label.setStyleSheet("color: gray")
        self.preview_button = QPushButton("Print preview…")
        self.print_button = QPushButton("Print")
        self.print_button.setObjectName("printLabels")
        self.pdf_button = QPushButton("Save as PDF…")
        self.pdf_button.setObjectName("saveLabelsPdf")
        self.test_button = QPushButton("Test print…")
        self.test_button.setToolTip(
            "A page of label outlines with a sample label: print it on plain paper and hold "
            "it against the label stock to check alignment before spending labels."
        )
        self.template_box.currentIndexChanged.connect(lambda _: self._template_changed())
        self.preview_button.clicked.connect(self.preview)
        self.print_button.clicked.connect(self.print_labels)
        self.pdf_button.clicked.connect(self.save_pdf)
        self.test_button.clicked.connect(self.test_print)

    @property
    def template(self) -> str:
        return str(self.template_box.currentData())

    def _template_changed(self) -> None:
        template = get_template(self.template)
        self.start_spin.setRange(0, template.per_page - 1)
        self.start_spin.setEnabled(template.is_sheet)
        printer = str(self.ctx.settings.value(PRINTER_KEY, "") or "") or "system default"
        self.printer_label.setText(f"Printer: {printer}")

    def _confirmed_run(self) -> tuple[LabelRun, LabOverride | None] | None:
        """The run to print and, for flagged labels, a manager's confirmation; None if the user stops."""
        run = self.run
        if run is None or not run.lines:
            return None
        if not run.flagged:
            return run, None
        dialog = LabOverrideDialog(self.ctx.db, self.ctx.actor, run, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        if dialog.override is not None:
            return run, dialog.override
        kept = run.without_flagged()
        if not kept.lines:
            messages.error("Nothing left to print: every label was for product not cleared for sale.")
            return None
        return kept, None

    def _printer(self, *, real: bool) -> QPrinter:
        """A printer set up for the template's page; ``real``: the configured device must exist."""
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        name = str(self.ctx.settings.value(PRINTER_KEY, "") or "")
        available = QPrinterInfo.availablePrinterNames()
        if real and name and name not in available:
            raise UserError(
                f"printer {name} is not available on this computer; choose the label printer in "
                "Settings, or use Save as PDF"
            )
        if real and not available:
            raise UserError("no printer is set up on this computer; set up the label printer, or use Save as PDF")
        if name in available:
            printer.setPrinterName(name)
        template = get_template(self.template)
        printer.setFullPage(True)
        if not printer.setPageLayout(page_layout(template)):
            raise UserError(
                f"printer {printer.printerName()} does not take {template.description} pages; check its media settings"
            )
        return printer

    def preview(self) -> None:
        chosen = self._confirmed_run()
        if chosen is None:
            return
        run, override = chosen
        try:
            printer = self._printer(real=False)
        except UserError as exc:
            messages.exception(exc, parent=self)
            return
        template, start = self.template, self.start_spin.value()
        painted: list[RenderResult] = []
        failures: list[BaseException] = []

        def paint(device: QPrinter) -> None:
            painter = QPainter(device)
            try:
                painted.append(
                    labels.render(painter, self.ctx.actor, run, template, start_position=start, override=override)
                )
            except UserError as exc:
                failures.append(exc)
            finally:
                painter.end()

        dialog = QPrintPreviewDialog(printer, self)
        dialog.setObjectName("labelPreview")
        dialog.setWindowTitle(f"Labels · {run.source}")
        dialog.paintRequested.connect(paint)
        printed = dialog.exec() == QDialog.DialogCode.Accepted  # the dialog accepts once it has printed
        if failures:
            messages.exception(failures[-1], parent=self)
        elif printed and painted:
            self._log(run, painted[-1], override, _destination(printer))

    def print_labels(self) -> None:
        chosen = self._confirmed_run()
        if chosen is None:
            return
        try:
            printer = self._printer(real=True)
        except UserError as exc:
            messages.exception(exc, parent=self)
            return
        self.print_on(printer, *chosen)

    def print_on(self, printer: QPrinter, run: LabelRun, override: LabOverride | None) -> None:
        """Paint the run on ``printer`` off the GUI thread, then log what reached it."""
        db, actor, template, start = self.ctx.db, self.ctx.actor, self.template, self.start_spin.value()
        destination = _destination(printer)

        def work(job: Job) -> PrintJob:
            painter = QPainter()
            if not painter.begin(printer):
                raise UserError(f"could not start printing on {destination}; check that the printer is on and ready")
            try:
                result = labels.render(
                    painter,
                    actor,
                    run,
                    template,
                    start_position=start,
                    override=override,
                    progress=lambda done, total: job.progress(f"Label {done} of {total}", done / total),
                    cancel=job.cancelled,
                )
                if result.cancelled and printer.abort():  # Cancel means nothing prints, if the driver allows
                    return PrintJob(None, template, 0, 0, cancelled=True)
            finally:
                if painter.isActive():
                    painter.end()
            return labels.log_print(
                db,
                actor,
                run,
                template,
                labels=result.labels,
                pages=result.pages,
                override=override,
                destination=destination,
            )

        run_command(self, self.ctx, work, self._done, progress=f"Printing {len(run.lines)} labels")

    def save_pdf(self) -> None:
        chosen = self._confirmed_run()
        if chosen is None:
            return
        run, override = chosen
        suggested = str(Path.home() / f"labels-{self.template}.pdf")
        path, _ = QFileDialog.getSaveFileName(self, "Save labels as PDF", suggested, "PDF files (*.pdf)")
        if not path:
            return
        db, actor, template, start = self.ctx.db, self.ctx.actor, self.template, self.start_spin.value()
        run_command(
            self,
            self.ctx,
            lambda job: labels.save_pdf(
                db,
                actor,
                run,
                template,
                path,
                start_position=start,
                override=override,
                cancel=job.cancelled,
                progress=lambda done, total: job.progress(f"Label {done} of {total}", done / total),
            ),
            self._done,
            progress=f"Saving {len(run.lines)} labels",
        )

    def _log(self, run: LabelRun, result: RenderResult, override: LabOverride | None, destination: str) -> None:
        db, actor, template = self.ctx.db, self.ctx.actor, self.template
        run_command(
            self,
            self.ctx,
            lambda job: labels.log_print(
                db,
                actor,
                run,
                template,
                labels=result.labels,
                pages=result.pages,
                override=override,
                destination=destination,
            ),
            self._done,
        )

    def _done(self, job: PrintJob) -> None:
        if job.job is None:
            messages.warning("Cancelled: nothing was printed or saved.")
            return
        where = f" to {job.path}" if job.path else ""
        stopped = " (stopped part-way)" if job.cancelled else ""
        override = f"; lab warning confirmed by {job.lab_override_by}" if job.lab_override_by else ""
        messages.ok(f"{job.labels} labels, {job.pages} page(s){where}{stopped}{override}.")

    def test_print(self) -> None:
        try:
            printer = self._printer(real=False)
        except UserError as exc:
            messages.exception(exc, parent=self)
            return
        template = self.template
        dialog = QPrintPreviewDialog(printer, self)
        dialog.setObjectName("labelTestPrint")
        dialog.setWindowTitle(f"Test print · {get_template(template).description}")

        def paint(device: QPrinter) -> None:
            painter = QPainter(device)
            try:
                render_test_print(painter, template)
            finally:
                painter.end()

        dialog.paintRequested.connect(paint)
        dialog.exec()


def _destination(printer: QPrinter) -> str:
    if printer.outputFormat() == QPrinter.OutputFormat.PdfFormat and printer.outputFileName():
        return f"PDF {Path(printer.outputFileName()).name}"
    return f"printer {printer.printerName() or 'default'}"


class LabOverrideDialog(QDialog):
    """Flagged labels: a manager confirms them (their own role, or their user name and PIN), or
    they are left out."""

    def __init__(self, db: Database, actor: Actor, run: LabelRun, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db, self.actor = db, actor
        self.override: LabOverride | None = None
        self.setObjectName("labOverrideDialog")
        self.setWindowTitle("Lab results do not clear these labels")
        flagged = run.flagged
        listed = "".join(
            f"<li>{line.label.reference} · {line.label.product_name}: {line.lab_problem}</li>" for line in flagged[:10]
        )
        more = f"<li>and {len(flagged) - 10} more</li>" if len(flagged) > 10 else ""
        self.details = QLabel(
            f"<b>{len(flagged)} of {len(run.lines)} labels are for product its lab results do "
            f"not clear for sale:</b><ul>{listed}{more}</ul>"
        )
        self.details.setWordWrap(True)
        self.own = actor.can(Permission.OVERRIDE_LAB_WARNING)
        self.manager = QLineEdit()
        self.manager.setObjectName("overrideManager")
        self.pin = QLineEdit()
        self.pin.setObjectName("overridePin")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMaxLength(12)
        for field in (self.manager, self.pin):
            mark_scan_field(field)  # never a tag: keep the scanner out of it
        self.message = QLabel()
        self.message.setObjectName("overrideMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {FLAG_COLOUR}")
        buttons = QDialogButtonBox()
        self.confirm_button = buttons.addButton(
            "Print them (I confirm)" if self.own else "Print them (manager confirms)",
            QDialogButtonBox.ButtonRole.AcceptRole,
        )
        self.leave_button = buttons.addButton("Leave them out", QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        for button in buttons.buttons():
            if isinstance(button, QPushButton):
                button.setAutoDefault(False)
        self.confirm_button.setDefault(True)  # Enter confirms: in the user field it moves on to the PIN
        self.confirm_button.clicked.connect(self.confirm)
        self.leave_button.clicked.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.details)
        if self.own:
            layout.addWidget(QLabel(f"As {actor.username} ({actor.role.value}) you may confirm them yourself."))
        else:
            form = QFormLayout()
            form.addRow("Manager", self.manager)
            form.addRow("PIN", self.pin)
            layout.addWidget(QLabel("A manager confirms with their user name and PIN:"))
            layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

    def confirm(self) -> None:
        if not self.own and not (self.manager.text().strip() and self.pin.text()):
            (self.pin if self.manager.text().strip() else self.manager).setFocus()
            return
        try:
            self.override = labels.lab_override(
                self.db, self.actor, "" if self.own else self.manager.text(), "" if self.own else self.pin.text()
            )
        except UserError as exc:
            self.message.setText(str(exc))
            self.pin.clear()
            self.pin.setFocus()
            return
        self.accept()
