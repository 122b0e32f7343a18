"""Test databases are built by migrating, never by create_all.

``db`` runs a test on SQLite and again on a real PostgreSQL server that this file starts
in a temp folder on 127.0.0.1 (and stops afterwards). ``sqlite_db`` is SQLite only.
Each test gets a fresh copy of a database migrated once per session.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from glob import glob
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("LANG", "C.UTF-8")

from backoffice.db.engine import Database  # noqa: E402
from backoffice.db.migrate import upgrade  # noqa: E402
from backoffice.services import users  # noqa: E402
from backoffice.services.actor import SYSTEM, Actor  # noqa: E402

SAMPLES = Path(__file__).resolve().parent / "samples"  # the store's real file shapes, kept in the repo


@pytest.fixture(scope="session")
def samples() -> Path:
    return SAMPLES


@pytest.fixture(autouse=True)
def _cheap_pin_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """PINs are hashed at a cost of well over 100 ms each in production; tests hash thousands,
    so they use a cheap cost. tests/unit/test_users.py checks the production cost itself."""
    monkeypatch.setattr(users, "PIN_KDF", users.KdfCost(n=2**4, r=8, p=1))
    monkeypatch.delenv("BACKOFFICE_PIN", raising=False)
    monkeypatch.delenv("BACKOFFICE_APPROVER_PIN", raising=False)
    monkeypatch.delenv("BACKOFFICE_NEW_PIN", raising=False)
    monkeypatch.delenv("BACKOFFICE_AUDIT_ANCHOR", raising=False)


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    base = tmp_path_factory.mktemp("appdirs")
    monkeypatch.setenv("BACKOFFICE_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("BACKOFFICE_LOG_DIR", str(base / "log"))
    monkeypatch.delenv("BACKOFFICE_DB", raising=False)


# --- SQLite -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    db = Database(f"sqlite:///{path}")
    upgrade(db, backup=False)
    db.dispose()
    return path


def _sqlite_copy(template: Path, tmp_path: Path) -> Database:
    path = tmp_path / f"store-{uuid.uuid4().hex[:8]}.sqlite"
    shutil.copyfile(template, path)
    return Database(f"sqlite:///{path}")


# --- PostgreSQL -------------------------------------------------------------------------


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name) or next(iter(sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PgServer:
    """A throwaway cluster: initdb in a temp dir, pg_ctl on a free loopback port."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.port = _free_port()
        self.as_postgres = os.geteuid() == 0  # initdb refuses to run as root
        self.template = "vault_template"

    def _run(self, *cmd: str) -> None:
        full = ["runuser", "-u", "postgres", "--", *cmd] if self.as_postgres else list(cmd)
        done = subprocess.run(full, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.as_postgres:
            shutil.chown(self.root, "postgres")
        self._run(_pg_bin("initdb") or "initdb", "-A", "trust", "-U", "postgres", "--no-sync", "-D", str(self.data))
        self._run(
            _pg_bin("pg_ctl") or "pg_ctl",
            "-w",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "log"),
            "-o",
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off",
            "start",
        )

    def stop(self) -> None:
        self._run(_pg_bin("pg_ctl") or "pg_ctl", "-w", "-D", str(self.data), "-m", "immediate", "stop")

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def admin_sql(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute(sql)


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgServer]:
    if _pg_bin("initdb") is None:
        if os.environ.get("REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL (initdb) is not installed but REQUIRE_POSTGRES is set")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql); CI sets REQUIRE_POSTGRES")
    # not under pytest's tmp dir: that is private to root, and the server runs as postgres
    root = Path(tempfile.mkdtemp(prefix="vault-pg-"))
    os.chmod(root, 0o755)
    server = PgServer(root / "cluster")
    try:
        server.start()
        server.admin_sql(f"CREATE DATABASE {server.template}")
        db = Database(server.url(server.template))
        upgrade(db, backup=False)
        db.dispose()
        yield server
    finally:
        if (server.data / "postmaster.pid").exists():
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


def _pg_copy(server: PgServer) -> Database:
    name = f"t_{uuid.uuid4().hex[:12]}"
    server.admin_sql(f"CREATE DATABASE {name} TEMPLATE {server.template}")
    return Database(server.url(name))


# --- the fixtures tests use -------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        database = _sqlite_copy(request.getfixturevalue("_sqlite_template"), tmp_path)
    else:
        database = _pg_copy(request.getfixturevalue("pg_server"))
    yield database
    database.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database with no schema at all, for migration tests (SQLite and PostgreSQL)."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    else:
        server: PgServer = request.getfixturevalue("pg_server")
        name = f"e_{uuid.uuid4().hex[:12]}"
        server.admin_sql(f"CREATE DATABASE {name}")
        database = Database(server.url(name))
    yield database
    database.dispose()


@pytest.fixture
def sqlite_db(_sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    database = _sqlite_copy(_sqlite_template, tmp_path)
    yield database
    database.dispose()


PINS = {"admin": "900000", "maria": "222222", "alex": "1111", "pat": "3333"}


def make_users(database: Database) -> dict[str, Actor]:
    """One user per role: admin (admin), maria (manager), alex (associate), pat (purchasing)."""
    roles = {"admin": "admin", "maria": "manager", "alex": "associate", "pat": "purchasing"}
    return {
        name: users.add_user(database, SYSTEM, name, name.title(), role, PINS[name]).as_actor()
        for name, role in roles.items()
    }


@pytest.fixture
def actors(db: Database) -> dict[str, Actor]:
    return make_users(db)
