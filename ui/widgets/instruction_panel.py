"""The current instruction or problem, in full, beside a tab's scan area.

The status line holds one line and is cut off; what a person must read ("Create the item
from this manifest line…", "if a second package carries this tag…") goes here instead,
wrapped over as many lines as it needs, with a coloured bar for its kind.

A tab that takes scans creates one, puts it beside its scan area and assigns it to
``self.panel``; while the tab is in front, the main window shows each scan's answer and
every status message there too. The tab sets its own standing instruction with
``panel.show_instruction(...)`` (also what ``reset()`` returns to).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QWidget

KIND_COLOURS = {"info": "#1565c0", "ok": "#2e7d32", "warn": "#ef6c00", "error": "#c62828"}


class InstructionPanel(QFrame):
    def __init__(self, instruction: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("instructionPanel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.bar = QWidget()
        self.bar.setFixedWidth(6)
        self.bar.setAutoFillBackground(True)
        self.label = QLabel()
        self.label.setObjectName("instructionText")
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.label.setMinimumHeight(3 * self.fontMetrics().lineSpacing())
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 6, 0)
        layout.addWidget(self.bar)
        layout.addWidget(self.label, 1)
        self.kind = "info"
        self._instruction = instruction
        self.reset()

    def text(self) -> str:
        return self.label.text()

    def show_message(self, text: str, kind: str = "info") -> None:
        """``kind`` is a status kind: info, ok, warn or error (a problem)."""
        self.kind = kind if kind in KIND_COLOURS else "info"
        self.label.setText(text)
        # a palette, not a style sheet: re-polishing costs milliseconds on every scan
        palette = self.bar.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor(KIND_COLOURS[self.kind]))
        self.bar.setPalette(palette)

    def show_instruction(self, text: str) -> None:
        """The standing instruction for the step the person is at; unchanged, it leaves the
        last answer in view (a refresh must not wipe a problem the person is reading)."""
        if text == self._instruction:
            return
        self._instruction = text
        self.show_message(text, "info")

    def show_problem(self, text: str) -> None:
        self.show_message(text, "error")

    def reset(self) -> None:
        """Back to the standing instruction (a new user signed in, a new step began)."""
        self.show_message(self._instruction, "info")
