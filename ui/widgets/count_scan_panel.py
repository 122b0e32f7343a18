"""The Cycle Count tab's scan panel: where the counter is, what was scanned, the quantity
field (digits and Enter, as a scanner's keypad sends them) and the recount switch."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from backoffice.services.counts import TagCount


class CountScanPanel(QGroupBox):
    def __init__(self) -> None:
        super().__init__("Scan to count")
        self.setObjectName("scanPanel")
        self.location_box = QComboBox()
        self.location_box.setObjectName("countLocation")
        self.location_box.setToolTip(
            "Where you are counting. On the sales floor, a package whose transfer is not recorded is refused."
        )
        self.scanned = QLabel("Scan a package's tag.")
        self.scanned.setObjectName("scannedPackage")
        self.scanned.setWordWrap(True)
        self.scanned.setTextFormat(Qt.TextFormat.RichText)
        self.scanned.setMinimumHeight(64)
        self.scanned.setAlignment(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
        self.quantity = QLineEdit()
        self.quantity.setObjectName("countQuantity")
        self.quantity.setPlaceholderText("units, Enter")
        self.quantity.setFixedWidth(150)
        self.quantity.setValidator(QRegularExpressionValidator(r"^\d{0,7}([.,]\d{0,4})?$", self.quantity))
        self.quantity.setStyleSheet("font-size: 18pt")
        self.quantity.setEnabled(False)
        self.unit_label = QLabel()
        self.recount = QCheckBox("Recount: replace what was counted before")
        self.recount.setObjectName("recountCheck")
        self.record_button = QPushButton("Record count")
        self.record_button.setObjectName("recordCountButton")
        self.record_button.setEnabled(False)
        self.last = QLabel("Scan a tag, type the units you see, press Enter.")
        self.last.setObjectName("lastRecorded")
        self.last.setWordWrap(True)
        self.last.setStyleSheet("color: gray")
        self.setToolTip(
            "Scan a tag, type the number of units you see, press Enter. Counting the same "
            "package again adds to it (two counters, two shelves); tick Recount to replace."
        )
        where = QFormLayout()
        where.addRow("Counting at", self.location_box)
        left = QVBoxLayout()
        left.addLayout(where)
        left.addWidget(self.last)
        left.addStretch(1)
        entry = QVBoxLayout()
        quantity_row = QHBoxLayout()
        quantity_row.addWidget(self.quantity)
        quantity_row.addWidget(self.unit_label)
        quantity_row.addWidget(self.record_button)
        entry.addLayout(quantity_row)
        entry.addWidget(self.recount)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 2)
        layout.addWidget(self.scanned, 3)
        layout.addLayout(entry)

    def show_tag(self, status: TagCount) -> None:
        """The scanned package, waiting for its quantity."""
        colour = "#2e7d32" if status.known and status.in_scope else ("#6a1b9a" if status.known else "#c62828")
        scope = "in scope" if status.in_scope else ("outside the scope" if status.known else "not in this store")
        so_far = (
            f"Counted so far: <b>{status.counted.normalize():f}</b> ({status.entries} entr"
            f"{'y' if status.entries == 1 else 'ies'} by {escape(status.counted_by)})"
            if status.counted is not None
            else "Not counted yet"
        )
        self.scanned.setText(
            f"<span style='font-size:13pt'><b>{escape(status.item)}</b></span><br><tt>{status.tag}</tt><br>"
            f"{escape(status.location or '—')} · <span style='color:{colour}'>{scope}</span><br>{so_far}"
        )
        self.unit_label.setText(status.unit.value if status.unit else "")
        self.quantity.setEnabled(True)
        self.record_button.setEnabled(True)
        self.quantity.clear()
        self.quantity.setFocus()

    def clear_tag(self) -> None:
        self.scanned.setText("Scan a package's tag.")
        self.unit_label.clear()
        self.quantity.clear()
        self.quantity.setEnabled(False)
        self.record_button.setEnabled(False)
        self.recount.setChecked(False)
