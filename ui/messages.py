"""The one bridge for what the application says to the person (the idea of qutebrowser's
``utils/message.py``).

Anyone — a tab, a dialog, a worker thread — says something with a kind:

- ``info`` / ``ok`` / ``warning`` / ``error``: a line in the window's status panel
  (``error`` is a refused scan or action: red, with a beep);
- ``problem``: something the person must read and can fix (a ``UserError``): a message box;
- ``crash``: a bug: logged with its traceback, then the crash dialog naming the log file.

Every message is logged (logger ``messages``; crashes to ``crash``) and presented on the GUI
thread whichever thread said it, so no worker ever opens a box. The main window listens to
``bridge().said`` for the status panel; tests listen there too.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from types import TracebackType

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from backoffice.db.errors import known_error
from backoffice.errors import UserError
from ui.logging_setup import log_file

APP_TITLE = "Vault Workstation"
_log = logging.getLogger("messages")
_crash_log = logging.getLogger("crash")


class Kind(enum.Enum):
    INFO = "info"
    OK = "ok"
    WARNING = "warn"
    ERROR = "error"
    PROBLEM = "problem"
    CRASH = "crash"


_LEVELS = {
    Kind.INFO: logging.INFO,
    Kind.OK: logging.INFO,
    Kind.WARNING: logging.WARNING,
    Kind.ERROR: logging.WARNING,
    Kind.PROBLEM: logging.WARNING,
    Kind.CRASH: logging.ERROR,
}


@dataclass(frozen=True)
class Message:
    kind: Kind
    text: str
    title: str = APP_TITLE
    parent: QWidget | None = field(default=None, compare=False)

    @property
    def in_status_line(self) -> bool:
        return self.kind in (Kind.INFO, Kind.OK, Kind.WARNING, Kind.ERROR)


class MessageBridge(QObject):
    """Lives on the GUI thread; ``said`` is emitted there for every message, before any box opens."""

    said = Signal(object)
    _post = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        # an automatic connection: direct on the GUI thread, queued from any other thread
        self._post.connect(self._present)

    def say(self, message: Message) -> None:
        self._post.emit(message)

    def _present(self, message: Message) -> None:
        self.said.emit(message)
        if message.kind is Kind.PROBLEM:
            QMessageBox.warning(message.parent, message.title, message.text)
        elif message.kind is Kind.CRASH:
            show_crash_dialog(message.parent, message.text)


_bridge: MessageBridge | None = None


def bridge() -> MessageBridge:
    """The application's bridge, made on first use (call that first use on the GUI thread)."""
    global _bridge
    if _bridge is None:
        _bridge = MessageBridge()
        app = QApplication.instance()
        if app is not None:
            _bridge.moveToThread(app.thread())
    return _bridge


def say(kind: Kind, text: str, *, parent: QWidget | None = None, title: str = APP_TITLE) -> None:
    _log.log(_LEVELS[kind], "%s: %s", kind.value, text)
    bridge().say(Message(kind, text, title, parent))


def info(text: str) -> None:
    say(Kind.INFO, text)


def ok(text: str) -> None:
    say(Kind.OK, text)


def warning(text: str) -> None:
    say(Kind.WARNING, text)


def error(text: str) -> None:
    say(Kind.ERROR, text)


def problem(text: str, *, parent: QWidget | None = None, title: str = APP_TITLE) -> None:
    say(Kind.PROBLEM, text, parent=parent, title=title)


def crash(exc: BaseException, *, parent: QWidget | None = None) -> None:
    """A bug: its traceback goes to the log, its one-line summary to the crash dialog."""
    _crash_log.error("unexpected error", exc_info=(type(exc), exc, exc.__traceback__))
    bridge().say(Message(Kind.CRASH, f"{type(exc).__name__}: {exc}", "Something went wrong", parent))


def exception(exc: BaseException, *, parent: QWidget | None = None, title: str = APP_TITLE) -> None:
    """Show an exception as what it is: a problem the person can fix (the database's own
    troubles included: busy, disk full, read-only, damaged), or a crash."""
    exc = known_error(exc) or exc
    if isinstance(exc, UserError):
        problem(str(exc), parent=parent, title=title)
    else:
        crash(exc, parent=parent)


def show_crash_dialog(parent: QWidget | None, summary: str) -> None:
    QMessageBox.critical(
        parent,
        "Something went wrong",
        "Vault Workstation hit an unexpected problem and did not finish that action. Nothing was "
        f"half-saved.\n\n{summary}\n\nThe details are in the log file:\n{log_file()}\n"
        "Please send it to your administrator.",
    )


def install_crash_hooks() -> None:
    """Uncaught exceptions anywhere (a Qt slot, a plain thread) are logged and reach the crash
    dialog on the GUI thread."""
    import sys
    import threading

    def on_uncaught(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        exception(value.with_traceback(tb))

    def on_thread(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            exception(args.exc_value.with_traceback(args.exc_traceback))

    sys.excepthook = on_uncaught
    threading.excepthook = on_thread
