"""METRC Retail ID: a unit's QR code (a URL such as ``https://1a4.com/ABC123…``) stands for
its package wherever a tag is accepted.

A 2D scanner types the URL as keystrokes. ``resolve`` turns a scan (a tag or a QR URL) into
the package tag: from the local cache, filled at receiving with every unit code of every
package on the manifest (``fetch_manifest_codes``), else by asking METRC
(``GET /retailid/v2/receive/qr/{shortCode}``), whose answer is cached too. Offline, an
uncached code gets a message that says so. A QR scan is one unit (``Scan.unit``): a count
counts it as one unit of its package.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import select

from backoffice.db.engine import Database
from backoffice.db.models import Manifest, ManifestLine, RetailIdCode, utcnow
from backoffice.domain.tags import normalize_tag, validate_tag
from backoffice.errors import NotFound, UserError, ValidationError
from backoffice.metrc.errors import MetrcNotFound, MetrcUnavailable
from backoffice.services import audit, settings
from backoffice.services.actor import Actor, Permission
from backoffice.services.changes import Changes

if TYPE_CHECKING:
    from backoffice.metrc.client import MetrcClient

_URL = re.compile(r"^https?://", re.IGNORECASE)
_CODE = re.compile(r"^[A-Za-z0-9_-]{4,40}$")

Connect = Callable[[], "MetrcClient"]


class RetailIdOffline(UserError):
    """A unit code that is not cached could not be looked up because METRC is unreachable."""


@dataclass(frozen=True)
class Scan:
    tag: str
    short_code: str | None  # set when a unit's QR code was scanned
    source: str  # "tag", "cache" or "metrc"
    changes: Changes = Changes.NONE  # a code fetched from METRC is cached, with an audit event

    @property
    def unit(self) -> bool:
        """A unit code stands for one unit of its package (a count adds 1)."""
        return self.short_code is not None


@dataclass(frozen=True)
class ManifestCodes:
    manifest_number: str
    codes: int  # unit codes cached
    without_codes: list[str]  # tags METRC lists no unit code for
    required: bool  # the store's state requires a code on every unit
    changes: Changes = Changes.MANIFESTS | Changes.AUDIT  # the manifest is marked checked

    @property
    def flagged(self) -> list[str]:
        """Packages receiving must flag: the state requires unit codes and these have none."""
        return self.without_codes if self.required else []


def is_qr(text: str) -> bool:
    return bool(_URL.match(text.strip()))


def short_code(text: str) -> str:
    """The unit code of a Retail ID URL: its first path segment."""
    parts = urlsplit(text.strip())
    segment = parts.path.strip("/").split("/", 1)[0]
    if not parts.hostname or not _CODE.match(segment):
        raise ValidationError(
            f"“{text.strip()[:60]}” is not a METRC Retail ID code: a unit's QR code is a web address "
            "like https://1a4.com/ABC123. Scan the unit's QR code again or the package tag."
        )
    return segment  # kept as printed: METRC's codes may be case-sensitive


def resolve(db: Database, actor: Actor, text: str, *, connect: Connect | None = None) -> Scan:
    """The package a scan stands for: a tag as it is, a unit's QR code through the cache or METRC."""
    actor.require(Permission.VIEW_INVENTORY)
    if not is_qr(text):
        with db.read() as session:
            strict = settings.get(session, settings.STRICT_TAGS)
        return Scan(validate_tag(normalize_tag(text), strict=strict), None, "tag")
    code = short_code(text)
    cached = cached_tag(db, code)
    if cached is not None:
        return Scan(cached, code, "cache")
    try:
        with (connect or _connector(db, actor))() as client:
            package = client.retail_id_package(code)
    except MetrcUnavailable:
        raise RetailIdOffline(
            f"METRC cannot be reached, so unit code {code} cannot be looked up (it was not among "
            "the codes saved at receiving). Scan the package tag instead, or try again when "
            "METRC is back."
        ) from None
    except MetrcNotFound:
        raise NotFound(
            f"METRC knows no unit with code {code}: the QR code may belong to another store or be "
            "damaged. Scan the package tag instead."
        ) from None
    tag = validate_tag(str(package.get("Label") or ""))
    _store(db, actor, [(code, text.strip(), tag)], f"qr:{code}")
    return Scan(tag, code, "metrc", Changes.AUDIT)


def cached_tag(db: Database, code: str) -> str | None:
    """The tag of a cached unit code (one indexed read, fast enough for a scan)."""
    with db.read() as session:
        return session.scalar(select(RetailIdCode.tag).where(RetailIdCode.short_code == code))


def fetch_manifest_codes(
    db: Database, actor: Actor, manifest_id: int, *, connect: Connect | None = None
) -> ManifestCodes:
    """At receiving: cache every unit code METRC lists for each package on the manifest, and
    name the packages without any (flagged when the state requires Retail ID)."""
    actor.require(Permission.RECEIVE)
    with db.read() as session:
        manifest = session.get(Manifest, manifest_id)
        if manifest is None:
            raise NotFound(f"there is no manifest #{manifest_id}")
        number = manifest.manifest_number
        tags = list(
            session.scalars(
                select(ManifestLine.tag).where(ManifestLine.manifest_id == manifest_id).order_by(ManifestLine.id)
            )
        )
        required = settings.get(session, settings.RETAIL_ID_REQUIRED)
    found: list[tuple[str, str, str]] = []
    without: list[str] = []
    with (connect or _connector(db, actor))() as client:
        for tag in tags:
            urls = [u for u in client.retail_id_eaches(tag) if u]
            if not urls:
                without.append(tag)
            found += [(short_code(url), url, tag) for url in urls]
    _store(db, actor, found, f"manifest:{number}", checked_manifest=manifest_id)
    return ManifestCodes(number, len(found), without, required)


def _store(
    db: Database,
    actor: Actor,
    codes: Iterable[tuple[str, str, str]],
    source: str,
    *,
    checked_manifest: int | None = None,
) -> None:
    """Cache ``codes`` (short code, URL, tag); ``checked_manifest``: every code of that
    manifest's packages is among them, so a package without one has none (receiving flags it)."""
    rows = list(codes)
    now = utcnow()
    with db.transaction() as session:
        if checked_manifest is not None:
            manifest = session.get(Manifest, checked_manifest)
            if manifest is not None:
                manifest.unit_codes_checked_at = now
        known = (
            {
                c.short_code: c
                for c in session.scalars(
                    select(RetailIdCode).where(RetailIdCode.short_code.in_([code for code, _, _ in rows]))
                )
            }
            if rows
            else {}
        )
        for code, url, tag in rows:
            row = known.get(code)
            if row is None:
                session.add(RetailIdCode(short_code=code, url=url[:300], tag=tag, fetched_at=now))
            else:
                row.url, row.tag, row.fetched_at = url[:300], tag, now
        audit.record(session, actor, "retail_id.cache", "retail_id", source, after={"codes": len(rows)})


def _connector(db: Database, actor: Actor) -> Connect:
    # the METRC client is imported when a unit code is first looked up, not when the window
    # that tells a QR code from a tag starts
    from backoffice.services import metrc_connection

    return lambda: metrc_connection.connect(db, actor.username)
