"""Sending a campaign: one outbox row per confirmed subscriber of a list, set-based, opt-out list excluded."""

import json
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app

from app.database import utcnow
from app.extensions import db
from app.mail.models import PENDING as OUTBOX_PENDING
from app.mail.models import OutboxMessage
from app.newsletter.lists import is_list
from app.newsletter.mail import MarketingBuilder
from app.newsletter.models import ACTIVE, CONFIRMED, Campaign, Subscriber, Subscription
from app.suppression.services import EMAIL, SMS, suppressed_clause

CHUNK = 5000


class CampaignError(ValueError):
    """A send that cannot be made (unknown list, empty subject or text)."""


@dataclass
class CampaignReport:
    """What a send queued."""

    campaign_id: int
    queued: int
    suppressed: int


def list_members(slug: str) -> sa.Select:
    """Confirmed e-mail subscribers following the list (before the opt-out list is applied)."""
    return (sa.select(Subscriber.email, Subscriber.public_id, Subscriber.language)
            .join(Subscription, Subscription.subscriber_id == Subscriber.id)
            .where(Subscription.list_slug == slug, Subscription.status == ACTIVE,
                   Subscriber.email_status == CONFIRMED, Subscriber.email.is_not(None)))


def audience(slug: str) -> sa.Select:
    """Who receives a campaign of the list: members whose address is not on the opt-out list (any reason)."""
    return list_members(slug).where(~suppressed_clause(EMAIL, Subscriber.email_hash)).order_by(Subscriber.id)


def count(query: sa.Select) -> int:
    """The number of rows a query returns."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery())) or 0


def send_campaign(slug: str, subject: str, text: str, html: str | None = None, chunk: int = CHUNK) -> CampaignReport:
    """Queue the campaign for the whole audience in one transaction (bulk inserts in chunks)."""
    if not is_list(slug):
        raise CampaignError(f"unknown list {slug!r}")
    if not subject.strip() or not text.strip():
        raise CampaignError("the subject and the text are both required")
    builder = MarketingBuilder(slug, subject.strip(), text, html)
    campaign = Campaign(list_slug=slug, subject=subject.strip())
    db.session.add(campaign)
    rows = OutboxRows(urlsplit(current_app.config["SITE_URL"]).hostname or "localhost")
    queued, batch = 0, []
    for email, public_id, language in db.session.execute(audience(slug)):
        batch.append(rows.row(builder.build(email, public_id, language)))
        if len(batch) >= chunk:
            queued += insert_rows(batch)
            batch = []
    queued += insert_rows(batch)
    campaign.recipients = queued
    campaign.suppressed = count(list_members(slug)) - queued
    db.session.commit()
    return CampaignReport(campaign.id, queued, campaign.suppressed)


class OutboxRows:
    """Outbox rows as `queue_mail` writes them, with one date and a unique Message-ID per message of the send."""

    def __init__(self, domain: str) -> None:
        self.domain, self.now, self.prefix, self.number = domain, utcnow(), uuid.uuid4().hex, 0

    def row(self, message: dict) -> dict:
        """The row for one built message."""
        self.number += 1
        return {**message, "message_id": f"<{self.prefix}.{self.number}@{self.domain}>", "status": OUTBOX_PENDING,
                "attempts": 0, "created_at": self.now, "next_attempt_at": self.now}


COLUMNS = ("created_at", "kind", "recipient", "subject", "body_text", "body_html", "headers", "message_id",
           "status", "attempts", "next_attempt_at")


def insert_rows(rows: list[dict]) -> int:
    """Write a chunk of outbox rows in one statement: COPY on PostgreSQL, executemany elsewhere."""
    if not rows:
        return 0
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        copy_rows(connection, rows)
    else:
        connection.execute(sa.insert(OutboxMessage.__table__), rows)
    return len(rows)


def copy_rows(connection: sa.Connection, rows: list[dict]) -> None:
    """PostgreSQL's COPY FROM STDIN through psycopg, inside the session's transaction."""
    table = OutboxMessage.__table__.name
    with connection.connection.driver_connection.cursor() as cursor, cursor.copy(
            f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([json.dumps(row[c]) if c == "headers" else row[c] for c in COLUMNS])


def sms_audience() -> list[str]:
    """Numbers that may receive marketing SMS: confirmed and not on the SMS opt-out list (for an SMS sender)."""
    return list(db.session.scalars(sa.select(Subscriber.phone).where(
        Subscriber.sms_status == CONFIRMED, Subscriber.phone.is_not(None),
        ~suppressed_clause(SMS, Subscriber.phone_hash)).order_by(Subscriber.id)))
