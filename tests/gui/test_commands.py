"""The command and query runners (ui/commands.py) and the message bridge (ui/messages.py)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from backoffice.errors import ValidationError
from backoffice.services import metrc_sync
from backoffice.services.changes import Changes
from ui import commands, messages
from ui.commands import Cancelled, QueryRunner, run_command, run_query
from ui.context import AppContext

pytestmark = pytest.mark.gui


@dataclass(frozen=True)
class _Written:
    changes: Changes
    value: int


@pytest.fixture
def parent(qtbot) -> QWidget:  # type: ignore[no-untyped-def]
    widget = QWidget()
    qtbot.addWidget(widget)
    return widget


@pytest.fixture
def said(qtbot) -> list[messages.Message]:  # type: ignore[no-untyped-def]
    heard: list[messages.Message] = []
    messages.bridge().said.connect(heard.append)
    yield heard
    messages.bridge().said.disconnect(heard.append)


@pytest.fixture
def crashes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """Each crash dialog: its summary, and whether it opened on the GUI thread."""
    seen: list[tuple[str, bool]] = []
    monkeypatch.setattr(
        messages,
        "show_crash_dialog",
        lambda parent, summary: seen.append((summary, threading.current_thread() is threading.main_thread())),
    )
    return seen


def test_a_commands_change_flags_reach_listeners_before_its_callback(qtbot, ctx: AppContext, parent: QWidget) -> None:  # type: ignore[no-untyped-def]
    order: list[object] = []
    ctx.changed.connect(lambda changes: order.append(changes))
    worker_threads: list[bool] = []

    def op(job: commands.Job) -> _Written:
        worker_threads.append(threading.current_thread() is not threading.main_thread())
        return _Written(Changes.TRANSFERS | Changes.INVENTORY, 7)

    run_command(parent, ctx, op, lambda result: order.append(result.value))
    qtbot.waitUntil(lambda: len(order) == 2)
    assert order == [Changes.TRANSFERS | Changes.INVENTORY, 7]
    assert worker_threads == [True]


def test_a_command_without_change_flags_is_a_bug(
    qtbot,
    ctx: AppContext,
    parent: QWidget,  # type: ignore[no-untyped-def]
    crashes: list[tuple[str, bool]],
) -> None:
    done: list[object] = []
    run_command(parent, ctx, lambda job: "no flags", done.append)
    qtbot.waitUntil(lambda: bool(crashes))
    assert "must return its change flags" in crashes[0][0] and not done


def test_commands_run_one_at_a_time_in_order(qtbot, ctx: AppContext, parent: QWidget) -> None:  # type: ignore[no-untyped-def]
    ran: list[int] = []
    busy = threading.Lock()

    def op(n: int) -> Changes:
        assert busy.acquire(blocking=False), "two commands ran at once"
        ran.append(n)
        busy.release()
        return Changes.NONE

    for n in range(20):
        run_command(parent, ctx, lambda job, n=n: op(n))
    assert commands.wait_until_idle()
    assert ran == list(range(20))


def test_metrc_retry_and_resolve_return_their_flags(qtbot, ctx: AppContext, parent: QWidget, store) -> None:  # type: ignore[no-untyped-def]
    """Every write returns change flags, the manager's METRC retry/resolve too."""
    from backoffice.domain.enums import OutboxKind, OutboxStatus
    from backoffice.services import outbox
    from backoffice.services.actor import SYSTEM
    from backoffice.services.ledger import Doc

    db, actors = store
    with db.transaction() as session:
        entry = outbox.enqueue(
            session, SYSTEM, OutboxKind.ADJUST, [{"Label": "1A4060300000000000000000"}], Doc("test", 1), "retry-me"
        )
        entry.status, entry.last_error = OutboxStatus.FAILED, "400: bad"
        session.flush()
        entry_id = entry.id
    heard: list[Changes] = []
    ctx.changed.connect(heard.append)
    run_command(parent, ctx, lambda job: metrc_sync.retry(db, actors["maria"], entry_id))
    qtbot.waitUntil(lambda: bool(heard))
    assert heard[-1] & Changes.OUTBOX and heard[-1] & Changes.AUDIT
    run_command(parent, ctx, lambda job: metrc_sync.resolve(db, actors["maria"], entry_id, "entered by hand"))
    qtbot.waitUntil(lambda: len(heard) == 2)
    assert heard[-1] & Changes.OUTBOX


def test_a_worker_exception_reaches_the_crash_dialog_on_the_gui_thread(  # type: ignore[no-untyped-def]
    qtbot,
    ctx: AppContext,
    parent: QWidget,
    crashes: list[tuple[str, bool]],
    said: list[messages.Message],
    caplog: pytest.LogCaptureFixture,
) -> None:
    def op(job: commands.Job) -> Changes:
        raise KeyError("boom")

    run_command(parent, ctx, op)
    qtbot.waitUntil(lambda: bool(crashes))
    assert crashes == [("KeyError: 'boom'", True)]
    assert [m.kind for m in said] == [messages.Kind.CRASH]
    assert any(r.name == "crash" and r.exc_info for r in caplog.records)  # logged with the traceback


def test_a_bug_in_a_query_reaches_the_crash_dialog_too(
    qtbot,
    parent: QWidget,  # type: ignore[no-untyped-def]
    crashes: list[tuple[str, bool]],
) -> None:
    run_query(parent, lambda job: 1 / 0, lambda result: None)
    qtbot.waitUntil(lambda: bool(crashes))
    assert crashes[0][0].startswith("ZeroDivisionError") and crashes[0][1]


def test_a_user_error_is_a_problem_box_opened_on_the_gui_thread(  # type: ignore[no-untyped-def]
    qtbot, ctx: AppContext, parent: QWidget, monkeypatch: pytest.MonkeyPatch
) -> None:
    boxes: list[tuple[str, bool]] = []
    monkeypatch.setattr(
        QMessageBox,
        "warning",
        staticmethod(
            lambda parent, title, text: boxes.append((text, threading.current_thread() is threading.main_thread()))
        ),
    )

    def op(job: commands.Job) -> Changes:
        raise ValidationError("the quantity must be a number, e.g. 3.5")

    run_command(parent, ctx, op)
    qtbot.waitUntil(lambda: bool(boxes))
    assert boxes == [("the quantity must be a number, e.g. 3.5", True)]


def test_on_error_handles_what_a_person_can_fix(qtbot, ctx: AppContext, parent: QWidget) -> None:  # type: ignore[no-untyped-def]
    handled: list[BaseException] = []

    def op(job: commands.Job) -> Changes:
        raise ValidationError("no")

    run_command(parent, ctx, op, on_error=handled.append)
    qtbot.waitUntil(lambda: bool(handled))
    assert isinstance(handled[0], ValidationError)


def test_a_message_said_on_a_worker_thread_is_presented_on_the_gui_thread(  # type: ignore[no-untyped-def]
    qtbot, said: list[messages.Message], caplog: pytest.LogCaptureFixture
) -> None:
    threads: list[bool] = []
    messages.bridge().said.connect(lambda m: threads.append(threading.current_thread() is threading.main_thread()))
    worker = threading.Thread(target=lambda: messages.warning("METRC did not answer; trying again in 5 minutes."))
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: bool(said))
    assert said[0].kind is messages.Kind.WARNING and threads == [True]
    assert any("METRC did not answer" in r.getMessage() for r in caplog.records if r.name == "messages")


def test_the_query_runner_drops_stale_results(qtbot, parent: QWidget) -> None:  # type: ignore[no-untyped-def]
    runner = QueryRunner(parent)
    release_first = threading.Event()
    shown: list[str] = []

    def slow(job: commands.Job) -> str:
        release_first.wait(5)
        return "old filter"

    runner.run(slow, shown.append)
    runner.run(lambda job: "new filter", shown.append)
    qtbot.waitUntil(lambda: shown == ["new filter"])
    assert not runner.busy
    release_first.set()
    commands.wait_until_idle()
    qtbot.wait(50)  # give the stale result every chance to be delivered
    assert shown == ["new filter"]


def test_a_cancelled_progress_job_says_so(
    qtbot,
    ctx: AppContext,
    parent: QWidget,  # type: ignore[no-untyped-def]
    said: list[messages.Message],
) -> None:
    started = threading.Event()

    def op(job: commands.Job) -> Changes:
        started.set()
        while not job.cancelled():
            job.progress("working", 0.5)
            threading.Event().wait(0.01)
        raise Cancelled()

    job = run_command(parent, ctx, op, progress="Doing a long thing")
    assert started.wait(5)
    job.cancel()
    qtbot.waitUntil(lambda: bool(said))
    assert said[0].kind is messages.Kind.WARNING and "Cancelled" in said[0].text
    assert QApplication.activeModalWidget() is None
