"""SQLite's WAL checkpoints, moved off the path of the write that caused them.

With automatic checkpoints SQLite copies the write-ahead log into the database inside the
``COMMIT`` that pushes the log past 1,000 pages: a day's POS import on a large store then
spends half a second more before it returns. The connections here turn automatic
checkpoints off (see ``engine``), and after each committed write a short-lived thread runs
the same PASSIVE checkpoint on its own connection. PASSIVE never waits for readers or
writers, so the application carries on while it copies; a checkpoint that cannot finish
(a reader still needs old pages) is simply tried again after the next write. A crash at any
moment is safe: the log is the durable record until it has been copied.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

log = logging.getLogger("db")

# After a checkpoint resets the log, SQLite truncates the file to this size: one large
# import does not leave a 100 MB -wal file behind for the rest of the day.
JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024


class Checkpointer:
    """One per SQLite file database. ``after_write`` is called once a write has committed;
    ``close`` waits for a checkpoint under way, so the file can be copied or replaced."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._pending = False
        self._closed = False
        self._worker: threading.Thread | None = None

    def after_write(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._pending = True
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
                self._worker.start()

    def close(self) -> None:
        """Waits for the checkpoint asked for or under way; none starts meanwhile (the next
        commit, once the database is used again, starts them again)."""
        with self._lock:
            self._closed, worker = True, self._worker
        if worker is not None:
            worker.join()
        with self._lock:
            self._closed = False

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._pending:
                    self._worker = None
                    return
                self._pending = False
            self._checkpoint()

    def _checkpoint(self) -> None:
        try:
            connection = sqlite3.connect(self._path, timeout=0, check_same_thread=True)
            try:
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                connection.close()
        except sqlite3.Error as exc:  # the next write reports real trouble (disk full, read-only) itself
            log.warning("WAL checkpoint of %s did not run: %s", self._path, exc)
