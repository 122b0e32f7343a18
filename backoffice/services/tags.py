"""The store's METRC tags: checked by the store's rule (the strict-tag setting), in one place."""

from __future__ import annotations

from sqlalchemy.orm import Session

from backoffice.domain.tags import validate_tag
from backoffice.services import settings


def checked_tag(session: Session, raw: str) -> str:
    """``raw`` as a normalized tag, or ValidationError saying what is wrong with it."""
    return validate_tag(raw, strict=settings.get(session, settings.STRICT_TAGS))
