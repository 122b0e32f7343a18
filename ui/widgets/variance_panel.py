"""The Cycle Count tab's variance table: counted vs ledger vs POS vs METRC per package, what to
show (all, differences, …) and a text filter above it, and the buttons that act on the chosen line
below it (recount, adjust, fix METRC). The tab connects the buttons and the selection."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ui.models.count_models import Col, Show, VarianceFilter, VarianceTableModel


class VariancePanel(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.model = VarianceTableModel()
        self.proxy = VarianceFilter(self)
        self.proxy.setSourceModel(self.model)
        self.view = QTableView()
        self.view.setObjectName("varianceTable")
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(Col.VALUE, Qt.SortOrder.DescendingOrder)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(24)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.view.horizontalHeader().setSectionResizeMode(Col.ITEM, QHeaderView.ResizeMode.Stretch)
        for col, width in (
            (Col.STATUS, 100),
            (Col.TAG, 200),
            (Col.LOCATION, 100),
            (Col.COUNTED, 64),
            (Col.LEDGER, 60),
            (Col.POS, 56),
            (Col.METRC, 60),
            (Col.SOLD, 72),
            (Col.VARIANCE, 70),
            (Col.VALUE, 84),
            (Col.ADJUSTED, 70),
            (Col.COUNTED_BY, 100),
            (Col.PENDING, 70),
            (Col.CAUSE, 320),
        ):
            self.view.setColumnWidth(col, width)

        self.show_box = QComboBox()
        self.show_box.setObjectName("countShow")
        for show in Show:
            self.show_box.addItem(show.value, show)
        self.show_box.currentIndexChanged.connect(lambda _i: self.proxy.set_show(self.show_box.currentData()))
        self.filter = QLineEdit()
        self.filter.setObjectName("countFilter")
        self.filter.setPlaceholderText("Filter by tag, item, location…")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.proxy.set_text)
        self.summary = QLabel()
        self.summary.setObjectName("countSummary")
        filter_row = QHBoxLayout()
        filter_row.addWidget(QLabel("Show"))
        filter_row.addWidget(self.show_box)
        filter_row.addWidget(self.filter, 1)
        filter_row.addWidget(self.summary)

        self.recount_button = QPushButton("Recount…")
        self.recount_button.setObjectName("recountButton")
        self.recount_button.setToolTip("Count this package again; the new count replaces the earlier ones")
        self.adjust_button = QPushButton("Adjust…")
        self.adjust_button.setObjectName("adjustButton")
        self.fix_metrc_button = QPushButton("Fix METRC…")
        self.fix_metrc_button.setObjectName("fixMetrcButton")
        self.fix_metrc_button.setToolTip(
            "METRC differs and the store's ledger is right: queue the receipt that never "
            "reached METRC, or a METRC-only adjustment (the ledger is not changed)"
        )
        line_buttons = QHBoxLayout()
        for button in (self.recount_button, self.adjust_button, self.fix_metrc_button):
            line_buttons.addWidget(button)
        line_buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(filter_row)
        layout.addWidget(self.view, 1)
        layout.addLayout(line_buttons)
