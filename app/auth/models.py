"""Staff accounts: e-mail, hashed password, role, the session token copied cookies die with, the second factor."""

import secrets
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.database import UTCDateTime, utcnow
from app.extensions import db


class Role(StrEnum):
    """What a staff member may do: an agent handles requests; the dpo may also refuse requests and erase data."""

    AGENT = "agent"
    DPO = "dpo"


class StaffUser(UserMixin, db.Model):
    """Someone who handles rights requests."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(300))
    role: Mapped[str] = mapped_column(sa.String(10), default=Role.AGENT)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Part of every session's id: rotating it ends every session, copied cookies included.
    session_token: Mapped[str] = mapped_column(sa.String(64), default=lambda: secrets.token_urlsafe(32))
    failed_logins: Mapped[int] = mapped_column(default=0)  # in a row: the owner is mailed after a few
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_totp_step: Mapped[int | None] = mapped_column(sa.BigInteger)  # a code is accepted once
    recovery_codes: Mapped[list["RecoveryCode"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="RecoveryCode.id")

    def set_password(self, password: str) -> None:
        """Store a salted hash (scrypt), never the password; every open session ends."""
        self.password_hash = generate_password_hash(password)
        self.rotate_session()

    def rotate_session(self) -> None:
        """A new session token: every session opened before is refused from now on."""
        self.session_token = secrets.token_urlsafe(32)

    def get_id(self) -> str:
        """What Flask-Login keeps in the session: the account and its current session token."""
        return f"{self.id}:{self.session_token}"

    def check_password(self, password: str) -> bool:
        """Whether the password matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:
        """Disabled accounts cannot log in."""
        return self.active

    @property
    def is_dpo(self) -> bool:
        """Only the data-protection officer may refuse a request or erase data."""
        return self.role == Role.DPO


class RecoveryCode(db.Model):
    """A single-use code that replaces the authenticator once (stored hashed, shown once at enrolment)."""

    __tablename__ = "staff_recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(300))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user: Mapped[StaffUser] = relationship(back_populates="recovery_codes")
