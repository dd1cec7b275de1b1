"""Rights requests, their append-only event log, data packages, and post-mortem directives."""

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, append_only, new_public_id, utcnow
from app.extensions import db


class Status(StrEnum):
    """Where a request stands, in the order a request usually goes through them."""

    UNCONFIRMED = "unconfirmed"
    CONFIRMED = "confirmed"
    IN_PROGRESS = "in_progress"
    EXTENDED = "extended"
    ANSWERED = "answered"
    REFUSED = "refused"
    EXPIRED = "expired"


OPEN_STATUSES = (Status.UNCONFIRMED, Status.CONFIRMED, Status.IN_PROGRESS, Status.EXTENDED)
CLOSED_STATUSES = (Status.ANSWERED, Status.REFUSED, Status.EXPIRED)


class Kind(StrEnum):
    """The type of a request: the rights of section 9 of the policy, plus unsubscribe and questions."""

    ACCESS = "access"
    RECTIFICATION = "rectification"
    ERASURE = "erasure"
    PORTABILITY = "portability"
    OBJECTION = "objection"
    RESTRICTION = "restriction"
    WITHDRAWAL = "withdrawal"
    POST_MORTEM = "post_mortem"
    UNSUBSCRIBE = "unsubscribe"
    QUESTION = "question"


OPT_OUT_KINDS = frozenset({Kind.OBJECTION, Kind.WITHDRAWAL, Kind.UNSUBSCRIBE})  # what puts a person on the list


class RightsRequest(db.Model):
    """One request received through the contact form, with its deadline and outcome."""

    __tablename__ = "rights_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str | None] = mapped_column(sa.String(20), unique=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_public_id)
    kind: Mapped[str] = mapped_column(sa.String(20), index=True)
    status: Mapped[str] = mapped_column(sa.String(15), default=Status.UNCONFIRMED, index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str] = mapped_column(sa.String(320), index=True)
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    postal_address: Mapped[str | None] = mapped_column(sa.String(300))  # an objection's address for the post channel
    message: Mapped[str] = mapped_column(sa.Text, default="")
    correction: Mapped[str | None] = mapped_column(sa.Text)
    designated_name: Mapped[str | None] = mapped_column(sa.String(200))
    designated_contact: Mapped[str | None] = mapped_column(sa.String(320))
    language: Mapped[str] = mapped_column(sa.String(2), default="fr")
    ip_prefix: Mapped[str | None] = mapped_column(sa.String(50))
    # Sent while the anti-spam check could not run (no JavaScript, its service blocked or down): « sans captcha ».
    without_captcha: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_on: Mapped[date] = mapped_column(sa.Date, index=True)
    extended_to: Mapped[date | None] = mapped_column(sa.Date)
    extension_reason: Mapped[str | None] = mapped_column(sa.Text)
    outcome: Mapped[str | None] = mapped_column(sa.Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    events: Mapped[list["RequestEvent"]] = relationship(
        back_populates="request", order_by="RequestEvent.occurred_at, RequestEvent.id")
    packages: Mapped[list["DataPackage"]] = relationship(back_populates="request", order_by="DataPackage.id")

    @property
    def deadline(self) -> date:
        """The date the answer is due: the extended date when extended, else one month after receipt."""
        return self.extended_to or self.due_on

    @property
    def is_open(self) -> bool:
        """Whether the request still waits for an answer."""
        return self.status in OPEN_STATUSES


@append_only(deletable=True)
class RequestEvent(db.Model):
    """One step of a request: who did what, when, with the details (before/after for a rectification)."""

    __tablename__ = "rights_request_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(sa.ForeignKey("rights_requests.id"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(sa.String(320))
    action: Mapped[str] = mapped_column(sa.String(40))
    detail: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    public: Mapped[bool] = mapped_column(default=False)

    request: Mapped[RightsRequest] = relationship(back_populates="events")


class DataPackage(db.Model):
    """A ZIP of the person's data built for an access or portability request, downloadable for 7 days."""

    __tablename__ = "rights_data_packages"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_public_id)
    request_id: Mapped[int] = mapped_column(sa.ForeignKey("rights_requests.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    filename: Mapped[str] = mapped_column(sa.String(100))
    content: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    downloads: Mapped[int] = mapped_column(default=0)

    request: Mapped[RightsRequest] = relationship(back_populates="packages")


class PostMortemDirective(db.Model):
    """Directives for after the person's death (art. 85 of the Loi Informatique et Libertés), revocable."""

    __tablename__ = "rights_post_mortem_directives"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int | None] = mapped_column(sa.ForeignKey("rights_requests.id"))
    email: Mapped[str] = mapped_column(sa.String(320), index=True)
    instructions: Mapped[str] = mapped_column(sa.Text)
    designated_name: Mapped[str] = mapped_column(sa.String(200))
    designated_contact: Mapped[str] = mapped_column(sa.String(320))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by: Mapped[str] = mapped_column(sa.String(320))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    request: Mapped[RightsRequest | None] = relationship()
