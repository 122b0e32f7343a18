"""Signing in to the ``backoffice`` command from tests as a script does: ``--user NAME`` with
the PIN in ``BACKOFFICE_PIN`` (set with monkeypatch, so it never leaks into another test)."""

from __future__ import annotations

import pytest

from backoffice.cli.main import main
from tests.conftest import PINS

ROLES = {"admin": "admin", "maria": "manager", "alex": "associate", "pat": "purchasing"}


def signin(monkeypatch: pytest.MonkeyPatch, name: str) -> list[str]:
    """``--user NAME``, with NAME's PIN put in the environment for the call it is part of."""
    monkeypatch.setenv("BACKOFFICE_PIN", PINS[name])
    return ["--user", name]


def new_store(monkeypatch: pytest.MonkeyPatch, db: list[str], *names: str) -> None:
    """Migrate, add the first admin without signing in (the store has no users yet), then
    the other users as that admin."""
    assert main([*db, "db", "upgrade"]) == 0
    monkeypatch.setenv("BACKOFFICE_NEW_PIN", PINS["admin"])
    assert main([*db, "users", "add", "admin", "--role", "admin"]) == 0
    for name in names:
        monkeypatch.setenv("BACKOFFICE_NEW_PIN", PINS[name])
        assert main([*db, *signin(monkeypatch, "admin"), "users", "add", name, "--role", ROLES[name]]) == 0
    monkeypatch.delenv("BACKOFFICE_NEW_PIN")
