"""A table view set up the way every workflow tab wants it: sortable through a proxy,
whole-row selection, uniform row heights."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QSortFilterProxyModel
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from ui.models.simple_table import RowRole, SortRole


class RowTableView(QTableView):
    def __init__(self, model: QAbstractItemModel, *, stretch_column: int | None = None) -> None:
        super().__init__()
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(model)
        self.proxy.setSortRole(SortRole)
        self.proxy.setFilterKeyColumn(-1)
        self.setModel(self.proxy)
        self.setSortingEnabled(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setAlternatingRowColors(True)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(24)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        if stretch_column is not None:
            self.horizontalHeader().setSectionResizeMode(stretch_column, QHeaderView.ResizeMode.Stretch)

    def current_row(self) -> object | None:
        index = self.currentIndex()
        return self.proxy.data(index, RowRole) if index.isValid() else None

    def selected_rows(self) -> list[object]:
        return [self.proxy.data(i, RowRole) for i in self.selectionModel().selectedRows()]
