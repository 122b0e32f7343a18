"""Dialogs of the Cycle Count tab: start a count, and adjust a package with a METRC reason
(before → after shown, a manager's PIN asked for over the threshold; the adjustment runs as a
command off the GUI thread)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backoffice.db.engine import Database
from backoffice.errors import UserError
from backoffice.metrc.payloads import NOTE_MAX
from backoffice.services import adjustments, counts, inventory
from backoffice.services import settings as store_settings
from backoffice.services.actor import Actor, Permission
from backoffice.services.adjustments import AdjustmentResult, Preview
from backoffice.services.counts import Scope, ScopeChoices
from ui.commands import run_command
from ui.context import AppContext
from ui.scanner import mark_scan_field

ERROR_COLOUR = "#c62828"
_QUANTITY = r"^[+-]?\d{0,7}([.,]\d{0,4})?$"


# --- start a count ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StartRequest:
    name: str
    scope: Scope
    blind: bool
    pos_file: Path | None
    metrc_file: Path | None
    fetch_metrc: bool


def _checklist(values: list[str], object_name: str) -> QListWidget:
    widget = QListWidget()
    widget.setObjectName(object_name)
    for value in values:
        item = QListWidgetItem(value)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Unchecked)
        widget.addItem(item)
    widget.setMinimumHeight(150)
    return widget


def _checked(widget: QListWidget) -> tuple[str, ...]:
    return tuple(
        widget.item(i).text() for i in range(widget.count()) if widget.item(i).checkState() == Qt.CheckState.Checked
    )


class _FileField(QWidget):
    def __init__(self, caption: str, pattern: str, object_name: str) -> None:
        super().__init__()
        self.edit = QLineEdit()
        self.edit.setObjectName(object_name)
        self.edit.setPlaceholderText("none")
        self.edit.setClearButtonEnabled(True)
        mark_scan_field(self.edit)
        browse = QPushButton("Browse…")
        browse.clicked.connect(lambda: self._browse(caption, pattern))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(browse)

    def _browse(self, caption: str, pattern: str) -> None:
        name, _ = QFileDialog.getOpenFileName(self, caption, "", pattern)
        if name:
            self.edit.setText(name)

    def path(self) -> Path | None:
        return Path(self.edit.text().strip()) if self.edit.text().strip() else None


class StartCountDialog(QDialog):
    """Name, scope (categories, brands, SKUs, locations), blind, and the POS and METRC snapshots."""

    def __init__(
        self, choices: ScopeChoices, *, today: date, metrc_connected: bool, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("startCountDialog")
        self.setWindowTitle("Start a cycle count")
        self.request: StartRequest | None = None
        self.name = QLineEdit(f"Cycle count {today:%Y-%m-%d}")
        self.name.setObjectName("countName")
        mark_scan_field(self.name)
        self.categories = _checklist(choices.categories, "countCategories")
        self.brands = _checklist(choices.brands, "countBrands")
        self.locations = _checklist(choices.locations, "countLocations")
        self.skus = QLineEdit()
        self.skus.setPlaceholderText("SKUs, separated by commas (optional)")
        mark_scan_field(self.skus)
        self.blind = QCheckBox("Blind count: counters do not see expected quantities (managers do)")
        self.blind.setObjectName("countBlind")
        self.blind.setChecked(True)
        self.pos_file = _FileField("POS inventory export", "CSV files (*.csv);;All files (*)", "countPosFile")
        self.metrc_file = _FileField("METRC active packages", "JSON files (*.json);;All files (*)", "countMetrcFile")
        self.fetch_metrc = QCheckBox("Fetch METRC's active packages now")
        self.fetch_metrc.setEnabled(metrc_connected)
        if not metrc_connected:
            self.fetch_metrc.setToolTip("No METRC API address is set (manual mode): use an exported file")
        self.message = QLabel()
        self.message.setStyleSheet(f"color: {ERROR_COLOUR}")
        self.message.setWordWrap(True)

        scope = QGroupBox("Scope: tick what to count (nothing ticked in a list = all of them)")
        grid = QGridLayout(scope)
        for column, (title, widget) in enumerate(
            (("Categories", self.categories), ("Brands", self.brands), ("Locations", self.locations))
        ):
            grid.addWidget(QLabel(f"<b>{title}</b>"), 0, column)
            grid.addWidget(widget, 1, column)
        grid.addWidget(self.skus, 2, 0, 1, 3)
        snapshot = QGroupBox("Snapshot the other systems (optional)")
        form = QFormLayout(snapshot)
        form.addRow("POS inventory export", self.pos_file)
        form.addRow("METRC active packages", self.metrc_file)
        form.addRow("", self.fetch_metrc)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Start count")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        top = QFormLayout()
        top.addRow("Name", self.name)
        layout.addLayout(top)
        layout.addWidget(scope, 1)
        layout.addWidget(self.blind)
        layout.addWidget(snapshot)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.resize(820, 560)

    def _accept(self) -> None:
        if not self.name.text().strip():
            self.message.setText("Give the count a name.")
            return
        if self.metrc_file.path() is not None and self.fetch_metrc.isChecked():
            self.message.setText("Use a METRC file or fetch from METRC, not both.")
            return
        skus = tuple(s.strip() for s in self.skus.text().split(",") if s.strip())
        self.request = StartRequest(
            self.name.text().strip(),
            Scope(_checked(self.categories), _checked(self.brands), skus, _checked(self.locations)),
            self.blind.isChecked(),
            self.pos_file.path(),
            self.metrc_file.path(),
            self.fetch_metrc.isChecked(),
        )
        self.accept()


# --- adjust -----------------------------------------------------------------------------------


class AdjustDialog(QDialog):
    """Adjust one package by a signed quantity; shows before → after as it is typed."""

    def __init__(
        self,
        ctx: AppContext,
        tag: str,
        item: str,
        *,
        suggested: Decimal | None = None,
        count_id: int | None = None,
        context: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx, self.db, self.actor, self.tag, self.count_id = ctx, ctx.db, ctx.actor, tag, count_id
        db = ctx.db
        self.result_: AdjustmentResult | None = None
        self.preview: Preview | None = None
        self.setObjectName("adjustDialog")
        self.setWindowTitle(f"Adjust {tag}")
        self.reasons = {r.name: r for r in adjustments.list_reasons(db, self.actor)}
        package = inventory.find_by_tag(db, self.actor, tag)
        self.before = package.quantity if package else None
        self.unit = package.unit.value if package else ""

        title = QLabel(
            f"<b>{item}</b><br><tt>{tag}</tt>" + (f"<br><span style='color:gray'>{context}</span>" if context else "")
        )
        title.setWordWrap(True)
        self.quantity = QLineEdit("" if suggested is None else f"{suggested.normalize():+f}")
        self.quantity.setObjectName("adjustQuantity")
        self.quantity.setValidator(QRegularExpressionValidator(_QUANTITY, self.quantity))
        self.quantity.setPlaceholderText("signed change, e.g. -2")
        self.quantity.setToolTip("The change, not the new total: -2 takes two away, 3 adds three")
        self.before_after = QLabel()
        self.before_after.setObjectName("adjustBeforeAfter")
        self.before_after.setStyleSheet("font-size: 16pt; font-weight: bold")
        self.reason = QComboBox()
        self.reason.setObjectName("adjustReason")
        self.reason.addItem("Choose a reason…", None)
        for name, reason in self.reasons.items():
            self.reason.addItem(f"{name}{'  (note required)' if reason.requires_note else ''}", name)
        self.note = QPlainTextEdit()
        self.note.setObjectName("adjustNote")
        self.note.setPlaceholderText("What happened, e.g. 'two gummies crushed in the vault bin'")
        self.note.setFixedHeight(70)
        self.note_count = QLabel()
        today = store_settings.store_calendar(db).today()  # the store's date, which METRC checks against
        self.date = QDateEdit(QDate(today.year, today.month, today.day))
        self.date.setCalendarPopup(True)
        self.date.setMaximumDate(QDate(today.year, today.month, today.day))
        self.date.setDisplayFormat("yyyy-MM-dd")
        for field in (self.quantity, self.note):
            mark_scan_field(field)

        self.approval = QGroupBox("Manager approval")
        self.approval.setObjectName("adjustApproval")
        self.approval_why = QLabel()
        self.approval_why.setWordWrap(True)
        self.manager = QLineEdit()
        self.manager.setObjectName("adjustManager")
        self.pin = QLineEdit()
        self.pin.setObjectName("adjustPin")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMaxLength(12)
        for field in (self.manager, self.pin):
            mark_scan_field(field)
        approval_form = QFormLayout(self.approval)
        approval_form.addRow(self.approval_why)
        approval_form.addRow("Manager", self.manager)
        approval_form.addRow("PIN", self.pin)
        self.approval.hide()

        self.message = QLabel()
        self.message.setObjectName("adjustMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {ERROR_COLOUR}")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Adjust and queue for METRC")
        self.ok.setObjectName("adjustOk")
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("Change by", self.quantity)
        form.addRow("", self.before_after)
        form.addRow("Reason", self.reason)
        note_box = QVBoxLayout()
        note_box.addWidget(self.note)
        note_box.addWidget(self.note_count, 0, Qt.AlignmentFlag.AlignRight)
        form.addRow("Note", note_box)
        form.addRow("Date", self.date)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(line)
        layout.addLayout(form)
        layout.addWidget(self.approval)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.resize(520, 0)

        self.quantity.textChanged.connect(self.update_preview)
        self.reason.currentIndexChanged.connect(self.update_preview)
        self.note.textChanged.connect(self.update_preview)
        self.date.dateChanged.connect(self.update_preview)
        self.update_preview()

    def reason_name(self) -> str:
        return self.reason.currentData() or ""

    def _adjustment_date(self) -> date:
        qd = self.date.date()
        return date(qd.year(), qd.month(), qd.day())

    def update_preview(self) -> None:
        note = self.note.toPlainText()
        reason = self.reasons.get(self.reason_name())
        self.note_count.setText(
            f"{len(note.strip())}/{NOTE_MAX}" + ("  · required" if reason and reason.requires_note else "")
        )
        self.preview = None
        quantity = self.quantity.text().replace(",", ".")
        if not quantity.strip("+-."):
            self._show_problem("Enter the change: negative takes away, positive adds.")
            return
        self._show_before_after(Decimal(quantity))
        if reason is None:
            self._show_problem("Choose the METRC reason.")
            return
        try:
            self.preview = adjustments.preview(
                self.db, self.actor, self.tag, quantity, reason.name, note, adjustment_date=self._adjustment_date()
            )
        except UserError as exc:
            self._show_problem(str(exc))
            return
        p = self.preview
        self.message.clear()
        needs_pin = p.needs_approval and not self.actor.can(Permission.APPROVE_ADJUSTMENT)
        self.approval_why.setText(f"{p.approval_why}: a manager enters their user name and PIN.")
        self.approval.setVisible(needs_pin)
        self.ok.setEnabled(True)

    def _show_before_after(self, delta: Decimal) -> None:
        """Shown as soon as a number is typed; the rules are checked by the service's preview."""
        if self.before is None:
            return
        after = self.before + delta
        colour = f" style='color:{ERROR_COLOUR}'" if after < 0 else ""
        self.before_after.setText(
            f"{self.before.normalize():f} → <span{colour}>{after.normalize():f}</span> {self.unit}"
        )

    def _show_problem(self, text: str) -> None:
        self.message.setText(text)
        self.ok.setEnabled(False)
        self.approval.hide()

    def submit(self) -> None:
        if self.preview is None:
            return
        needs_pin = self.approval.isVisible()
        if needs_pin and not (self.manager.text().strip() and self.pin.text()):
            self.message.setText("A manager must enter their user name and PIN to approve this adjustment.")
            (self.pin if self.manager.text().strip() else self.manager).setFocus()
            return
        db, actor, tag, count_id = self.db, self.actor, self.tag, self.count_id
        quantity, reason, note = self.quantity.text().replace(",", "."), self.reason_name(), self.note.toPlainText()
        when = self._adjustment_date()
        approver = (self.manager.text().strip() or None) if needs_pin else None
        pin = self.pin.text() if needs_pin else None

        def done(result: AdjustmentResult) -> None:
            self.result_ = result
            self.accept()

        def refused(exc: BaseException) -> None:
            self.message.setText(str(exc))
            self.pin.clear()

        self.setEnabled(False)  # until the command is done: one adjustment per OK
        run_command(
            self,
            self.ctx,
            lambda job: adjustments.adjust(
                db,
                actor,
                tag,
                quantity,
                reason,
                note,
                adjustment_date=when,
                approver=approver,
                approver_pin=pin,
                count_session_id=count_id,
            ),
            done,
            on_error=refused,
            on_settled=lambda: self.setEnabled(True),
        )


def start_count(db: Database, actor: Actor, request: StartRequest) -> counts.CountInfo:
    """Runs off the GUI thread: the service fetches METRC's packages when asked, then snapshots."""
    if request.fetch_metrc:
        return counts.start_count_with_metrc(
            db, actor, request.name, request.scope, blind=request.blind, pos_file=request.pos_file
        )
    return counts.start_count(
        db,
        actor,
        request.name,
        request.scope,
        blind=request.blind,
        pos_file=request.pos_file,
        metrc_file=request.metrc_file,
    )


def confirm_submit(info: counts.CountInfo, uncounted: int, parent: QWidget) -> bool:
    """Ask before a count is submitted (it is frozen afterwards); True only for a click on Submit."""
    if uncounted:
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Submit count",
            f"{uncounted} package(s) in scope were not counted.\n\nCount them first, or submit "
            "saying they were looked for and not found: they are recorded as 0 and show as "
            "variances. A submitted count cannot change.",
            parent=parent,
        )
        box.setObjectName("submitCountBox")
        as_zero = box.addButton("Submit: not found (0)", QMessageBox.ButtonRole.AcceptRole)
        safe = box.addButton("Keep counting", QMessageBox.ButtonRole.RejectRole)
    else:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Submit count",
            f"Submit count #{info.id}? It is frozen afterwards; corrections are new adjustments.",
            parent=parent,
        )
        box.setObjectName("submitCountBox")
        as_zero = box.addButton("Submit", QMessageBox.ButtonRole.AcceptRole)
        safe = box.addButton("Cancel", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(safe)  # Enter (or a scanner's Enter) never submits: a click does
    box.setEscapeButton(safe)
    box.exec()
    return box.clickedButton() is as_zero
