"""How many unused package tags the store has for splits, a warning when they run low, and
the managers' import from a tag order file or from METRC (Transfers tab)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QWidget

from backoffice.services import tag_pool
from backoffice.services.actor import Permission
from backoffice.services.tag_pool import TagImportResult, TagSupply
from ui import messages
from ui.commands import QueryRunner, run_command
from ui.context import AppContext

FOLDER_KEY = "tags/folder"


class TagSupplyBar(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.label = QLabel("Unused package tags: …")
        self.label.setObjectName("tagSupply")
        self.file_button = QPushButton("Import tags from file…")
        self.file_button.setObjectName("importTagsFile")
        self.metrc_button = QPushButton("Import tags from METRC")
        self.metrc_button.setObjectName("importTagsMetrc")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.file_button)
        layout.addWidget(self.metrc_button)
        self.file_button.clicked.connect(self.import_file)
        self.metrc_button.clicked.connect(self.import_metrc)
        self.supply: TagSupply | None = None
        self._loader = QueryRunner(self)
        ctx.user_changed.connect(self.reload)  # the import buttons are for managers

    def reload(self) -> None:
        allowed = self.ctx.signed_in and self.ctx.actor.can(Permission.IMPORT_TAGS)
        for button in (self.file_button, self.metrc_button):
            button.setVisible(allowed)
        if not self.ctx.signed_in:  # the supply is read as the signed-in user
            return
        db, actor = self.ctx.db, self.ctx.actor
        self._loader.run(lambda job: tag_pool.supply(db, actor), self._show)

    def _show(self, supply: TagSupply) -> None:
        self.supply = supply
        warning = supply.warning()
        self.label.setText(f"⚠ {warning}" if warning else f"Unused package tags: {supply.available}")
        self.label.setStyleSheet("color: #b71c1c; font-weight: bold;" if warning else "")
        self.label.setToolTip(
            f"Splits take the next unused tag. The warning shows below {supply.threshold} (setting low_tag_threshold)."
        )

    def import_file(self) -> None:
        folder = str(self.ctx.settings.value(FOLDER_KEY, "") or Path.home())
        name, _ = QFileDialog.getOpenFileName(
            self, "Tag order (one tag or FIRST-LAST range per line)", folder, "Tag orders (*.txt *.csv);;All files (*)"
        )
        if not name:
            return
        self.ctx.settings.setValue(FOLDER_KEY, str(Path(name).parent))
        db, actor, path = self.ctx.db, self.ctx.actor, Path(name)
        run_command(self, self.ctx, lambda job: tag_pool.import_file(db, actor, path), self._imported)

    def import_metrc(self) -> None:
        db, actor = self.ctx.db, self.ctx.actor
        run_command(
            self,
            self.ctx,
            lambda job: tag_pool.import_from_metrc(db, actor),
            self._imported,
            network=True,
            progress="Fetching the store's available tags from METRC",
        )

    def _imported(self, result: TagImportResult) -> None:
        messages.ok(result.describe())
