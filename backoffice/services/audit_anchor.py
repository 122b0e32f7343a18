"""The audit chain's head, anchored outside the database.

After every commit that wrote audit events, this workstation appends the chain head
(event id and hash) to an anchor file: by default beside the SQLite store (for PostgreSQL,
in the user data folder), or where ``BACKOFFICE_AUDIT_ANCHOR`` points (a file, or a folder
such as a share that holds one file per store). Daily backups append the head they hold,
and a restore made through the product appends the restore's own event.

``check`` proves every anchored head is still in the chain with the same hash, so copying
an older database file over the live one, deleting the newest events, or re-hashing the
chain from an edited row on, all fail verification. Heads anchored before a restore are
excused by that restore, whose event (in the chain, hashed) names the file and the head it
replaced.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection
from sqlalchemy.orm import Session

from backoffice.paths import data_dir

log = logging.getLogger("db")

ANCHOR_ENV = "BACKOFFICE_AUDIT_ANCHOR"
PENDING_HEAD = "audit_head_to_anchor"  # session.info key: the head an open transaction wrote
NO_ANCHOR = "audit_no_anchor"  # session.info key: a transaction on a copy that is not the store (restore)
_KINDS = ("head", "backup", "restore")


@dataclass(frozen=True)
class Anchor:
    line: int
    kind: str
    event_id: int
    hash: str
    at: str
    note: str


def anchor_path(url: URL) -> Path:
    """Where this workstation anchors the store at ``url``."""
    safe = url.render_as_string(hide_password=True)
    store_id = hashlib.sha256(safe.encode()).hexdigest()[:16]
    configured = os.environ.get(ANCHOR_ENV)
    if configured:
        path = Path(configured)
        return path / f"audit-anchor-{store_id}.txt" if path.is_dir() else path
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(f"{url.database}.anchor")
    return data_dir() / f"audit-anchor-{store_id}.txt"


def append(url: URL, kind: str, event_id: int, event_hash: str, note: str = "") -> None:
    """One line per anchor, written with a single append so two processes never interleave."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = "\t".join((kind, str(event_id), event_hash, stamp, note.replace("\t", " ").replace("\n", " "))) + "\n"
    path = anchor_path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


@event.listens_for(Session, "after_commit")
def _anchor_after_commit(session: Session) -> None:
    head = session.info.pop(PENDING_HEAD, None)
    if head is None or session.info.get(NO_ANCHOR):
        return
    bind = session.get_bind()
    if isinstance(bind, Connection) and bind.in_transaction():
        return  # a savepoint inside a larger transaction: not committed yet, the next commit anchors
    try:
        append(bind.engine.url, "head", head[0], head[1])
    except OSError:  # the change is committed; a missing share must not undo it, only be logged
        log.warning("could not append the audit chain head to %s", anchor_path(bind.engine.url), exc_info=True)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(PENDING_HEAD, None)


def read(url: URL) -> tuple[list[Anchor], list[str]]:
    path = anchor_path(url)
    if not path.exists():
        return [], []
    anchors, problems = [], []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        parts = text.split("\t")
        if len(parts) != 5 or parts[0] not in _KINDS or not parts[1].isdigit() or len(parts[2]) != 64:
            problems.append(f"anchor file {path}, line {number} is not an anchor: the file was edited")
            continue
        anchors.append(Anchor(number, parts[0], int(parts[1]), parts[2], parts[3], parts[4]))
    return anchors, problems


def check(db: Any, hashes_of: Callable[[Sequence[int]], dict[int, str]]) -> list[str]:
    """Problems with the anchored heads of ``db`` (a ``Database``); ``hashes_of`` gives the
    chain's hash for event ids."""
    anchors, problems = read(db.url)
    if not anchors:
        return problems
    found = hashes_of(sorted({a.event_id for a in anchors}))
    last_restore = max((i for i, a in enumerate(anchors) if a.kind == "restore"), default=-1)
    # heads anchored before the last restore belong to the store it replaced; the restore itself,
    # and everything after it, must be in this chain
    binding = [a for i, a in enumerate(anchors) if i >= last_restore]
    wrong = sorted((a for a in binding if found.get(a.event_id) != a.hash), key=lambda a: (a.event_id, a.line))
    if wrong:
        first = wrong[0]
        good = [a.event_id for a in binding if found.get(a.event_id) == a.hash and a.event_id < first.event_id]
        since = f" (event {max(good)}, anchored earlier, still matches)" if good else ""
        where = f"{anchor_path(db.url)}, line {first.line}, {first.at}"
        if first.event_id not in found:
            problems.append(
                f"audit event {first.event_id} was anchored as the chain head ({where}) but is not in "
                f"the database: it was rolled back to an older copy or its newest events were deleted"
            )
        else:
            problems.append(
                f"audit event {first.event_id} differs from the hash anchored for it ({where}): the "
                f"chain was rewritten at or before event {first.event_id}{since}"
            )
    return problems
