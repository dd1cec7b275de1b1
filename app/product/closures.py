"""Account closures as staff follow them: each case, its two deadlines, which systems confirmed, and what is late."""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from app.connectors.models import CallStatus, ConnectorCall
from app.connectors.services import calls_for
from app.extensions import db
from app.product.models import AccountClosure
from app.rights.models import RightsRequest


@dataclass(frozen=True)
class ClosureCase:
    """One closed account: its erasure request, deadlines, the systems asked, and what is late today."""

    closure: AccountClosure
    request: RightsRequest
    calls: list[ConnectorCall]

    @property
    def waiting(self) -> list[ConnectorCall]:
        """The systems that have not confirmed yet."""
        return [call for call in self.calls if call.status != CallStatus.ANSWERED]

    def active_late(self, today: date) -> bool:
        """Past the month for the active database with a system still to confirm."""
        return today > self.closure.active_due_on and bool(self.waiting)

    def backups_reached(self, today: date) -> bool:
        """Past the date by which the backups no longer hold the account."""
        return today > self.closure.backups_due_on


def closure_cases(limit: int = 500) -> list[ClosureCase]:
    """The latest cases first, each with its calls."""
    rows = db.session.execute(sa.select(AccountClosure, RightsRequest).join(
        RightsRequest, RightsRequest.id == AccountClosure.request_id).order_by(
        AccountClosure.closed_at.desc()).limit(limit)).all()
    return [ClosureCase(closure, request, calls_for(request.id)) for closure, request in rows]
