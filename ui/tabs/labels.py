"""Labels tab: choose what to print (scanned tags, a manifest, a transfer, a category, price
changes), see every label before it prints with lab problems in red, then preview, print on
the configured printer, or save a PDF. Printing and PDFs run off the GUI thread (labels_printing)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from backoffice.errors import UserError
from backoffice.labels.fields import potency, price, total_thc
from backoffice.services import labels, retail_id, transfers
from backoffice.services.changes import Changes
from backoffice.services.labels import LabelKind, LabelLine, LabelRun, Selection, Source
from ui import messages
from ui.commands import QueryRunner
from ui.context import AppContext
from ui.models.simple_table import Col, RowTableModel
from ui.scanner import mark_scan_field, unit_code_package
from ui.tabs.base import ScanFeedback
from ui.tabs.labels_printing import FLAG_COLOUR, LabelPrintingTab
from ui.tabs.labels_printing import LabOverrideDialog as LabOverrideDialog
from ui.widgets.table_view import RowTableView

SOURCES = [
    (Source.TAGS, "Scanned tags"),
    (Source.MANIFEST, "Received manifest"),
    (Source.TRANSFER, "Transfer"),
    (Source.CATEGORY, "Category"),
    (Source.PRICE_CHANGED, "Price changed since last print"),
]
KINDS = [
    (LabelKind.BIN, "Bin labels (barcode: METRC tag, one per package)"),
    (LabelKind.SHELF, "Shelf labels (barcode: SKU, one per item)"),
]


def _flag(line: LabelLine) -> str | None:
    return FLAG_COLOUR if line.lab_problem else None


class LabelsTab(LabelPrintingTab):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.tags: list[str] = []
        self._selections = QueryRunner(self)
        self.model: RowTableModel[LabelLine] = RowTableModel(
            [
                Col(header, value, colour=_flag)
                for header, value in (
                    ("Barcode", lambda ln: ln.label.barcode_value),
                    ("Product", lambda ln: ln.label.product_name),
                    ("Brand", lambda ln: ln.label.brand),
                    ("Category", lambda ln: ln.label.category),
                    ("Potency", lambda ln: potency(ln.label)),
                    ("Total THC", lambda ln: total_thc(ln.label)),
                    ("Price", lambda ln: price(ln.label)),
                    ("Where", lambda ln: ln.location),
                )
            ]
            + [
                Col(
                    "Lab",
                    lambda ln: ln.lab_problem or ln.label.lab_state,
                    colour=_flag,
                    tooltip=lambda ln: ln.lab_problem,
                )
            ]
        )
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

        self.summary = QLabel("Scan package tags to add them, or choose another source.")
        self.summary.setObjectName("labelSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)

        choose = QFormLayout()
        source_row = QHBoxLayout()
        source_row.addWidget(self.source_box)
        source_row.addWidget(self.value_stack, 1)
        source_row.addWidget(self.show_button)
        choose.addRow("Print", source_row)
        stock_row = QHBoxLayout()
        stock_widgets: tuple[QWidget, ...] = (
            self.kind_box,
            QLabel("  on"),
            self.template_box,
            QLabel("  skip used labels on the first sheet"),
            self.start_spin,
        )
        for stock_widget in stock_widgets:
            stock_row.addWidget(stock_widget)
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
        self.tag_entry.returnPressed.connect(self._typed_tag)
        self.remove_button.clicked.connect(self.remove_selected)
        self.clear_button.clicked.connect(self.clear_tags)
        self.show_button.clicked.connect(self.show_labels)
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

    def _load_choices(self) -> None:
        """Fill the pick list of the current source only: the others load when chosen."""
        db, source = self.ctx.db, self.source
        if source is Source.MANIFEST:
            box, values = self.manifest_box, [(n, n) for n in labels.recent_manifests(db, self.ctx.actor)]
        elif source is Source.TRANSFER:
            box, values = (
                self.transfer_box,
                [
                    (
                        f"#{t.id} {t.from_location} → {t.to_location} · {t.status.value} · {len(t.lines)} packages",
                        str(t.id),
                    )
                    for t in transfers.list_transfers(db, self.ctx.actor)
                ],
            )
        elif source is Source.CATEGORY:
            box, values = self.category_box, [(c, c) for c in labels.list_categories(db, self.ctx.actor)]
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
        box = {
            Source.MANIFEST: self.manifest_box,
            Source.TRANSFER: self.transfer_box,
            Source.CATEGORY: self.category_box,
        }[source]
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

    def _reselect(self) -> None:
        if self.source is Source.TAGS:
            self._show_tags()
        elif self.run is not None:
            self.show_labels()

    def show_labels(self) -> None:
        db, actor, selection, kind = self.ctx.db, self.ctx.actor, self._selection(), self.kind
        self._selections.run(
            lambda job: labels.select_labels(db, actor, selection, kind=kind),
            self._show,
            on_error=self._selection_failed,
            progress="Finding labels",
        )

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
            self.summary.setText(
                "Scan package tags to add them." if self.source is Source.TAGS else "Choose, then Show labels."
            )
            return
        parts = [f"<b>{len(run.lines)} {run.kind.value} label{'s' if len(run.lines) != 1 else ''}</b> for {run.source}"]
        if run.flagged:
            parts.append(
                f"<span style='color:{FLAG_COLOUR}'>{len(run.flagged)} not cleared by lab results (red): "
                "they print only with a manager's confirmation</span>"
            )
        if run.left_out:
            parts.append(
                f"{len(run.left_out)} left out: "
                + "; ".join(run.left_out[:3])
                + (" …" if len(run.left_out) > 3 else "")
            )
        self.summary.setText(" · ".join(parts))

    # --- the scanned list ---------------------------------------------------------------------

    def _show_tags(self) -> None:
        if not self.tags:
            self._show(None)
            return
        try:
            self._show(
                labels.select_labels(
                    self.ctx.db, self.ctx.actor, Selection(Source.TAGS, tuple(self.tags)), kind=self.kind
                )
            )
        except UserError as exc:
            self._selection_failed(exc)

    def _typed_tag(self) -> None:
        code = self.tag_entry.text().strip()
        self.tag_entry.clear()
        if code and retail_id.is_qr(code):  # a unit's Retail ID QR code: print its package's label
            try:
                tag = unit_code_package(self, self.ctx, code, self._tag_entered, messages.error)
            except UserError as exc:
                messages.error(str(exc))
                return
            if tag is None:
                messages.info("Unit code scanned: asking METRC for its package…")
                return
            code = tag
        if code:
            self._tag_entered(code)

    def _tag_entered(self, code: str) -> None:
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
            run = labels.select_labels(
                self.ctx.db, self.ctx.actor, Selection(Source.TAGS, (*self.tags, code)), kind=self.kind
            )
        except UserError as exc:
            return ScanFeedback(False, str(exc))
        note = next((n for n in run.left_out if n.startswith(code)), None)
        if note is not None:
            return ScanFeedback(False, f"Not added: {note}.")
        self.tags.append(code)
        self._show(run)
        line = next((ln for ln in run.lines if ln.package_id is not None and ln.label.tag == code), None)
        if line is not None and line.lab_problem:
            return ScanFeedback(
                True, f"Added {code}, but {line.lab_problem}: it prints only with a manager's confirmation."
            )
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
