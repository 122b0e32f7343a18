"""The error family a person can act on.

Services raise these; the GUI shows ``str(error)`` as is and the CLI prints it on stderr
and exits 1. Anything else escaping a service is a bug and is logged with its traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class UserError(Exception):
    """An error caused by input or state a person can fix; the message says how."""


class ValidationError(UserError):
    """A value is malformed (a tag, a quantity, a date, a unit)."""


class NotFound(UserError):
    """A referenced record (tag, manifest, user, transfer) does not exist."""


class PermissionDenied(UserError):
    """The signed-in user's role does not allow the action."""


class AuthenticationFailed(UserError):
    """Wrong user or PIN, or the account is locked or disabled."""


class RuleViolation(UserError):
    """A business rule refuses the action (transfer-before-move, frozen count, …)."""


class Cancelled(UserError):
    """The person stopped a long job part-way; nothing of it was saved."""


@dataclass(frozen=True)
class Problem:
    """One bad record in an imported file: where it is and what is wrong with it."""

    file: str
    line: int  # line number for text files, record number (1-based) for JSON arrays
    field: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}, line {self.line}" if self.line else self.file
        field = f", field {self.field!r}" if self.field else ""
        return f"{where}{field}: {self.reason}"


class ImportFileError(UserError):
    """A file could not be imported; nothing from it was written."""

    def __init__(self, summary: str, problems: list[Problem] | None = None) -> None:
        self.summary = summary
        self.problems = list(problems or [])
        super().__init__(self._render())

    def _render(self, limit: int = 20) -> str:
        lines = [self.summary]
        lines += [f"  {p}" for p in self.problems[:limit]]
        if len(self.problems) > limit:
            lines.append(f"  … and {len(self.problems) - limit} more problems")
        return "\n".join(lines)
