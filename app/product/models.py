"""Events the product sent (their ids, so a replay changes nothing), account closures, customers' last activity."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.database import UTCDateTime, utcnow
from app.extensions import db


class ProductEvent(db.Model):
    """The `webhook-id` and type of every event taken: nothing about the person."""

    __tablename__ = "product_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    type: Mapped[str] = mapped_column(sa.String(40))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class AccountClosure(db.Model):
    """A closed account: its erasure request (the legal record, with the connected systems asked) and two deadlines."""

    __tablename__ = "account_closures"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(sa.ForeignKey("rights_requests.id"), unique=True)
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    active_due_on: Mapped[date] = mapped_column(sa.Date, index=True)  # the active database: 1 month
    backups_due_on: Mapped[date] = mapped_column(sa.Date)  # the backups: 3 more months
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    erased: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # rows erased here, by kind of data


class ClientActivity(db.Model):
    """A customer's last activity in the product: the three-year client period runs from it."""

    __tablename__ = "client_activity"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    lapsed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the period ran out; the question was asked
