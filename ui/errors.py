"""The one place the GUI shows errors: plain sentences for what a person can fix, a
crash message naming the log file for bugs."""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QMessageBox, QWidget

from backoffice.errors import UserError
from ui.logging_setup import log_file

log = logging.getLogger("ui")


def show_error(parent: QWidget | None, error: BaseException, *, title: str = "Vault Workstation") -> None:
    if isinstance(error, UserError):
        QMessageBox.warning(parent, title, str(error))
        return
    log.error("unexpected error", exc_info=(type(error), error, error.__traceback__))
    show_crash(parent, f"{type(error).__name__}: {error}")


def show_crash(parent: QWidget | None, summary: str) -> None:
    QMessageBox.critical(
        parent, "Something went wrong",
        "Vault Workstation hit an unexpected problem and did not finish that action. Nothing was "
        f"half-saved.\n\n{summary}\n\nThe details are in the log file:\n{log_file()}\n"
        "Please send it to your administrator.",
    )
