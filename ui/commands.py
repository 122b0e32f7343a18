"""How a tab calls services: commands (writes) and queries (reads), off the GUI thread
(the idea of Anki's ``CollectionOp`` and ``QueryOp``).

A command is anything that writes::

    db, actor, transfer_id = self.ctx.db, self.ctx.actor, self.current.id   # read widgets here
    run_command(self, self.ctx, lambda job: transfers.record(db, actor, transfer_id),
                on_done=self._recorded)

- ``op(job)`` runs on the command thread. There is one: writes run one at a time, in the
  order they were asked (scans stay in order). An op that waits on METRC or the network
  passes ``network=True`` and runs beside it, so scans never queue behind a slow server.
- ``op`` returns the service's result, which carries ``changes`` (a ``Changes`` flag), or a
  bare ``Changes``. The runner announces them (``ctx.notify``) so each tab refreshes what it
  shows, then calls ``on_done(result)`` on the GUI thread. Never call ``ctx.notify`` yourself
  after a command; a result without change flags is a bug (the crash dialog says so).

A query is anything that only reads (or only writes a file)::

    self.lines = QueryRunner(self)           # one per thing the tab loads
    self.lines.run(lambda job: counts.lines(db, count_id), self._show_lines)

- Starting a newer ``run`` makes the older one stale: its result (or error) is dropped,
  never shown. ``run_query(...)`` is the one-off form, e.g. an export.

For both:

- ``progress="Exporting…"`` opens a cancellable progress dialog if the job takes over
  300 ms; ``op`` reports with ``job.progress(text, fraction)`` and, when ``job.cancelled()``,
  stops by raising ``Cancelled``.
- ``op`` must not touch widgets or open dialogs. Errors come back on the GUI thread: a
  ``UserError`` (something the person can fix) or ``Cancelled`` goes to ``on_error(exc)`` if
  given, else to the message bridge (a problem box; "cancelled" in the status line).
  Anything else is a bug: logged with its traceback and shown in the crash dialog.
- A dialog whose OK writes calls ``submit_dialog(self, ctx, op, on_done)`` from its ``accept``:
  it closes on success and stays open with the service's message on a refusal.
- Say things to the person through ``ui.messages`` (``messages.ok("Transfer #3 recorded.")``).
- A scan that writes: ``handle_scan`` starts the command and returns
  ``ScanFeedback.working_on(code)``; ``on_done``/``on_error`` say the outcome (``messages.ok`` /
  ``messages.error``). A box opened from that answer goes through
  ``ui.scan_router.when_no_dialog`` so it never stacks on another one.
- Tests wait for the threads with ``wait_until_idle()``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QDialog, QProgressDialog, QWidget

from backoffice.db.errors import known_error
from backoffice.errors import Cancelled, UserError
from backoffice.services.changes import Changes
from ui import messages
from ui.context import AppContext

T = TypeVar("T")
ErrorHandler = Callable[[BaseException], object]  # what a callback returns is ignored
SHOW_PROGRESS_AFTER_MS = 300
_log = logging.getLogger("ui")


class Job:
    """Handed to ``op`` on its worker thread: report progress, notice a cancel."""

    def __init__(self) -> None:
        self._cancel = threading.Event()
        self._signals = _Signals()

    def progress(self, text: str, fraction: float) -> None:
        self._signals.progress.emit(text, fraction)

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()


class _Signals(QObject):
    """Created on the GUI thread; emitted from the worker, so delivery is queued to the GUI thread."""

    progress = Signal(str, float)
    finished = Signal(object)
    failed = Signal(object)


class _Runnable(QRunnable):
    def __init__(self, op: Callable[[Job], Any], job: Job) -> None:
        super().__init__()
        self.op, self.job = op, job

    def run(self) -> None:
        try:
            result = self.op(self.job)
        except BaseException as exc:  # noqa: BLE001 — every error goes back to the GUI thread, shown there
            self._deliver(self.job._signals.failed, exc)
        else:
            self._deliver(self.job._signals.finished, result)

    @staticmethod
    def _deliver(signal: Any, value: object) -> None:
        try:
            signal.emit(value)
        except RuntimeError:  # the application is closing and took the receiver with it
            _log.info("a background job finished after the window closed; its result was dropped")


def changes_of(result: object) -> Changes:
    """The change flags a command's result carries."""
    if isinstance(result, Changes):
        return result
    changes = getattr(result, "changes", None)
    if not isinstance(changes, Changes):
        raise TypeError(f"a command must return its change flags; {type(result).__name__} has none")
    return changes


class _Task(QObject):
    """One op in flight. Kept alive by ``_in_flight`` (not by a Qt parent: a job may outlive a
    dialog); if its parent widget is gone when the result comes, the callbacks are skipped."""

    def __init__(
        self,
        parent: QWidget,
        op: Callable[[Job], T],
        on_done: Callable[[T], object] | None,
        on_error: ErrorHandler | None,
        progress: str | None,
        *,
        announce: AppContext | None = None,
        current: Callable[[], bool] = lambda: True,
        settled: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__()
        self._parent, self._on_done, self._on_error = parent, on_done, on_error
        self._announce, self._current, self._settled = announce, current, settled
        self.job = Job()
        self.dialog: QProgressDialog | None = None
        if progress is not None:
            self.dialog = QProgressDialog(progress, "Cancel", 0, 1000, parent)
            self.dialog.setWindowTitle(progress)
            self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
            self.dialog.setMinimumDuration(SHOW_PROGRESS_AFTER_MS)
            self.dialog.setAutoClose(False)
            self.dialog.setAutoReset(False)
            self.dialog.canceled.connect(self.job.cancel)
            self.dialog.setValue(0)
        signals = self.job._signals
        signals.progress.connect(self._on_progress)
        signals.finished.connect(self._finished)
        signals.failed.connect(self._failed)
        self.runnable = _Runnable(op, self.job)
        self.runnable.setAutoDelete(False)
        _in_flight.add(self)

    def start(self, pool: QThreadPool) -> Job:
        pool.start(self.runnable)
        return self.job

    def _on_progress(self, text: str, fraction: float) -> None:
        if self.dialog is not None:
            self.dialog.setLabelText(text)
            self.dialog.setValue(int(max(0.0, min(1.0, fraction)) * 1000))

    def _close(self) -> None:
        self._settled()
        if self.dialog is not None and shiboken6.isValid(self.dialog):
            self.dialog.reset()
            self.dialog.hide()
            self.dialog.deleteLater()

    def _parent_alive(self) -> bool:
        return shiboken6.isValid(self._parent)

    def _release(self) -> None:
        # dropped from a timer, never inside its own slot (a callback may run a nested event loop)
        QTimer.singleShot(0, lambda: _in_flight.discard(self))

    def _finished(self, result: Any) -> None:
        try:
            self._close()
            if not self._current():
                return  # a newer query replaced this one: its result is stale
            if self._announce is not None:
                self._announce.notify(changes_of(result))
            if self._on_done is not None and self._parent_alive():
                self._on_done(result)
        except Exception as exc:  # noqa: BLE001 — a bug in a callback: crash dialog, not a silent loss
            messages.crash(exc, parent=self._parent if self._parent_alive() else None)
        finally:
            self._release()

    def _failed(self, exc: BaseException) -> None:
        try:
            self._close()
            self._report(exc)
        finally:
            self._release()

    def _report(self, exc: BaseException) -> None:
        exc = known_error(exc) or exc  # a busy, full, read-only or damaged database is the person's to fix
        expected = isinstance(exc, UserError)  # Cancelled among them
        if not self._current():
            if not expected:
                _log.error("stale background job failed", exc_info=(type(exc), exc, exc.__traceback__))
            return
        if not expected:
            messages.crash(exc, parent=self._parent if self._parent_alive() else None)
        elif not self._parent_alive():
            _log.info("dropped the outcome of a job whose window was closed: %s", exc)
        elif self._on_error is not None:
            self._on_error(exc)
        elif isinstance(exc, Cancelled):  # an op that noticed the person pressed Cancel
            messages.warning(str(exc) or "Cancelled: nothing was changed.")
        else:
            messages.problem(str(exc), parent=self._parent)


_in_flight: set[_Task] = set()
_command_pool: QThreadPool | None = None


def _commands() -> QThreadPool:
    global _command_pool
    if _command_pool is None:
        _command_pool = QThreadPool()
        _command_pool.setMaxThreadCount(1)  # one writer, in order
    return _command_pool


def run_command(
    parent: QWidget,
    ctx: AppContext,
    op: Callable[[Job], T],
    on_done: Callable[[T], object] | None = None,
    *,
    on_error: ErrorHandler | None = None,
    progress: str | None = None,
    network: bool = False,
    on_settled: Callable[[], None] = lambda: None,
) -> Job:
    """Run a write off the GUI thread; announce its change flags, then ``on_done(result)``.
    ``on_settled()`` runs first whatever the outcome (success, refusal or bug)."""
    task = _Task(parent, op, on_done, on_error, progress, announce=ctx, settled=on_settled)
    return task.start(QThreadPool.globalInstance() if network else _commands())


def run_query(
    parent: QWidget,
    op: Callable[[Job], T],
    on_done: Callable[[T], object],
    *,
    on_error: ErrorHandler | None = None,
    progress: str | None = None,
) -> Job:
    """Run a read (or a file export) off the GUI thread; ``on_done(result)`` on the GUI thread."""
    return _Task(parent, op, on_done, on_error, progress).start(QThreadPool.globalInstance())


def submit_dialog(
    dialog: QDialog, ctx: AppContext, op: Callable[[Job], T], on_done: Callable[[T], object] | None = None
) -> None:
    """OK in a dialog that writes: the dialog waits (disabled) while ``op`` runs as a command,
    closes when it succeeded, and stays open with the service's message when it was refused."""
    dialog.setEnabled(False)

    def done(result: T) -> None:
        if on_done is not None:
            on_done(result)
        QDialog.accept(dialog)  # the dialog's own accept() is what asked for this

    run_command(
        dialog,
        ctx,
        op,
        done,
        on_error=lambda exc: messages.problem(str(exc), parent=dialog),
        on_settled=lambda: dialog.setEnabled(True),
    )


class QueryRunner(QObject):
    """Loads one thing again and again (a search, a preview): only the latest result is shown."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._parent = parent
        self._generation = 0
        self._job: Job | None = None

    @property
    def busy(self) -> bool:
        return self._job is not None

    def run(
        self,
        op: Callable[[Job], T],
        on_done: Callable[[T], object],
        *,
        on_error: ErrorHandler | None = None,
        progress: str | None = None,
    ) -> Job:
        if self._job is not None:
            self._job.cancel()  # an op that checks may stop early; its result is dropped anyway
        self._generation += 1
        generation = self._generation

        def settled() -> None:
            if generation == self._generation:
                self._job = None

        task = _Task(
            self._parent,
            op,
            on_done,
            on_error,
            progress,
            settled=settled,
            current=lambda: generation == self._generation,
        )
        self._job = task.job
        return task.start(QThreadPool.globalInstance())


def wait_until_idle(timeout_ms: int = 10_000) -> bool:
    """Wait for every command and query to finish (results are delivered by the event loop)."""
    return _commands().waitForDone(timeout_ms) and QThreadPool.globalInstance().waitForDone(timeout_ms)
