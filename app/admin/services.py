"""Staff accounts and the request queue."""

from dataclasses import dataclass

import sqlalchemy as sa

from app.admin.models import ROLES, StaffUser
from app.database import utcnow
from app.datamap import normalise_email
from app.extensions import db, login
from app.rights import models as m

MIN_PASSWORD_LENGTH = 12


class StaffError(ValueError):
    """A staff account that cannot be created as asked."""


@login.user_loader
def load_user(user_id: str) -> StaffUser | None:
    """The staff member of a session, if still active."""
    user = db.session.get(StaffUser, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


def create_staff(email: str, password: str, role: str) -> StaffUser:
    """A new staff account; commits."""
    email = normalise_email(email)
    if role not in ROLES:
        raise StaffError(f"role must be one of {', '.join(ROLES)}")
    if "@" not in email:
        raise StaffError("an e-mail address is needed")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if db.session.scalar(sa.select(StaffUser).where(StaffUser.email == email)):
        raise StaffError(f"{email} already has an account")
    user = StaffUser(email=email, role=role)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> StaffUser | None:
    """The active account with these credentials, or None (the same answer for any wrong part)."""
    user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == normalise_email(email)))
    if user is None or not user.active or not user.check_password(password):
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user


@dataclass(frozen=True)
class QueueFilter:
    """What the queue shows: open requests by default, optionally one type or one status."""

    kind: str | None = None
    status: str | None = None

    def query(self) -> sa.Select:
        """Requests sorted by deadline, soonest first."""
        deadline = sa.func.coalesce(m.RightsRequest.extended_to, m.RightsRequest.due_on)
        query = sa.select(m.RightsRequest).order_by(deadline, m.RightsRequest.id)
        if self.kind in m.KINDS:
            query = query.where(m.RightsRequest.kind == self.kind)
        if self.status in m.STATUSES:
            return query.where(m.RightsRequest.status == self.status)
        if self.status == "closed":
            return query.where(m.RightsRequest.status.in_(m.CLOSED_STATUSES))
        return query.where(m.RightsRequest.status.in_(m.OPEN_STATUSES))


def queue(filters: QueueFilter) -> list[m.RightsRequest]:
    """The queue as filtered."""
    return list(db.session.scalars(filters.query()))
