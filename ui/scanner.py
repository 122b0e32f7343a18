"""Tell a barcode scanner's burst of keystrokes from a person typing, anywhere in the window.

USB scanners "type" a tag at one character every ~7–16 ms and usually end with Enter; a
person is far slower. The detector watches key presses application-wide:
- focus outside any text field: characters are collected (not typed anywhere); Enter, or a
  short silence for scanners that send no Enter, ends the scan;
- focus in a text field: keys go through as usual, but a burst that ends in Enter is taken
  back out of a QLineEdit and handled as a scan;
- a field marked as a scan field (``mark_scan_field``) is left alone: it handles its own
  Enter, so manual entry of a tag works the same way as a scan.
The same code scanned twice within ``double_scan_ms`` is reported once.

A 2D imager types a unit's METRC Retail ID QR code as a URL; ``unit_code_package`` turns it
into its package's tag (the window does this for every scan; a tab's own scan field calls it
when ``retail_id.is_qr(text)``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QComboBox, QLineEdit, QPlainTextEdit, QTextEdit, QWidget

from backoffice.services import retail_id
from ui.commands import run_command
from ui.context import AppContext

_SCAN_FIELD = "vaultScanField"


def mark_scan_field(widget: QWidget) -> None:
    widget.setProperty(_SCAN_FIELD, True)


def unit_code_package(parent: QWidget, ctx: AppContext, raw: str, later: Callable[[str], None],
                      failed: Callable[[str], None]) -> str | None:
    """The package tag a scanned Retail ID QR URL stands for (one unit of it).

    From the codes cached at receiving it is returned at once (one indexed read, within the
    frame). Otherwise METRC is asked off the GUI thread: None is returned now, and later
    ``later(tag)`` or ``failed(message)`` runs on the GUI thread (offline: a message saying so).
    Text that is not a Retail ID code raises the service's UserError."""
    tag = retail_id.cached_tag(ctx.db, retail_id.short_code(raw))
    if tag is not None:
        return tag
    db, actor = ctx.db, ctx.actor
    run_command(parent, ctx, lambda job: retail_id.resolve(db, actor, raw), lambda scan: later(scan.tag),
                on_error=lambda exc: failed(str(exc)), network=True)
    return None


class ScanDetector(QObject):
    scanned = Signal(str)
    double_scan = Signal(str)

    def __init__(self, parent: QObject | None = None, *, max_gap_ms: float = 35.0, min_length: int = 6,
                 silence_ms: int = 80, double_scan_ms: int = 1200) -> None:
        super().__init__(parent)
        self.max_gap = max_gap_ms / 1000
        self.min_length = min_length
        self.double_scan_window = double_scan_ms / 1000
        self._buffer: list[str] = []
        self._last_key = 0.0
        self._burst = True
        self._typed_into: QLineEdit | None = None
        self._last_scan: tuple[str, float] = ("", 0.0)
        self._silence = QTimer(self)
        self._silence.setSingleShot(True)
        self._silence.setInterval(silence_ms)
        self._silence.timeout.connect(self._on_silence)

    def install(self, app: QApplication) -> None:
        app.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if event.type() != QEvent.Type.KeyPress:
            return False
        # one key press can pass the filter several times (window handle, focus widget, its
        # parents): take it at the focus widget, or at the first widget when nothing has focus
        focus = QApplication.focusWidget()
        if not isinstance(watched, QWidget) or (focus is not None and watched is not focus):
            return False
        return self._key(event, watched)

    def _key(self, event: QKeyEvent, focus: QWidget | None) -> bool:
        if focus is not None and focus.property(_SCAN_FIELD):
            return False
        now = time.monotonic()
        key, text = event.key(), event.text()
        editing = isinstance(focus, (QLineEdit, QTextEdit, QPlainTextEdit, QAbstractSpinBox, QComboBox))
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            code = "".join(self._buffer)
            was_burst = self._burst and len(code) >= self.min_length and now - self._last_key <= self.max_gap * 4
            self._reset()
            if not was_burst:
                return False
            if editing and isinstance(focus, QLineEdit) and focus.text().endswith(code):
                focus.setText(focus.text()[: -len(code)])  # the scan was typed into a field: take it back
            self._emit(code)
            return True
        if text == " ":  # tags have no spaces: whatever came before was typed, not scanned
            self._reset()
            return False
        if not text or not text.isprintable() or event.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier):
            return False
        if self._buffer and now - self._last_key > self.max_gap:
            self._reset()
        self._buffer.append(text)
        self._last_key = now
        if editing:
            return False  # let the field type it; a burst is taken back out on Enter
        self._silence.start()
        return True

    def _on_silence(self) -> None:
        code = "".join(self._buffer)
        self._reset()
        if len(code) >= self.min_length:  # scanners configured without an Enter suffix
            self._emit(code)

    def _reset(self) -> None:
        self._buffer.clear()
        self._silence.stop()

    def _emit(self, code: str) -> None:
        now = time.monotonic()
        last_code, last_at = self._last_scan
        self._last_scan = (code, now)
        if code == last_code and now - last_at < self.double_scan_window:
            self.double_scan.emit(code)
            return
        self.scanned.emit(code)
