"""Submitting a count: freeze it and store its accuracy figures. Afterwards corrections are
new adjustments."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import insert, select

from backoffice.db.engine import Database
from backoffice.db.models import CountEntry, CountExpected, utcnow
from backoffice.domain.enums import CountStatus
from backoffice.domain.numbers import to_money
from backoffice.errors import RuleViolation
from backoffice.services import audit
from backoffice.services.actor import Actor, Permission
from backoffice.services.counts.info import CountInfo, count_info, open_count
from backoffice.services.counts.variance import LineStatus, accuracy_of, count_lines, metrc_agreement_of


def submit(db: Database, actor: Actor, count_id: int, *, uncounted_as_zero: bool = False) -> CountInfo:
    """Freeze the count and store its accuracy figures.

    Packages the ledger expects but nobody counted stop the submit, unless the counter says
    they were looked for and not found (``uncounted_as_zero``): they are then recorded as 0."""
    actor.require(Permission.COUNT)
    with db.transaction() as session:
        count = open_count(session, count_id, lock=True)
        lines = count_lines(session, count, hide=False, with_causes=False)
        missing = [ln for ln in lines if ln.status is LineStatus.NOT_COUNTED]
        if missing and not uncounted_as_zero:
            shown = ", ".join(ln.tag for ln in missing[:5]) + (" …" if len(missing) > 5 else "")
            raise RuleViolation(
                f"{len(missing)} package(s) in scope are not counted yet ({shown}). Count them, or submit saying "
                "they were looked for and not found (they are then recorded as 0)"
            )
        if missing:
            now = utcnow()
            package_ids = dict(
                session.execute(
                    select(CountExpected.tag, CountExpected.package_id).where(CountExpected.session_id == count.id)
                ).all()
            )
            session.execute(
                insert(CountEntry),
                [
                    {
                        "session_id": count.id,
                        "tag": ln.tag,
                        "package_id": package_ids.get(ln.tag),
                        "quantity": Decimal(0),
                        "in_scope": True,
                        "supersedes_previous": True,
                        "counted_by_id": actor.user_id,
                        "counted_at": now,
                        "note": "not found; recorded as 0 at submit",
                    }
                    for ln in missing
                ],
            )
            lines = count_lines(session, count, hide=False, with_causes=False)
        figures = accuracy_of(lines)
        metrc = metrc_agreement_of(lines) if count.metrc_source else None
        count.status, count.submitted_at, count.submitted_by_id = CountStatus.SUBMITTED, utcnow(), actor.user_id
        count.lines_counted, count.lines_matching = figures.lines_counted, figures.lines_matching
        count.unit_variance, count.dollar_variance = figures.unit_variance, to_money(figures.dollar_variance)
        if metrc is not None:
            count.metrc_lines_compared, count.metrc_lines_agreeing = metrc.compared, metrc.agreeing
        audit.record(
            session,
            actor,
            "count.submit",
            "count",
            count.id,
            before={"status": "open"},
            after={
                "status": "submitted",
                "lines_counted": figures.lines_counted,
                "lines_matching": figures.lines_matching,
                "unit_variance": figures.unit_variance,
                "dollar_variance": figures.dollar_variance,
                "recorded_as_zero": len(missing),
                "metrc_agreeing": f"{metrc.agreeing}/{metrc.compared}" if metrc else None,
            },
        )
        session.flush()
        return count_info(session, count)
