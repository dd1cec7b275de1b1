"""Staff accounts: e-mail, hashed password, role."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column
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

    def set_password(self, password: str) -> None:
        """Store a salted hash (scrypt), never the password."""
        self.password_hash = generate_password_hash(password)

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
