"""Named loggers into a rotating file in the user log folder; Qt's own messages go there too
(the idea of qutebrowser's utils/log.py). Uncaught exceptions: ui.messages.install_crash_hooks."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler

from backoffice.paths import log_dir

_qt_log = logging.getLogger("qt")


def log_file() -> Path:
    return log_dir() / "vault-workstation.log"


def setup_logging() -> Path:
    path = log_file()
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=5, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    qInstallMessageHandler(_qt_message)
    return path


def _qt_message(kind: QtMsgType, _context: QMessageLogContext, message: str) -> None:
    level = {
        QtMsgType.QtDebugMsg: logging.DEBUG,
        QtMsgType.QtInfoMsg: logging.INFO,
        QtMsgType.QtWarningMsg: logging.WARNING,
        QtMsgType.QtCriticalMsg: logging.ERROR,
        QtMsgType.QtFatalMsg: logging.CRITICAL,
    }.get(kind, logging.WARNING)
    _qt_log.log(level, message)
