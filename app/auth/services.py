"""Staff accounts: create them, check credentials, load the one of a session."""

import sqlalchemy as sa

from app.auth.models import Role, StaffUser
from app.database import utcnow
from app.extensions import db
from app.personal import normalise_email

MIN_PASSWORD_LENGTH = 12


class StaffError(ValueError):
    """A staff account that cannot be created as asked."""


def load_user(user_id: str) -> StaffUser | None:
    """The staff member of a session, if still active (Flask-Login's user loader)."""
    user = db.session.get(StaffUser, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


def create_staff(email: str, password: str, role: str) -> StaffUser:
    """A new staff account; commits."""
    email = normalise_email(email)
    if role not in tuple(Role):
        raise StaffError(f"role must be one of {', '.join(Role)}")
    if "@" not in email:
        raise StaffError("an e-mail address is needed")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if db.session.scalar(sa.select(StaffUser).where(StaffUser.email == email)):
        raise StaffError(f"{email} already has an account")
    user = StaffUser(email=email, role=Role(role))
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


def active_staff_addresses() -> list[str]:
    """Every active staff member's address."""
    return list(db.session.scalars(sa.select(StaffUser.email).where(StaffUser.active.is_(True))))
