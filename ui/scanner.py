"""Tell a barcode scanner's burst of keystrokes from a person typing, anywhere in the window.

USB scanners "type" a tag with 5–20 ms between keys and usually end with Enter; a person
leaves 60 ms or more. Gaps are measured between the key events' own timestamps (when the
keyboard sent them), not when the GUI got round to them: keys a person typed while the
window was busy arrive together but keep their real spacing. The detector watches key
presses application-wide:

- focus in the main window outside any text field: characters are collected (not typed
  anywhere); Enter, or a short silence for scanners that send no Enter, ends the scan;
- focus in one of the main window's text fields: keys go through as usual, but a burst
  that ends in Enter is taken back out of a QLineEdit and handled as a scan;
- focus in a dialog's text field: left alone, always (a dialog's own fields are never eaten);
- focus on a dialog's buttons: a burst is collected and handed on like any scan, so its
  Enter never presses the dialog's default button; where it goes is the window's choice
  (the dialog, if it takes scans, or held until the dialog closes);
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
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDialog,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from backoffice.services import retail_id
from ui.commands import run_command
from ui.context import AppContext

_SCAN_FIELD = "vaultScanField"
_EDITORS = (QLineEdit, QTextEdit, QPlainTextEdit, QAbstractSpinBox, QComboBox)
SCANNER_MAX_GAP_MS = 35.0  # scanners: 5–20 ms; people: 60 ms and more


def mark_scan_field(widget: QWidget) -> None:
    widget.setProperty(_SCAN_FIELD, True)


def key_time_ms(event: QKeyEvent) -> float:
    """When the key was pressed: the event's timestamp, or now for synthetic events without one."""
    stamp = event.timestamp()
    return float(stamp) if stamp else time.monotonic() * 1000


def unit_code_package(
    parent: QWidget, ctx: AppContext, raw: str, later: Callable[[str], object], failed: Callable[[str], object]
) -> str | None:
    """The package tag a scanned Retail ID QR URL stands for (one unit of it).

    From the codes cached at receiving it is returned at once (one indexed read, within the
    frame). Otherwise METRC is asked off the GUI thread: None is returned now, and later
    ``later(tag)`` or ``failed(message)`` runs on the GUI thread (offline: a message saying so).
    Text that is not a Retail ID code raises the service's UserError."""
    tag = retail_id.cached_tag(ctx.db, retail_id.short_code(raw))
    if tag is not None:
        return tag
    db, actor = ctx.db, ctx.actor
    run_command(
        parent,
        ctx,
        lambda job: retail_id.resolve(db, actor, raw),
        lambda scan: later(scan.tag),
        on_error=lambda exc: failed(str(exc)),
        network=True,
    )
    return None


class ScanDetector(QObject):
    scanned = Signal(str)
    double_scan = Signal(str)

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        max_gap_ms: float = SCANNER_MAX_GAP_MS,
        min_length: int = 6,
        silence_ms: int = 80,
        double_scan_ms: int = 1200,
    ) -> None:
        super().__init__(parent)
        self.max_gap_ms = max_gap_ms
        self.min_length = min_length
        self.double_scan_window = double_scan_ms / 1000
        self._buffer: list[str] = []
        self._last_key_ms = 0.0
        self._last_scan: tuple[str, float] = ("", 0.0)
        self._silence = QTimer(self)
        self._silence.setSingleShot(True)
        self._silence.setInterval(silence_ms)
        self._silence.timeout.connect(self._on_silence)

    def install(self, app: QApplication) -> None:
        app.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        # one key press can pass the filter several times (window handle, focus widget, its
        # parents): take it at the focus widget, or at the first widget when nothing has focus
        focus = QApplication.focusWidget()
        if not isinstance(watched, QWidget) or (focus is not None and watched is not focus):
            return False
        return self._key(event, watched)

    def _key(self, event: QKeyEvent, focus: QWidget) -> bool:
        if focus.property(_SCAN_FIELD):
            return False
        editing = isinstance(focus, _EDITORS)
        if editing and isinstance(focus.window(), QDialog):
            self._reset()  # a dialog's own field: whatever is typed there is the person's
            return False
        at = key_time_ms(event)
        key, text = event.key(), event.text()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            code = "".join(self._buffer)
            was_burst = len(code) >= self.min_length and at - self._last_key_ms <= self.max_gap_ms * 4
            self._reset()
            if not was_burst:
                return False
            if isinstance(focus, QLineEdit) and focus.text().endswith(code):
                focus.setText(focus.text()[: -len(code)])  # the scan was typed into a field: take it back
            self._emit(code)
            return True
        if text == " ":  # tags have no spaces: whatever came before was typed, not scanned
            self._reset()
            return False
        modifiers = event.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)
        if not text or not text.isprintable() or modifiers:
            return False
        if self._buffer and at - self._last_key_ms > self.max_gap_ms:
            self._reset()  # too slow for a scanner: a person typing
        self._buffer.append(text)
        self._last_key_ms = at
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
