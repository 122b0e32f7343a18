"""Sign in with user name and PIN; the services count wrong PINs and lock the account.

The PIN is checked off the GUI thread, as every service call is: its hash takes a quarter of
a second on purpose, and meanwhile the dialog stays drawn and the start-up can build the
main window (``checking`` says a check has begun; see ui/app.py)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from backoffice.services import users
from backoffice.services.changes import Changes
from backoffice.services.users import UserInfo
from ui.commands import run_command
from ui.context import AppContext


@dataclass(frozen=True)
class _SignedIn:
    user: UserInfo
    changes: Changes = Changes.USERS | Changes.AUDIT  # the sign-in time, and its audit event


class LoginDialog(QDialog):
    checking = Signal()  # a PIN check has started on the command thread

    def __init__(self, ctx: AppContext, store_name: str, parent: QWidget | None = None, *, username: str = "") -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.user: UserInfo | None = None
        self.busy = False
        self.setWindowTitle(f"Sign in — {store_name}")
        self.username = QLineEdit(username)
        self.username.setObjectName("loginUser")
        self.pin = QLineEdit()
        self.pin.setObjectName("loginPin")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMaxLength(12)
        self.message = QLabel()
        self.message.setObjectName("loginMessage")
        self.message.setWordWrap(True)
        form = QFormLayout()
        form.addRow("User", self.username)
        form.addRow("PIN", self.pin)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.sign_in_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.sign_in_button.setText("Sign in")
        self.sign_in_button.setAutoDefault(False)  # Enter in the PIN field signs in once, not twice
        buttons.accepted.connect(self.try_sign_in)
        self.username.returnPressed.connect(self.pin.setFocus)
        self.pin.returnPressed.connect(self.try_sign_in)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"<h3>{store_name}</h3>Vault Workstation"))
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        (self.pin if username else self.username).setFocus()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Enter is the fields' own (the user name's moves on to the PIN, the PIN's signs in): the
        # dialog's default button would otherwise also take it, and check a PIN not yet typed
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()
            return
        super().keyPressEvent(event)

    def try_sign_in(self) -> None:
        if self.busy:  # a second Enter while the first is being checked
            return
        if not self.pin.text():  # nothing to check: not a wrong PIN, which would count towards a lockout
            self._say("Type your PIN, then press Enter.", problem=True)
            self.pin.setFocus()
            return
        db, username, pin = self.ctx.db, self.username.text(), self.pin.text()
        self._set_busy(True)
        self._say("Checking…", problem=False)
        run_command(
            self,
            self.ctx,
            lambda job: _SignedIn(users.authenticate(db, username, pin)),
            self._signed_in,
            on_error=self._refused,
            on_settled=lambda: self._set_busy(False),
        )
        self.checking.emit()

    def reject(self) -> None:
        if not self.busy:  # Escape during a check: its outcome decides
            super().reject()

    def _signed_in(self, result: _SignedIn) -> None:
        self.user = result.user
        self.message.clear()
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        self._say(str(exc), problem=True)
        self.pin.clear()
        self.pin.setFocus()

    def _say(self, text: str, *, problem: bool) -> None:
        self.message.setStyleSheet("color: #c62828" if problem else "")
        self.message.setText(text)

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        # read-only, not disabled: the PIN field keeps the focus, and keys typed meanwhile stay in this dialog
        self.username.setReadOnly(busy)
        self.pin.setReadOnly(busy)
        self.sign_in_button.setEnabled(not busy)
