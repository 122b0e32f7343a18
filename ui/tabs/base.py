"""The contract every tab of the main window follows."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import QWidget

from backoffice.services.actor import Permission
from backoffice.services.changes import Changes
from ui.context import AppContext
from ui.tabs import spec_of
from ui.widgets.instruction_panel import InstructionPanel


@dataclass(frozen=True)
class ScanFeedback:
    """What a tab says about a scan: shown in the status line with a colour and a sound.

    A scan that writes runs as a command (ui/commands.py); the tab then returns
    ``ScanFeedback.working_on(code)`` and says the outcome through ``ui.messages`` when it is known
    (``ok`` for done, ``error`` for refused: red, with a beep)."""

    ok: bool
    message: str
    working: bool = False

    @classmethod
    def working_on(cls, code: str) -> ScanFeedback:
        return cls(True, f"{code}: working…", working=True)


class Tab(QWidget):
    """A tab is one module of widgets over its service.

    - ``title``: the tab's label; ``permission``: what the signed-in role needs to use it
      (the tab is disabled with a tooltip otherwise; services enforce it anyway). Both are
      stated in the tab list (ui/tabs/__init__.py), which the window reads without importing
      the tab: a tab is built when it is first shown.
    - ``refresh(changes)``: called after any service call; reload only if ``changes``
      touches what the tab shows. A tab not built yet is not called: it reads what it shows
      as it is built.
    - ``handle_scan(code)``: a scan while this tab is in front. Return feedback, or None to
      let the window do its default (look the tag up in the inventory browser). Writes go
      through ``ui.commands.run_command``, never on the GUI thread.
    - ``panel``: a tab with a scan area puts an ``InstructionPanel`` beside it; the window
      shows scan answers and status messages there while the tab is in front.
    - ``usable()``: whether the signed-in user may use this tab; a tab loads nothing for a
      user who may not (no "may not …" box on sign-in).
    - ``handle_unit_scan(tag)``: a unit's Retail ID QR code was scanned and the window resolved
      it to its package's tag. It stands for one unit of that package (a count adds 1); tabs
      that only need the package take it as a tag scan (the default).
    """

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.panel: InstructionPanel | None = None

    @property
    def title(self) -> str:
        return spec_of(type(self)).title

    @property
    def permission(self) -> Permission | None:
        return spec_of(type(self)).permission

    def usable(self) -> bool:
        return self.ctx.signed_in and (self.permission is None or self.ctx.actor.can(self.permission))

    def refresh(self, changes: Changes) -> None:
        """Reload what ``changes`` touches; the default shows nothing that changes."""

    def handle_scan(self, code: str) -> ScanFeedback | None:
        return None

    def handle_unit_scan(self, tag: str) -> ScanFeedback | None:
        return self.handle_scan(tag)
