"""Where a scan goes while a dialog is open: to that dialog, or it waits; never to the window
behind (a second "transfer not recorded" box must not stack on the first).

- No modal dialog open: the window handles the scan (its current tab).
- A modal dialog that takes scans (it has a ``handle_scan(code)`` method) gets it.
- Any other modal dialog (a question, a progress bar): the scan is held, and handed to the
  window once no dialog is open, one at a time and in order (a scan the person repeated
  while waiting is held once).

``when_no_dialog(show)`` is the same rule for a box that a scan's answer opens later.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication


class ScanRouter(QObject):
    held = Signal(str)

    def __init__(self, parent: QObject, deliver: Callable[[str], object], *, poll_ms: int = 50) -> None:
        super().__init__(parent)
        self._deliver = deliver
        self._waiting: list[str] = []
        self._poll = QTimer(self)
        self._poll.setInterval(poll_ms)
        self._poll.timeout.connect(self._release)

    @property
    def waiting(self) -> list[str]:
        return list(self._waiting)

    def route(self, code: str) -> None:
        modal = QApplication.activeModalWidget()
        if modal is None and not self._waiting:
            self._deliver(code)
            return
        take = getattr(modal, "handle_scan", None)
        if modal is not None and callable(take):
            take(code)
            return
        if code not in self._waiting:
            self._waiting.append(code)
        self.held.emit(code)
        self._poll.start()

    def _release(self) -> None:
        """One held scan per tick, and only while no dialog is open: handling it may open one."""
        if QApplication.activeModalWidget() is not None:
            return
        if not self._waiting:
            self._poll.stop()
            return
        self._deliver(self._waiting.pop(0))
        if not self._waiting:
            self._poll.stop()


_after_dialogs: list[Callable[[], None]] = []
_after_timer: QTimer | None = None


def when_no_dialog(show: Callable[[], None]) -> None:
    """Open a dialog now, or once the dialog already open is closed: a scan's answer (say a
    refusal box) that comes back while another box is up waits its turn instead of stacking."""
    global _after_timer
    if QApplication.activeModalWidget() is None and not _after_dialogs:
        show()
        return
    _after_dialogs.append(show)
    if _after_timer is None:
        _after_timer = QTimer()
        _after_timer.setInterval(50)
        _after_timer.timeout.connect(_show_next)
    _after_timer.start()


def _show_next() -> None:
    if QApplication.activeModalWidget() is not None:
        return
    if _after_timer is not None and len(_after_dialogs) <= 1:
        _after_timer.stop()
    if _after_dialogs:
        _after_dialogs.pop(0)()
