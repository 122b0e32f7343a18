"""Retail ID at receiving: packages that arrive without unit codes while the state requires them.

``retail_id.fetch_manifest_codes`` stores every unit code METRC lists for the manifest's
packages and marks the manifest as checked; from then on a package with no stored code is
known to have none. Such a package is not accepted, and the manifest is not finished with it
accepted, unless the person goes ahead knowingly (``without_unit_codes``): the audit event
of that decision names the packages. Before the codes are fetched, or where the state does
not require them, nothing is flagged.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from backoffice.db.models import Manifest, ManifestLine, RetailIdCode
from backoffice.errors import RuleViolation
from backoffice.services import settings
from backoffice.services.receiving.checks import retail_id_warning


class UnitCodesMissing(RuleViolation):
    """Accepting packages that METRC lists no Retail ID unit codes for, not confirmed."""


def missing_unit_codes(session: Session, manifest: Manifest) -> frozenset[str]:
    """The manifest's packages without unit codes, once they were fetched, where the state
    requires them; empty otherwise."""
    if manifest.unit_codes_checked_at is None or not settings.get(session, settings.RETAIL_ID_REQUIRED):
        return frozenset()
    has_codes = exists().where(RetailIdCode.tag == ManifestLine.tag)
    return frozenset(
        session.scalars(select(ManifestLine.tag).where(ManifestLine.manifest_id == manifest.id, ~has_codes))
    )


def accepted_without_codes(
    session: Session, manifest: Manifest, tags: Sequence[str], *, confirmed: bool, doing: str
) -> list[str]:
    """The packages among ``tags`` without unit codes: refused unless ``confirmed`` (the person
    was told and goes ahead); returned for the decision's audit event."""
    missing = missing_unit_codes(session, manifest)
    bare = [tag for tag in tags if tag in missing]
    if bare and not confirmed:
        warning = retail_id_warning(missing, bare)
        raise UnitCodesMissing(
            f"{doing} was refused: {warning} To go ahead anyway, confirm it (the app asks; "
            "on the command line add --without-unit-codes)."
        )
    return bare
