"""A QGuiApplication for painting (fonts need one), created offscreen when nothing else made one."""

from __future__ import annotations

import os
import sys

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QGuiApplication

_app: QGuiApplication | None = None  # kept referenced: Qt must not outlive its application object


def ensure_gui_app() -> QGuiApplication:
    """The running (GUI) application, or a new offscreen one for the CLI and tests."""
    global _app
    current = QCoreApplication.instance()
    if isinstance(current, QGuiApplication):
        return current
    if current is not None:
        raise RuntimeError("label rendering needs a QGuiApplication, but a QCoreApplication is running")
    no_display = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if sys.platform.startswith("linux") and no_display:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _app = QGuiApplication(sys.argv[:1])
    return _app
