"""Sign in with user name and PIN; the services count wrong PINs and lock the account."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from backoffice.db.engine import Database
from backoffice.errors import AuthenticationFailed
from backoffice.services import users
from backoffice.services.users import UserInfo


class LoginDialog(QDialog):
    def __init__(self, db: Database, store_name: str, parent: QWidget | None = None, *, username: str = "") -> None:
        super().__init__(parent)
        self.db = db
        self.user: UserInfo | None = None
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
        self.message.setStyleSheet("color: #c62828")
        form = QFormLayout()
        form.addRow("User", self.username)
        form.addRow("PIN", self.pin)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        sign_in = buttons.button(QDialogButtonBox.StandardButton.Ok)
        sign_in.setText("Sign in")
        sign_in.setAutoDefault(False)  # Enter in the PIN field signs in once, not twice
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

    def try_sign_in(self) -> None:
        try:
            self.user = users.authenticate(self.db, self.username.text(), self.pin.text())
        except AuthenticationFailed as exc:
            self.message.setText(str(exc))
            self.pin.clear()
            self.pin.setFocus()
            return
        self.accept()
