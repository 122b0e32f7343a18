"""Where the application keeps its files on this machine (platformdirs)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "VaultWorkstation"
APP_AUTHOR = "VaultWorkstation"


def data_dir() -> Path:
    path = Path(os.environ.get("BACKOFFICE_DATA_DIR") or platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_dir() -> Path:
    path = Path(os.environ.get("BACKOFFICE_LOG_DIR") or platformdirs.user_log_dir(APP_NAME, APP_AUTHOR))
    path.mkdir(parents=True, exist_ok=True)
    return path


def backup_dir() -> Path:
    path = data_dir() / "backups"
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_database_url() -> str:
    """``BACKOFFICE_DB`` if set, else a SQLite file in the user data folder."""
    return os.environ.get("BACKOFFICE_DB") or f"sqlite:///{data_dir() / 'vault.sqlite'}"


def migrations_dir() -> Path:
    """The Alembic scripts: beside the package in a checkout, bundled as data when frozen."""
    import sys

    frozen_root = getattr(sys, "_MEIPASS", None)
    root = Path(frozen_root) if frozen_root else Path(__file__).resolve().parent.parent
    return root / "migrations"
