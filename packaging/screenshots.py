"""Regenerate the README screenshots: every tab of the main window on a demo store.

Usage: QT_QPA_PLATFORM=offscreen python packaging/screenshots.py DB_URL OUT_DIR
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication


def main() -> int:
    url, out = sys.argv[1], Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication([])
    from backoffice.db.engine import Database
    from backoffice.services import users
    from ui.context import AppContext
    from ui.main_window import MainWindow
    from ui.tabs.inventory import InventoryTab
    from ui.theme import follow_desktop

    follow_desktop(app)
    db = Database(url)
    ctx = AppContext(db, QSettings(str(out / "screens.ini"), QSettings.Format.IniFormat))
    window = MainWindow(ctx)
    ctx.sign_in(users.authenticate(db, "maria", "222222").as_actor())
    window.resize(1500, 900)
    window.show()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)
    inventory = window.tab(InventoryTab)
    if inventory.model.rows:
        window.handle_scan(inventory.model.rows[3].tag)
    for index, tab in enumerate(window.tab_widgets):
        window.tabs.setCurrentIndex(index)
        settle = time.monotonic() + 2  # tabs load off the GUI thread when first shown
        while time.monotonic() < settle:
            app.processEvents()
            time.sleep(0.02)
        name = tab.title.lower().replace(" ", "-")
        window.grab().save(str(out / f"{index + 1:02d}-{name}.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
