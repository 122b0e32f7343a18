"""Show an exception the code has in hand: a plain sentence for what a person can fix, the
crash dialog for a bug. Both go through the message bridge (ui/messages.py), which logs them."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from ui import messages


def show_error(parent: QWidget | None, error: BaseException, *, title: str = messages.APP_TITLE) -> None:
    messages.exception(error, parent=parent, title=title)
