"""The window an associate lives in all day: tabs, scan handling, who is signed in."""

from __future__ import annotations

import time
from typing import Any, TypeVar

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QAction, QColor, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QToolBar,
    QWidget,
)

from backoffice import __version__
from backoffice.domain.tags import normalize_tag, tag_problem
from backoffice.errors import UserError
from backoffice.services import retail_id
from backoffice.services import settings as store_settings
from backoffice.services.changes import Changes
from backoffice.services.users import UserInfo
from ui import messages
from ui.context import AppContext
from ui.login import LoginDialog
from ui.scan_router import ScanRouter
from ui.scanner import ScanDetector, mark_scan_field, unit_code_package
from ui.settings_dialog import SettingsDialog, idle_minutes
from ui.tabs import TABS, spec_of
from ui.tabs.base import ScanFeedback, Tab
from ui.tabs.inventory import InventoryTab
from ui.theme import STATUS_COLOURS

READY = "Ready. Scan a tag anywhere in this window."
T = TypeVar("T", bound=Tab)


class MainWindow(QMainWindow):
    UNSEEN_TABS_DELAY_MS = 3000  # tabs that work unseen are built once start-up and the first page are over

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setObjectName("mainWindow")
        self.store_name = store_settings.read(ctx.db, store_settings.STORE_NAME)
        self.strict_tags = store_settings.read(ctx.db, store_settings.STRICT_TAGS)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("mainTabs")
        self.tabs.setDocumentMode(True)
        # Every tab is listed from the start; each is built when first shown (see _build), so
        # start-up imports and builds only the Inventory tab, where a sign-in starts.
        self._built: list[Tab | None] = [None] * len(TABS)
        for spec in TABS:
            self.tabs.addTab(QWidget(), spec.title)
        self.tabs.currentChanged.connect(self._build)
        self._build(TABS.index(spec_of(InventoryTab)))
        QTimer.singleShot(self.UNSEEN_TABS_DELAY_MS, self, self._build_unseen_tabs)
        self.setCentralWidget(self.tabs)
        self._build_toolbar()
        self._build_status()
        self._build_shortcuts()

        self.scanner = ScanDetector(self)
        self.scan_router = ScanRouter(self, self.handle_scan)
        self.scanner.scanned.connect(self.scan_router.route)
        self.scan_router.held.connect(
            lambda code: self.show_status(f"{code} will be handled when this dialog is closed.", "warn")
        )
        self.scanner.double_scan.connect(
            lambda code: self.show_status(f"{code} was just scanned; ignored the repeat.", "info")
        )
        ctx.changed.connect(self._on_changed)
        messages.bridge().said.connect(self._on_message)
        ctx.user_changed.connect(self._apply_user)

        self._last_activity = time.monotonic()
        self._idle_timer = QTimer(self)
        self._idle_timer.setInterval(15_000)
        self._idle_timer.timeout.connect(self._check_idle)
        self._idle_timer.start()
        self._apply_user()
        self._restore_layout()

    # --- chrome ------------------------------------------------------------------------------

    def _build_toolbar(self) -> None:
        bar = QToolBar("Main")
        bar.setObjectName("mainToolbar")
        bar.setMovable(False)
        self.scan_entry = QLineEdit()
        self.scan_entry.setObjectName("scanEntry")
        self.scan_entry.setPlaceholderText("Scan or type a tag, then Enter  (F2)")
        self.scan_entry.setMaximumWidth(360)
        mark_scan_field(self.scan_entry)
        self.scan_entry.returnPressed.connect(self._manual_entry)
        bar.addWidget(QLabel(" Tag: "))
        bar.addWidget(self.scan_entry)
        spacer = QWidget()
        spacer.setSizePolicy(spacer.sizePolicy().horizontalPolicy().Expanding, spacer.sizePolicy().verticalPolicy())
        bar.addWidget(spacer)
        self.user_label = QLabel()
        self.user_label.setObjectName("userLabel")
        bar.addWidget(self.user_label)
        for text, slot in (("Sign out", self.sign_out), ("Settings…", self.open_settings), ("About", self.about)):
            action = QAction(text, self)
            action.triggered.connect(slot)
            bar.addAction(action)
        self.addToolBar(bar)

    def _build_status(self) -> None:
        self.status_label = QLabel(READY)
        self.status_label.setObjectName("scanStatus")
        self.status_label.setAutoFillBackground(True)
        self.status_label.setContentsMargins(6, 2, 6, 2)
        self.status_kind = "info"
        self.statusBar().addWidget(self.status_label, 1)
        self.db_label = QLabel(self.ctx.db.display_url)
        self.db_label.setStyleSheet("color: gray")
        self.statusBar().addPermanentWidget(self.db_label)
        self._status_reset = QTimer(self)
        self._status_reset.setSingleShot(True)
        self._status_reset.setInterval(2500)
        self._status_reset.timeout.connect(lambda: self._colour_status("info"))

    def _build_shortcuts(self) -> None:
        for number in range(1, len(TABS) + 1):
            QShortcut(QKeySequence(f"Ctrl+{number}"), self).activated.connect(
                lambda n=number - 1: self.tabs.setCurrentIndex(n)
            )
        for key in ("F2", "Ctrl+L"):
            QShortcut(QKeySequence(key), self).activated.connect(self.scan_entry.setFocus)

    # --- scans -------------------------------------------------------------------------------

    def _manual_entry(self) -> None:
        code = self.scan_entry.text()
        self.scan_entry.clear()
        if code.strip():
            self.handle_scan(code)

    def handle_scan(self, raw: str) -> ScanFeedback:
        self._last_activity = time.monotonic()
        if retail_id.is_qr(raw):
            return self._show_feedback(self._unit_scan(raw))
        code = normalize_tag(raw)
        problem = tag_problem(code, strict=self.strict_tags)
        if problem is not None:
            feedback = ScanFeedback(
                False, f"“{code[:40]}” is not a METRC tag: {problem}. Scan the package's tag barcode."
            )
        else:
            feedback = self._dispatch(code, unit=False)
        return self._show_feedback(feedback)

    def _dispatch(self, tag: str, *, unit: bool) -> ScanFeedback:
        current = self.tabs.currentWidget()
        handler = (current.handle_unit_scan if unit else current.handle_scan) if isinstance(current, Tab) else None
        feedback = handler(tag) if handler is not None and current.isEnabled() else None
        if feedback is None:
            inventory = self._inventory_tab()
            self.tabs.setCurrentWidget(inventory)
            feedback = inventory.handle_scan(tag) or ScanFeedback(False, f"Nothing handles tag {tag}.")
        return feedback

    def _unit_scan(self, raw: str) -> ScanFeedback:
        """A Retail ID QR code stands for one unit of its package."""
        try:
            tag = unit_code_package(
                self,
                self.ctx,
                raw,
                later=lambda found: self._show_feedback(self._dispatch(found, unit=True)),
                failed=lambda message: self._show_feedback(ScanFeedback(False, message)),
            )
        except UserError as exc:
            return ScanFeedback(False, str(exc))
        if tag is None:
            return ScanFeedback(True, "Unit code scanned: asking METRC for its package…", working=True)
        return self._dispatch(tag, unit=True)

    def _show_feedback(self, feedback: ScanFeedback) -> ScanFeedback:
        self.show_status(feedback.message, "info" if feedback.working else "ok" if feedback.ok else "error")
        if not feedback.ok:
            QApplication.beep()
        return feedback

    def _on_message(self, message: messages.Message) -> None:
        if message.in_status_line:
            self.show_status(message.text, message.kind.value)
        if message.kind is messages.Kind.ERROR:
            QApplication.beep()

    def show_status(self, message: str, kind: str = "info") -> None:
        """The status line, and the panel of the tab in front when it has one."""
        self.status_label.setText(message)
        self._colour_status(kind)
        self._status_reset.start()
        current = self.tabs.currentWidget()
        if isinstance(current, Tab) and current.panel is not None:
            current.panel.show_message(message, kind)

    def _colour_status(self, kind: str) -> None:
        # a palette, not a style sheet: re-polishing a style sheet costs milliseconds per scan
        self.status_kind = kind
        palette = self.statusBar().palette()
        colour = STATUS_COLOURS.get(kind, "")
        if colour:
            palette.setColor(QPalette.ColorRole.Window, QColor(colour))
            palette.setColor(QPalette.ColorRole.WindowText, QColor("white"))
        self.status_label.setPalette(palette)

    def _inventory_tab(self) -> InventoryTab:
        return self.tab(InventoryTab)

    # --- tabs, built on first view ----------------------------------------------------------

    def tab(self, kind: type[T]) -> T:
        """The tab of this class, built now if it has not been shown yet."""
        tab = self._build(TABS.index(spec_of(kind)))
        if not isinstance(tab, kind):
            raise TypeError(f"the {spec_of(kind).title} tab is a {type(tab).__name__}")
        return tab

    @property
    def tab_widgets(self) -> list[Tab]:
        """Every tab, in order, building those not shown yet (the self-test, screenshots)."""
        return [self._build(index) for index in range(len(TABS))]

    def built_tabs(self) -> list[Tab]:
        return [tab for tab in self._built if tab is not None]

    def _build_unseen_tabs(self) -> None:
        """The METRC tab sends the outbox every few minutes, whether or not anyone opens it."""
        for index, spec in enumerate(TABS):
            if spec.works_unseen:
                self._build(index)

    def _build(self, index: int) -> Tab:
        """Put the tab at ``index`` in place of its placeholder. It reads what it shows as it is
        built, so the changes announced before it existed need no replay."""
        built = self._built[index]
        if built is not None:
            return built
        tab = TABS[index].load()(self.ctx)
        self._built[index] = tab
        placeholder = self.tabs.widget(index)
        enabled, tip = self.tabs.isTabEnabled(index), self.tabs.tabToolTip(index)
        showing = self.tabs.currentIndex() == index
        # insert before the placeholder, then drop it: no other tab comes to the front on the way,
        # and the index shifts on the way are no news (signals blocked)
        was_blocked = self.tabs.blockSignals(True)
        self.tabs.insertTab(index, tab, TABS[index].title)
        self.tabs.setTabEnabled(index, enabled)
        self.tabs.setTabToolTip(index, tip)
        if showing:
            self.tabs.setCurrentIndex(index)
        self.tabs.removeTab(index + 1)
        self.tabs.blockSignals(was_blocked)
        if placeholder is not None:
            placeholder.deleteLater()
        self._restore_splitters(tab)
        return tab

    # --- users -------------------------------------------------------------------------------

    def _apply_user(self) -> None:
        """A new person: their own tabs, from the Inventory tab, with nothing left of the last one's messages."""
        self.show_status(READY, "info")
        self._status_reset.stop()
        for tab in self.built_tabs():
            if tab.panel is not None:
                tab.panel.reset()
        if not self.ctx.signed_in:
            self.user_label.setText("Not signed in ")
            return
        actor = self.ctx.actor
        self.user_label.setText(f"Signed in: <b>{actor.username}</b> ({actor.role.value}) ")
        for index, spec in enumerate(TABS):
            needed = spec.permission
            allowed = needed is None or actor.can(needed)
            self.tabs.setTabEnabled(index, allowed)
            refusal = "" if needed is None or allowed else f"Your role ({actor.role.value}) may not {needed.value}."
            self.tabs.setTabToolTip(index, refusal)
        start = self.tabs.indexOf(self._inventory_tab())
        enabled = [i for i in range(self.tabs.count()) if self.tabs.isTabEnabled(i)]
        self.tabs.setCurrentIndex(start if start in enabled else enabled[0])

    def sign_out(self) -> None:
        username = self.ctx.actor.username if self.ctx.signed_in else ""
        self.ctx.sign_out()
        self.hide()
        if not self.prompt_login(username=username):
            self.close()
            return
        self.show()

    def prompt_login(self, *, username: str = "") -> bool:
        dialog = LoginDialog(self.ctx, self.store_name, self if self.isVisible() else None, username=username)
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.user is None:
            return False
        self.signed_in(dialog.user)
        return True

    def signed_in(self, user: UserInfo) -> None:
        self.ctx.sign_in(user.as_actor())
        self._last_activity = time.monotonic()

    def note_activity(self) -> None:
        self._last_activity = time.monotonic()

    def _check_idle(self) -> None:
        if self.ctx.signed_in and time.monotonic() - self._last_activity > idle_minutes(self.ctx.settings) * 60:
            self.show_status("Signed out after inactivity.", "warn")
            self.sign_out()

    # --- refresh, settings, about, layout -----------------------------------------------------

    def _on_changed(self, changes: Changes) -> None:
        for tab in self.built_tabs():  # a tab built later reads the news as it is built
            tab.refresh(changes)

    def open_settings(self) -> None:
        if SettingsDialog(self.ctx, self).exec() == QDialog.DialogCode.Accepted:  # it announced its changes
            self.strict_tags = store_settings.read(self.ctx.db, store_settings.STRICT_TAGS)

    def about(self) -> None:
        QMessageBox.about(
            self,
            "About Vault Workstation",
            f"<h3>Vault Workstation {__version__}</h3><p>{self.store_name}</p>"
            f"<p>Database: <tt>{self.ctx.db.display_url}</tt></p>",
        )

    def _restore_layout(self) -> None:
        qs = self.ctx.settings
        geometry = qs.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 880)
        state = qs.value("window/state")
        if state is not None:
            self.restoreState(state)
        self._restore_splitters(self)

    def _restore_splitters(self, within: QWidget) -> None:
        for splitter in within.findChildren(QSplitter):
            saved = self.ctx.settings.value(f"splitters/{splitter.objectName()}")
            if splitter.objectName() and saved is not None:
                splitter.restoreState(saved)

    def closeEvent(self, event: Any) -> None:  # noqa: N802
        qs = self.ctx.settings
        qs.setValue("window/geometry", self.saveGeometry())
        qs.setValue("window/state", self.saveState())
        for splitter in self.findChildren(QSplitter):
            if splitter.objectName():
                qs.setValue(f"splitters/{splitter.objectName()}", splitter.saveState())
        super().closeEvent(event)


class ActivityWatcher(QObject):
    """Any key or mouse press counts as activity for the idle sign-out."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() in (QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.Wheel):
            self.window.note_activity()
        return False
