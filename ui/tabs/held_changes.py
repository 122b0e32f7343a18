"""METRC tab → "Held import changes": what an imported METRC packages file asked for that only
a manager may make (lifting a hold or a failed lab state). A manager accepts or rejects each
one with a note, through ``pending_changes``, which checks the permission itself."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backoffice.services import pending_changes
from backoffice.services.actor import Permission
from backoffice.services.changes import Changes
from backoffice.services.pending_changes import Decision, PendingChange
from ui import messages
from ui.commands import Job, QueryRunner, submit_dialog
from ui.context import AppContext
from ui.models.simple_table import Col, RowTableModel
from ui.widgets.table_view import RowTableView

PAGE_TITLE = "Held import changes"


def _names(change: PendingChange) -> str:
    return ", ".join(name.replace("_", " ") for name in change.changes)


def _values(change: PendingChange, side: str) -> str:
    return ", ".join(str(c[side]) for c in change.changes.values())


def page_title(count: int) -> str:
    return f"{PAGE_TITLE} ({count})" if count else PAGE_TITLE


def held_changes_model() -> RowTableModel[PendingChange]:
    return RowTableModel(
        [
            Col("#", lambda c: c.id),
            Col("Tag", lambda c: c.tag),
            Col("Item", lambda c: c.item),
            Col("Field", _names),
            Col("Current", lambda c: _values(c, "before"), colour=lambda c: "#c62828"),
            Col("Proposed", lambda c: _values(c, "after"), colour=lambda c: "#2e7d32"),
            Col("Imported", lambda c: c.created_at),
            Col("By", lambda c: c.imported_by or "scheduled import"),
            Col("File", lambda c: c.source, tooltip=lambda c: c.source),
        ]
    )


class HeldChangesPanel(QWidget):
    count_changed = Signal(int)

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.model = held_changes_model()
        self.view = RowTableView(self.model, stretch_column=8)
        self.view.setObjectName("heldChangesTable")
        self.summary = QLabel(
            "A METRC packages file never lifts a hold or a failed lab state by itself: the package "
            "stays as it was until a manager accepts the change with a note (the COA or the METRC "
            "hold release checked)."
        )
        self.summary.setWordWrap(True)
        self.accept_button = QPushButton("Accept…")
        self.accept_button.setObjectName("heldAccept")
        self.reject_button = QPushButton("Reject…")
        self.reject_button.setObjectName("heldReject")
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.accept_button)
        top.addWidget(self.reject_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        self._loader = QueryRunner(self)
        self.accept_button.clicked.connect(lambda: self.decide(accept=True))
        self.reject_button.clicked.connect(lambda: self.decide(accept=False))
        self.view.selectionModel().currentRowChanged.connect(lambda *_: self._apply_role())
        ctx.user_changed.connect(self.reload)
        self.reload()

    def _may_decide(self) -> bool:
        return self.ctx.signed_in and self.ctx.actor.can(Permission.ACCEPT_HELD_CHANGES)

    def _apply_role(self) -> None:
        may = self._may_decide()
        why = (
            ""
            if may or not self.ctx.signed_in
            else f"Your role ({self.ctx.actor.role.value}) may not accept or reject held changes; ask a manager."
        )
        for button in (self.accept_button, self.reject_button):
            button.setEnabled(may and self.selected() is not None)
            button.setToolTip(why)

    def reload(self) -> None:
        self._apply_role()
        if not self.ctx.signed_in or not self.ctx.actor.can(Permission.VIEW_INVENTORY):
            self._show([])
            return
        db, actor = self.ctx.db, self.ctx.actor
        self._loader.run(lambda job: pending_changes.list_changes(db, actor), self._show)

    def refresh(self, changes: Changes) -> None:
        if changes & Changes.INVENTORY:  # an import, an accept or a reject
            self.reload()

    def _show(self, rows: list[PendingChange]) -> None:
        self.model.set_rows(rows)
        self._apply_role()
        self.count_changed.emit(len(rows))

    def selected(self) -> PendingChange | None:
        row = self.view.current_row()
        return row if isinstance(row, PendingChange) else None

    def decide(self, *, accept: bool) -> None:
        change = self.selected()
        if change is None or not self._may_decide():
            return
        DecisionDialog(self.ctx, change, accept=accept, parent=self).exec()


class DecisionDialog(QDialog):
    """Asks for the note the service requires; OK (and Enter) do nothing until there is one."""

    def __init__(self, ctx: AppContext, change: PendingChange, *, accept: bool, parent: QWidget) -> None:
        super().__init__(parent)
        self.ctx, self.change, self.accepting = ctx, change, accept
        verb = "Accept" if accept else "Reject"
        self.setWindowTitle(f"{verb} held change #{change.id}")
        outcome = (
            "The package will change now."
            if accept
            else "The package stays as it is; import a current METRC file if METRC differs."
        )
        text = QLabel(f"{change.tag} ({change.item}): {change.describe()}\nfrom {change.source}.\n{outcome}")
        text.setWordWrap(True)
        self.note = QLineEdit()
        self.note.setObjectName("heldNote")
        self.note.setPlaceholderText("Why (e.g. the COA or the METRC hold release you checked)")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(verb)
        self.ok_button.setEnabled(False)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.note.textChanged.connect(lambda text: self.ok_button.setEnabled(bool(text.strip())))
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(QLabel("Note (required):"))
        layout.addWidget(self.note)
        layout.addWidget(self.buttons)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        """Enter decides with the note typed, and on an empty note does nothing (no default
        button to fall back on)."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()
            self.accept()
            return
        super().keyPressEvent(event)

    def accept(self) -> None:
        note = self.note.text().strip()
        if not note:  # Enter on an empty note: keep asking
            return
        db, actor, change_id = self.ctx.db, self.ctx.actor, self.change.id
        decide: Callable[..., Decision] = pending_changes.accept if self.accepting else pending_changes.reject

        def work(job: Job) -> Decision:
            return decide(db, actor, change_id, note)

        def done(decision: Decision) -> None:
            c = decision.change
            messages.ok(f"Change #{c.id} {c.status}: {c.tag} {c.describe()}.")

        submit_dialog(self, self.ctx, work, done)
