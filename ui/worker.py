"""Run a service call off the GUI thread, with a progress dialog that can cancel it.

The function receives ``progress(text, fraction)`` and ``cancelled() -> bool``; its result
or exception comes back on the GUI thread. Errors are shown through ui.errors unless the
caller handles them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from ui.errors import show_error

Progress = Callable[[str, float], None]
Work = Callable[[Progress, Callable[[], bool]], Any]


class Cancelled(Exception):
    """Raised by work that noticed the user pressed Cancel."""


class _Signals(QObject):
    progress = Signal(str, float)
    finished = Signal(object)
    failed = Signal(object)


class _Runnable(QRunnable):
    def __init__(self, work: Work, signals: _Signals, cancel_flag: threading.Event) -> None:
        super().__init__()
        self.work, self.signals, self.cancel_flag = work, signals, cancel_flag

    def run(self) -> None:
        try:
            result = self.work(self.signals.progress.emit, self.cancel_flag.is_set)
        except BaseException as exc:  # delivered to the GUI thread, shown there
            self.signals.failed.emit(exc)
        else:
            self.signals.finished.emit(result)


class Task(QObject):
    """One background job; ``run_task`` starts it and keeps it alive until it ends."""

    def __init__(self, parent: QWidget, title: str, work: Work, on_done: Callable[[Any], None],
                 on_error: Callable[[BaseException], None] | None, *, show_after_ms: int = 300) -> None:
        super().__init__(parent)
        self._parent, self._on_done, self._on_error = parent, on_done, on_error
        self._cancel = threading.Event()
        self._signals = _Signals()
        self.dialog = QProgressDialog(title, "Cancel", 0, 1000, parent)
        self.dialog.setWindowTitle(title)
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.setMinimumDuration(show_after_ms)
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.dialog.canceled.connect(self._cancel.set)
        self._signals.progress.connect(self._on_progress)
        self._signals.finished.connect(self._finished)
        self._signals.failed.connect(self._failed)
        self._runnable = _Runnable(work, self._signals, self._cancel)
        self._runnable.setAutoDelete(False)

    def start(self) -> Task:
        self.dialog.setValue(0)
        QThreadPool.globalInstance().start(self._runnable)
        return self

    def cancel(self) -> None:
        self._cancel.set()

    def _on_progress(self, text: str, fraction: float) -> None:
        self.dialog.setLabelText(text)
        self.dialog.setValue(int(max(0.0, min(1.0, fraction)) * 1000))

    def _close(self) -> None:
        self.dialog.reset()
        self.dialog.hide()
        self.dialog.deleteLater()
        QTimer.singleShot(0, self.deleteLater)

    def _finished(self, result: object) -> None:
        self._close()
        self._on_done(result)

    def _failed(self, exc: BaseException) -> None:
        self._close()
        if self._on_error is not None:
            self._on_error(exc)
        elif not isinstance(exc, Cancelled):
            show_error(self._parent, exc)


def run_task(parent: QWidget, title: str, work: Work, on_done: Callable[[Any], None],
             on_error: Callable[[BaseException], None] | None = None) -> Task:
    """Start ``work`` on the thread pool; ``on_done(result)`` runs on the GUI thread."""
    return Task(parent, title, work, on_done, on_error).start()
