"""Labels tab: choose what to print (scanned tags, a manifest, a transfer, a category, price
changes), see every label before it prints with lab problems in red, then preview, print on
the configured printer, or save a PDF. Printing and PDFs run off the GUI thread."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter
from PySide6.QtPrintSupport import QPrinter, QPrinterInfo, QPrintPreviewDialog
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from backoffice.db.engine import Database
from backoffice.errors import UserError
from backoffice.labels.fields import potency, price, total_thc
from backoffice.labels.render import RenderResult, page_layout
from backoffice.labels.templates import TEMPLATES, get_template
from backoffice.labels.testprint import render_test_print
from backoffice.services import labels, transfers
from backoffice.services.actor import Actor, Permission
from backoffice.services.changes import Changes
from backoffice.services.labels import LabelKind, LabelLine, LabelRun, LabOverride, PrintJob, Selection, Source
from ui import messages
from ui.commands import Job, QueryRunner, run_command
from ui.context import AppContext
from ui.models.simple_table import Col, RowTableModel
from ui.scanner import mark_scan_field
from ui.settings_dialog import PRINTER_KEY
from ui.tabs.base import ScanFeedback, Tab
from ui.widgets.table_view import RowTableView

FLAG_COLOUR = "#c62828"
SOURCES = [(Source.TAGS, "Scanned tags"), (Source.MANIFEST, "Received manifest"), (Source.TRANSFER, "Transfer"),
           (Source.CATEGORY, "Category"), (Source.PRICE_CHANGED, "Price changed since last print")]
KINDS = [(LabelKind.BIN, "Bin labels (barcode: METRC tag, one per package)"),
         (LabelKind.SHELF, "Shelf labels (barcode: SKU, one per item)")]


def _flag(line: LabelLine) -> str | None:
    return FLAG_COLOUR if line.lab_problem else None


class LabelsTab(Tab):
    title = "Labels"
    permission = Permission.PRINT_LABELS

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.tags: list[str] = []
        self.run: LabelRun | None = None
        self._selections = QueryRunner(self)
        self.model: RowTableModel[LabelLine] = RowTableModel([
            Col(header, value, colour=_flag) for header, value in (
                ("Barcode", lambda ln: ln.label.barcode_value), ("Product", lambda ln: ln.label.product_name),
                ("Brand", lambda ln: ln.label.brand), ("Category", lambda ln: ln.label.category),
                ("Potency", lambda ln: potency(ln.label)), ("Total THC", lambda ln: total_thc(ln.label)),
                ("Price", lambda ln: price(ln.label)), ("Where", lambda ln: ln.location),
            )
        ] + [Col("Lab", lambda ln: ln.lab_problem or ln.label.lab_state, colour=_flag, tooltip=lambda ln: ln.lab_problem)])
        self.view = RowTableView(self.model, stretch_column=1)
        self.view.setObjectName("labelList")
        self.view.setSelectionMode(RowTableView.SelectionMode.ExtendedSelection)
        self.view.setSortingEnabled(False)  # the list shows the order labels come off the printer
        self.view.proxy.sort(-1)

        self.source_box = QComboBox()
        self.source_box.setObjectName("labelSource")
        for source, text in SOURCES:
            self.source_box.addItem(text, source)
        self.kind_box = QComboBox()
        self.kind_box.setObjectName("labelKind")
        for kind, text in KINDS:
            self.kind_box.addItem(text, kind)
        self.tag_entry = QLineEdit()
        self.tag_entry.setObjectName("labelTagEntry")
        self.tag_entry.setPlaceholderText("Scan or type a tag, then Enter")
        mark_scan_field(self.tag_entry)  # handles its own Enter: typed and scanned tags both land here
        self.remove_button = QPushButton("Remove selected")
        self.clear_button = QPushButton("Clear list")
        self.manifest_box, self.transfer_box, self.category_box = QComboBox(), QComboBox(), QComboBox()
        self.manifest_box.setEditable(True)
        self.manifest_box.setObjectName("labelManifest")
        self.transfer_box.setObjectName("labelTransfer")
        self.category_box.setObjectName("labelCategory")
        self.value_stack = QStackedWidget()
        tags_page = QWidget()
        tags_row = QHBoxLayout(tags_page)
        tags_row.setContentsMargins(0, 0, 0, 0)
        for widget in (self.tag_entry, self.remove_button, self.clear_button):
            tags_row.addWidget(widget)
        price_note = QLabel("Items whose price changed since their labels were last printed.")
        for page in (tags_page, self.manifest_box, self.transfer_box, self.category_box, price_note):
            self.value_stack.addWidget(page)
        self.show_button = QPushButton("Show labels")
        self.show_button.setObjectName("showLabels")

        self.template_box = QComboBox()
        self.template_box.setObjectName("labelTemplate")
        for template in TEMPLATES.values():
            self.template_box.addItem(template.description, template.name)
        self.start_spin = QSpinBox()
        self.start_spin.setObjectName("labelStart")
        self.start_spin.setToolTip("Labels already peeled off the first sheet: printing starts after them, "
                                   "row by row from the top left.")
        self.printer_label = QLabel()
        self.printer_label.setStyleSheet("color: gray")
        self.summary = QLabel("Scan package tags to add them, or choose another source.")
        self.summary.setObjectName("labelSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.preview_button = QPushButton("Print preview…")
        self.print_button = QPushButton("Print")
        self.print_button.setObjectName("printLabels")
        self.pdf_button = QPushButton("Save as PDF…")
        self.pdf_button.setObjectName("saveLabelsPdf")
        self.test_button = QPushButton("Test print…")
        self.test_button.setToolTip("A page of label outlines with a sample label: print it on plain paper and hold "
                                    "it against the label stock to check alignment before spending labels.")

        choose = QFormLayout()
        source_row = QHBoxLayout()
        source_row.addWidget(self.source_box)
        source_row.addWidget(self.value_stack, 1)
        source_row.addWidget(self.show_button)
        choose.addRow("Print", source_row)
        stock_row = QHBoxLayout()
        for widget in (self.kind_box, QLabel("  on"), self.template_box, QLabel("  skip used labels on the first sheet"),
                       self.start_spin):
            stock_row.addWidget(widget)
        stock_row.addStretch(1)
        stock_row.addWidget(self.printer_label)
        choose.addRow("As", stock_row)
        buttons = QHBoxLayout()
        for button in (self.preview_button, self.print_button, self.pdf_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.test_button)
        layout = QVBoxLayout(self)
        layout.addLayout(choose)
        layout.addWidget(self.summary)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        for col, width in ((0, 200), (2, 120), (3, 140), (4, 190), (5, 120), (6, 70), (7, 100), (8, 170)):
            self.view.setColumnWidth(col, width)

        self.source_box.currentIndexChanged.connect(self._source_changed)
        self.kind_box.currentIndexChanged.connect(lambda _: self._reselect())
        self.template_box.currentIndexChanged.connect(lambda _: self._template_changed())
        self.tag_entry.returnPressed.connect(self._typed_tag)
        self.remove_button.clicked.connect(self.remove_selected)
        self.clear_button.clicked.connect(self.clear_tags)
        self.show_button.clicked.connect(self.show_labels)
        self.preview_button.clicked.connect(self.preview)
        self.print_button.clicked.connect(self.print_labels)
        self.pdf_button.clicked.connect(self.save_pdf)
        self.test_button.clicked.connect(self.test_print)
        for box in (self.manifest_box, self.transfer_box, self.category_box):
            box.activated.connect(lambda _: self.show_labels())
        self._template_changed()
        self._source_changed()

    # --- choosing ------------------------------------------------------------------------------

    @property
    def source(self) -> Source:
        return Source(self.source_box.currentData())

    @property
    def kind(self) -> LabelKind:
        return LabelKind(self.kind_box.currentData())

    @property
    def template(self) -> str:
        return str(self.template_box.currentData())

    def _load_choices(self) -> None:
        """Fill the pick list of the current source only: the others load when chosen."""
        db, source = self.ctx.db, self.source
        if source is Source.MANIFEST:
            box, values = self.manifest_box, [(n, n) for n in labels.recent_manifests(db)]
        elif source is Source.TRANSFER:
            box, values = self.transfer_box, [
                (f"#{t.id} {t.from_location} → {t.to_location} · {t.status.value} · {len(t.lines)} packages", str(t.id))
                for t in transfers.list_transfers(db)]
        elif source is Source.CATEGORY:
            box, values = self.category_box, [(c, c) for c in labels.list_categories(db)]
        else:
            return
        keep = box.currentText()
        box.blockSignals(True)
        box.clear()
        for text, data in values:
            box.addItem(text, data)
        if keep:
            box.setCurrentText(keep)
        box.blockSignals(False)

    def _selection(self) -> Selection:
        source = self.source
        if source is Source.TAGS:
            return Selection(source, tuple(self.tags))
        if source is Source.PRICE_CHANGED:
            return Selection(source)
        box = {Source.MANIFEST: self.manifest_box, Source.TRANSFER: self.transfer_box,
               Source.CATEGORY: self.category_box}[source]
        data = box.currentData() if box.currentText() == box.itemText(box.currentIndex()) else None
        return Selection(source, (str(data if data is not None else box.currentText()),))

    def _source_changed(self) -> None:
        self.value_stack.setCurrentIndex(self.source_box.currentIndex())
        self.show_button.setVisible(self.source is not Source.TAGS)
        self._load_choices()
        if self.source is Source.TAGS:
            self._show_tags()
        elif self.source is Source.PRICE_CHANGED:
            self.show_labels()  # nothing more to choose
        else:
            self._show(None)

    def _template_changed(self) -> None:
        template = get_template(self.template)
        self.start_spin.setRange(0, template.per_page - 1)
        self.start_spin.setEnabled(template.is_sheet)
        printer = str(self.ctx.settings.value(PRINTER_KEY, "") or "") or "system default"
        self.printer_label.setText(f"Printer: {printer}")

    def _reselect(self) -> None:
        if self.source is Source.TAGS:
            self._show_tags()
        elif self.run is not None:
            self.show_labels()

    def show_labels(self) -> None:
        db, actor, selection, kind = self.ctx.db, self.ctx.actor, self._selection(), self.kind
        self._selections.run(lambda job: labels.select_labels(db, actor, selection, kind=kind), self._show,
                             on_error=self._selection_failed, progress="Finding labels")

    def _selection_failed(self, exc: BaseException) -> None:
        if not isinstance(exc, UserError):
            messages.exception(exc, parent=self)
            return
        self._show(None)
        self.summary.setText(f"<span style='color:{FLAG_COLOUR}'>{exc}</span>")
        messages.error(str(exc))

    def _show(self, run: LabelRun | None) -> None:
        self.run = run
        self.model.set_rows(run.lines if run else [])
        has_lines = bool(run and run.lines)
        for button in (self.preview_button, self.print_button, self.pdf_button):
            button.setEnabled(has_lines)
        if run is None:
            self.summary.setText("Scan package tags to add them." if self.source is Source.TAGS
                                 else "Choose, then Show labels.")
            return
        parts = [f"<b>{len(run.lines)} {run.kind.value} label{'s' if len(run.lines) != 1 else ''}</b> "
                 f"for {run.source}"]
        if run.flagged:
            parts.append(f"<span style='color:{FLAG_COLOUR}'>{len(run.flagged)} not cleared by lab results (red): "
                         "they print only with a manager's confirmation</span>")
        if run.left_out:
            parts.append(f"{len(run.left_out)} left out: " + "; ".join(run.left_out[:3])
                         + (" …" if len(run.left_out) > 3 else ""))
        self.summary.setText(" · ".join(parts))

    # --- the scanned list ---------------------------------------------------------------------

    def _show_tags(self) -> None:
        if not self.tags:
            self._show(None)
            return
        try:
            self._show(labels.select_labels(self.ctx.db, self.ctx.actor, Selection(Source.TAGS, tuple(self.tags)),
                                            kind=self.kind))
        except UserError as exc:
            self._selection_failed(exc)

    def _typed_tag(self) -> None:
        code = self.tag_entry.text().strip()
        self.tag_entry.clear()
        if code:
            feedback = self.add_tag(code)
            (messages.ok if feedback.ok else messages.error)(feedback.message)

    def handle_scan(self, code: str) -> ScanFeedback | None:
        if self.source is not Source.TAGS:
            self.source_box.setCurrentIndex(0)  # a scan here means: print this package's label
        return self.add_tag(code)

    def add_tag(self, code: str) -> ScanFeedback:
        if code in self.tags:
            return ScanFeedback(False, f"{code} is already in the print list.")
        try:
            run = labels.select_labels(self.ctx.db, self.ctx.actor, Selection(Source.TAGS, (*self.tags, code)),
                                       kind=self.kind)
        except UserError as exc:
            return ScanFeedback(False, str(exc))
        note = next((n for n in run.left_out if n.startswith(code)), None)
        if note is not None:
            return ScanFeedback(False, f"Not added: {note}.")
        self.tags.append(code)
        self._show(run)
        line = next((ln for ln in run.lines if ln.package_id is not None and ln.label.tag == code), None)
        if line is not None and line.lab_problem:
            return ScanFeedback(True, f"Added {code}, but {line.lab_problem}: it prints only with a manager's "
                                      "confirmation.")
        return ScanFeedback(True, f"Added {code} to the print list ({len(self.tags)} tags).")

    def remove_selected(self) -> None:
        rows = [line for line in self.view.selected_rows() if isinstance(line, LabelLine)]
        if self.kind is LabelKind.SHELF and self.tags:  # a shelf label stands for every scanned package of its item
            skus = {line.label.sku for line in rows}
            bins = labels.select_labels(self.ctx.db, self.ctx.actor, Selection(Source.TAGS, tuple(self.tags)))
            chosen = {line.label.tag for line in bins.lines if line.label.sku in skus}
        else:
            chosen = {line.label.tag for line in rows}
        self.tags = [tag for tag in self.tags if tag not in chosen]
        self._show_tags()

    def clear_tags(self) -> None:
        self.tags = []
        self._show_tags()

    def refresh(self, changes: Changes) -> None:
        if changes & (Changes.INVENTORY | Changes.TRANSFERS | Changes.MANIFESTS | Changes.LABELS | Changes.SETTINGS):
            self._load_choices()
            self._template_changed()
            self._reselect()

    # --- printing ------------------------------------------------------------------------------

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
            raise UserError(f"printer {name} is not available on this computer; choose the label printer in "
                            "Settings, or use Save as PDF")
        if real and not available:
            raise UserError("no printer is set up on this computer; set up the label printer, or use Save as PDF")
        if name in available:
            printer.setPrinterName(name)
        template = get_template(self.template)
        printer.setFullPage(True)
        if not printer.setPageLayout(page_layout(template)):
            raise UserError(f"printer {printer.printerName()} does not take {template.description} pages; "
                            "check its media settings")
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
                painted.append(labels.render(painter, self.ctx.actor, run, template, start_position=start,
                                             override=override))
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
                result = labels.render(painter, actor, run, template, start_position=start, override=override,
                                       progress=lambda done, total: job.progress(f"Label {done} of {total}",
                                                                                 done / total),
                                       cancel=job.cancelled)
                if result.cancelled and printer.abort():  # Cancel means nothing prints, if the driver allows
                    return PrintJob(None, template, 0, 0, cancelled=True)
            finally:
                if painter.isActive():
                    painter.end()
            return labels.log_print(db, actor, run, template, labels=result.labels, pages=result.pages,
                                    override=override, destination=destination)

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
        run_command(self, self.ctx, lambda job: labels.save_pdf(
            db, actor, run, template, path, start_position=start, override=override, cancel=job.cancelled,
            progress=lambda done, total: job.progress(f"Label {done} of {total}", done / total)), self._done,
            progress=f"Saving {len(run.lines)} labels")

    def _log(self, run: LabelRun, result: RenderResult, override: LabOverride | None, destination: str) -> None:
        db, actor, template = self.ctx.db, self.ctx.actor, self.template
        run_command(self, self.ctx, lambda job: labels.log_print(
            db, actor, run, template, labels=result.labels, pages=result.pages, override=override,
            destination=destination), self._done)

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
        listed = "".join(f"<li>{line.label.reference} · {line.label.product_name}: {line.lab_problem}</li>"
                         for line in flagged[:10])
        more = f"<li>and {len(flagged) - 10} more</li>" if len(flagged) > 10 else ""
        self.details = QLabel(f"<b>{len(flagged)} of {len(run.lines)} labels are for product its lab results do "
                              f"not clear for sale:</b><ul>{listed}{more}</ul>")
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
        self.confirm_button = buttons.addButton("Print them (I confirm)" if self.own else "Print them (manager confirms)",
                                                QDialogButtonBox.ButtonRole.AcceptRole)
        self.leave_button = buttons.addButton("Leave them out", QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        for button in buttons.buttons():
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
            self.override = labels.lab_override(self.db, self.actor, "" if self.own else self.manager.text(),
                                                "" if self.own else self.pin.text())
        except UserError as exc:
            self.message.setText(str(exc))
            self.pin.clear()
            self.pin.setFocus()
            return
        self.accept()
