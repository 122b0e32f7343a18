"""Light and dark palettes that follow the desktop's colour scheme."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

STATUS_COLOURS = {"ok": "#2e7d32", "warn": "#ef6c00", "error": "#c62828", "info": ""}


def _dark_palette() -> QPalette:
    p = QPalette()
    base, alt, text, window = QColor(37, 37, 38), QColor(45, 45, 48), QColor(230, 230, 230), QColor(30, 30, 30)
    for role, colour in (
        (QPalette.ColorRole.Window, window),
        (QPalette.ColorRole.WindowText, text),
        (QPalette.ColorRole.Base, base),
        (QPalette.ColorRole.AlternateBase, alt),
        (QPalette.ColorRole.ToolTipBase, alt),
        (QPalette.ColorRole.ToolTipText, text),
        (QPalette.ColorRole.Text, text),
        (QPalette.ColorRole.Button, alt),
        (QPalette.ColorRole.ButtonText, text),
        (QPalette.ColorRole.Highlight, QColor(38, 120, 78)),
        (QPalette.ColorRole.HighlightedText, QColor(255, 255, 255)),
        (QPalette.ColorRole.Link, QColor(102, 187, 106)),
        (QPalette.ColorRole.PlaceholderText, QColor(140, 140, 140)),
    ):
        p.setColor(role, colour)
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor(120, 120, 120))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor(120, 120, 120))
    return p


def _light_palette() -> QPalette:
    p = QApplication.style().standardPalette()
    p.setColor(QPalette.ColorRole.Highlight, QColor(46, 125, 50))
    p.setColor(QPalette.ColorRole.AlternateBase, QColor(244, 247, 244))
    return p


def apply_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    scheme = QGuiApplication.styleHints().colorScheme()
    app.setPalette(_dark_palette() if scheme == Qt.ColorScheme.Dark else _light_palette())


def follow_desktop(app: QApplication) -> None:
    apply_theme(app)
    QGuiApplication.styleHints().colorSchemeChanged.connect(lambda _scheme: apply_theme(app))
