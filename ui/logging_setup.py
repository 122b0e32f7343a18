"""Named loggers into a rotating file in the user log folder; uncaught exceptions and Qt
messages go there too (the idea of qutebrowser's utils/log.py)."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path
from types import TracebackType

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
        QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO,
        QtMsgType.QtWarningMsg: logging.WARNING, QtMsgType.QtCriticalMsg: logging.ERROR,
        QtMsgType.QtFatalMsg: logging.CRITICAL,
    }.get(kind, logging.WARNING)
    _qt_log.log(level, message)


def install_excepthook(on_crash: "callable[[str], None]") -> None:  # type: ignore[valid-type]
    """Log any uncaught exception with its traceback and tell the user where the log is."""

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        logging.getLogger("crash").error("uncaught exception", exc_info=(kind, value, tb))
        on_crash(f"{kind.__name__}: {value}")

    sys.excepthook = hook
