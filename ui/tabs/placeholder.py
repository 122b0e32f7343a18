"""A tab whose workflow is not built yet says plainly what it will hold (no fake data)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout

from backoffice.services.actor import Permission
from ui.context import AppContext
from ui.tabs.base import Tab


def placeholder(title: str, permission: Permission, text: str) -> type[Tab]:
    class _Placeholder(Tab):
        def __init__(self, ctx: AppContext) -> None:
            super().__init__(ctx)
            label = QLabel(f"<h2>{title}</h2><p>{text}</p><p><i>Not available yet in this version.</i></p>")
            label.setWordWrap(True)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout = QVBoxLayout(self)
            layout.addWidget(label)

    _Placeholder.title = title
    _Placeholder.permission = permission
    _Placeholder.__name__ = f"{title.replace(' ', '')}Placeholder"
    return _Placeholder
