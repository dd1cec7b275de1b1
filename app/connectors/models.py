"""Connected systems, the requests sent to them (a durable queue), and the answer ids already seen."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, utcnow
from app.extensions import db


class RequestType(StrEnum):
    """What a connected system may be asked to do for a person."""

    ACCESS = "access"
    PORTABILITY = "portability"
    ERASURE = "erasure"
    RECTIFICATION = "rectification"
    RESTRICTION = "restriction"
    OBJECTION = "objection"


class CallStatus(StrEnum):
    """Where one request to one system stands."""

    PENDING = "pending"  # queued or being retried
    SENT = "sent"  # delivered, waiting for the system's answer
    ANSWERED = "answered"
    FAILED = "failed"  # could not be delivered after every attempt


class AnswerStatus(StrEnum):
    """What a system answered."""

    DONE = "done"
    NOT_FOUND = "not_found"
    FAILED = "failed"


class ConnectedSystem(db.Model):
    """A system holding people's data: where to send requests, the secret that signs both ways, what it handles."""

    __tablename__ = "connected_systems"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(60), unique=True)
    url: Mapped[str] = mapped_column(sa.String(500))
    secret: Mapped[str] = mapped_column(sa.String(200))  # Standard Webhooks `whsec_<base64>`
    types: Mapped[list] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    calls: Mapped[list["ConnectorCall"]] = relationship(back_populates="system")

    def handles(self, request_type: str) -> bool:
        """Whether the system takes that type of request."""
        return request_type in (self.types or [])


class ConnectorCall(db.Model):
    """One rights request sent to one system: the signed message, its delivery, and the system's answer."""

    __tablename__ = "connector_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(sa.String(60), unique=True)  # the `webhook-id` of the request sent
    system_id: Mapped[int] = mapped_column(sa.ForeignKey("connected_systems.id", ondelete="CASCADE"), index=True)
    request_id: Mapped[int] = mapped_column(sa.ForeignKey("rights_requests.id"), index=True)
    reference: Mapped[str] = mapped_column(sa.String(20))
    request_type: Mapped[str] = mapped_column(sa.String(20))
    payload: Mapped[dict] = mapped_column(sa.JSON)  # reference, type, e-mail, phone, due date: nothing more
    status: Mapped[str] = mapped_column(sa.String(10), default=CallStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who is sending it (a worker's pass) and until when, renewed while it works: see app.claims.
    lease_owner: Mapped[str | None] = mapped_column(sa.String(80))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer: Mapped[str | None] = mapped_column(sa.String(10))
    export: Mapped[dict | None] = mapped_column(sa.JSON)  # kept until the data package is built
    erased: Mapped[int | None] = mapped_column()
    reason: Mapped[str | None] = mapped_column(sa.Text)

    system: Mapped[ConnectedSystem] = relationship(back_populates="calls")

    __table_args__ = (sa.Index("ix_connector_calls_due", "status", "next_attempt_at"),)


class SeenAnswer(db.Model):
    """The `webhook-id` of every answer taken (its SHA-256), so a replayed answer changes nothing."""

    __tablename__ = "connector_seen_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[str] = mapped_column(sa.String(100), unique=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
