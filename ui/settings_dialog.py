"""Settings: this workstation's (QSettings) and the store's (database, admin only)."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from backoffice.services import metrc_setup
from backoffice.services import settings as store_settings
from backoffice.services.actor import Permission
from backoffice.services.changes import Changes
from ui.commands import Job, submit_dialog
from ui.context import AppContext

IDLE_MINUTES_KEY = "session/idle_minutes"
DB_URL_KEY = "database/url"
PRINTER_KEY = "labels/printer"
DEFAULT_IDLE_MINUTES = 10


def idle_minutes(settings: QSettings) -> int:
    return int(str(settings.value(IDLE_MINUTES_KEY, DEFAULT_IDLE_MINUTES)))


class SettingsDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Settings")
        qs = ctx.settings

        machine = QGroupBox("This workstation")
        self.db_url = QLineEdit(str(qs.value(DB_URL_KEY, "")))
        self.db_url.setPlaceholderText(f"default: {ctx.db.display_url}")
        self.db_url.setToolTip("Takes effect at the next start. Empty: the default SQLite file or $BACKOFFICE_DB.")
        self.idle = QSpinBox()
        self.idle.setRange(1, 240)
        self.idle.setSuffix(" min")
        self.idle.setValue(idle_minutes(qs))
        from PySide6.QtPrintSupport import QPrinterInfo  # loaded when the dialog opens, not with the window

        self.printer = QComboBox()
        self.printer.addItem("(system default)", "")
        for name in QPrinterInfo.availablePrinterNames():
            self.printer.addItem(name, name)
        self.printer.setCurrentIndex(max(0, self.printer.findData(qs.value(PRINTER_KEY, ""))))
        form = QFormLayout(machine)
        form.addRow("Database URL", self.db_url)
        form.addRow("Sign out after idle", self.idle)
        form.addRow("Label printer", self.printer)

        store = QGroupBox("Store (shared by every workstation)")
        self.store_name = QLineEdit(store_settings.read(ctx.db, store_settings.STORE_NAME))
        self.license = QLineEdit(store_settings.read(ctx.db, store_settings.LICENSE_NUMBER))
        self.timezone = QLineEdit(store_settings.read(ctx.db, store_settings.TIMEZONE))
        self.strict_tags = QCheckBox("Tags must be 1A4 + 21 hex characters")
        self.strict_tags.setChecked(store_settings.read(ctx.db, store_settings.STRICT_TAGS))
        sform = QFormLayout(store)
        sform.addRow("Store name", self.store_name)
        sform.addRow("METRC license", self.license)
        sform.addRow("Time zone", self.timezone)
        sform.addRow("", self.strict_tags)
        metrc = metrc_setup.current(ctx.db)
        self.metrc_url = QLineEdit(metrc.base_url)
        self.metrc_url.setObjectName("metrcUrl")
        self.metrc_url.setPlaceholderText("empty: manual mode (CSV upload); e.g. https://api-ca.metrc.com/")
        self.metrc_api = QComboBox()
        self.metrc_api.setObjectName("metrcApi")
        for version, label in (("v2", "v2 (current API)"), ("v1", "v1 (states that still run it)")):
            self.metrc_api.addItem(label, version)
        self.metrc_api.setCurrentIndex(max(0, self.metrc_api.findData(metrc.api_version)))
        self.metrc_api.setToolTip("METRC integrator keys are tied to one API version: choose the one the keys are for.")
        self.metrc_window = QSpinBox()
        self.metrc_window.setRange(1, 24 * 31)
        self.metrc_window.setSuffix(" h")
        self.metrc_window.setValue(metrc.window_hours)
        self.metrc_window.setToolTip("Longest lastModified window per list call; many states allow 24 hours.")
        self.metrc_in_flight = QSpinBox()
        self.metrc_in_flight.setRange(1, 16)
        self.metrc_in_flight.setValue(metrc.max_in_flight)
        self.retail_id_required = QCheckBox("The state requires a Retail ID QR code on every unit")
        self.retail_id_required.setChecked(metrc.retail_id_required)
        sform.addRow("METRC address", self.metrc_url)
        sform.addRow("METRC API version", self.metrc_api)
        sform.addRow("METRC window per call", self.metrc_window)
        sform.addRow("METRC calls at once", self.metrc_in_flight)
        sform.addRow("", self.retail_id_required)
        if not ctx.actor.can(Permission.MANAGE_SETTINGS):
            store.setEnabled(False)
            store.setToolTip(f"Your role ({ctx.actor.role.value}) may not change store settings.")
        self.store_box = store

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(machine)
        layout.addWidget(store)
        layout.addWidget(buttons)

    def save(self) -> None:
        qs = self.ctx.settings
        qs.setValue(DB_URL_KEY, self.db_url.text().strip())
        qs.setValue(IDLE_MINUTES_KEY, self.idle.value())
        qs.setValue(PRINTER_KEY, self.printer.currentData())
        if not self.store_box.isEnabled():
            self.ctx.notify(Changes.SETTINGS)  # this workstation's own settings (QSettings)
            self.accept()
            return
        db, actor = self.ctx.db, self.ctx.actor
        values = {
            store_settings.STORE_NAME.key: self.store_name.text().strip(),
            store_settings.LICENSE_NUMBER.key: self.license.text().strip(),
            store_settings.TIMEZONE.key: self.timezone.text().strip(),
            store_settings.STRICT_TAGS.key: self.strict_tags.isChecked(),
            store_settings.METRC_BASE_URL.key: self.metrc_url.text().strip(),
            store_settings.METRC_API_VERSION.key: self.metrc_api.currentData(),
            store_settings.METRC_WINDOW_HOURS.key: self.metrc_window.value(),
            store_settings.METRC_MAX_IN_FLIGHT.key: self.metrc_in_flight.value(),
            store_settings.RETAIL_ID_REQUIRED.key: self.retail_id_required.isChecked(),
        }

        def write(job: Job) -> Changes:
            # checked as `backoffice settings set` checks; one audited transaction, all or nothing
            return store_settings.set_values(db, actor, values).changes | Changes.SETTINGS

        submit_dialog(self, self.ctx, write)
