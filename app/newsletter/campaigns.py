"""Sending a campaign: one outbox row per confirmed subscriber of a list, set-based, opt-out list excluded.

The audience is one query; Python only signs each recipient's link token (into a temporary table); the
messages themselves are written by one INSERT … SELECT per language, which fills the token into the text,
the HTML and the headers that MarketingBuilder prepared once.
"""

import contextlib
import json
import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from app.database import UTCDateTime, utcnow
from app.extensions import db
from app.mail.models import OutboxMessage, OutboxStatus
from app.newsletter.lists import is_list
from app.newsletter.mail import LANGUAGES, MARKETING, MarketingBuilder
from app.newsletter.models import Campaign, ChannelStatus, ListStatus, Subscriber, Subscription
from app.progress import advance, tracked
from app.suppression.models import Channel
from app.suppression.services import suppressed_clause
from app.urls import site_host

COLUMNS = ("created_at", "kind", "list_slug", "recipient", "subject", "body_text", "body_html", "headers", "message_id",
           "status", "attempts", "next_attempt_at")


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
    return (sa.select(Subscriber.id, Subscriber.email, Subscriber.public_id, Subscriber.language)
            .join(Subscription, Subscription.subscriber_id == Subscriber.id)
            .where(Subscription.list_slug == slug, Subscription.status == ListStatus.ACTIVE,
                   Subscriber.email_status == ChannelStatus.CONFIRMED, Subscriber.email.is_not(None)))


def audience(slug: str) -> sa.Select:
    """Who receives a campaign of the list: members whose address is not on the opt-out list (any reason)."""
    return list_members(slug).where(~suppressed_clause(Channel.EMAIL, Subscriber.email_hash)).order_by(Subscriber.id)


def count(query: sa.Select) -> int:
    """The number of rows a query returns."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery())) or 0


def send_campaign(slug: str, subject: str, text: str, html: str | None = None) -> CampaignReport:
    """Queue the campaign for the whole audience in one transaction, set-based."""
    if not is_list(slug):
        raise CampaignError(f"unknown list {slug!r}")
    if not subject.strip() or not text.strip():
        raise CampaignError("the subject and the text are both required")
    builder = MarketingBuilder(slug, subject.strip(), text, html)
    campaign = Campaign(list_slug=slug, subject=subject.strip())
    db.session.add(campaign)
    campaign.recipients = queue_messages(builder, slug)
    campaign.suppressed = count(list_members(slug)) - campaign.recipients
    db.session.commit()
    return CampaignReport(campaign.id, campaign.recipients, campaign.suppressed)


def queue_messages(builder: MarketingBuilder, slug: str) -> int:
    """Sign each recipient's token into a temporary table, then write every message set-based; how many."""
    connection = db.session.connection()
    recipients = recipients_table()
    recipients.drop(connection, checkfirst=True)
    recipients.create(connection)
    rows = signed_recipients(builder, slug)
    load_recipients(connection, recipients, rows)
    for language in LANGUAGES:  # every loaded row has one of these languages: one message per row
        insert_messages(connection, recipients, builder, language)
        advance(sum(1 for row in rows if row[2] == language))  # the second half of the progress bar
    recipients.drop(connection)
    return len(rows)


def recipients_table() -> sa.Table:
    """A temporary table of this send's recipients: number, address, language and signed token."""
    return sa.Table("newsletter_send_recipients", sa.MetaData(),
                    sa.Column("number", sa.Integer, primary_key=True), sa.Column("recipient", sa.String(320)),
                    sa.Column("language", sa.String(2)), sa.Column("token", sa.String(200)),
                    prefixes=["TEMPORARY"], postgresql_on_commit="DROP")


def signed_recipients(builder: MarketingBuilder, slug: str) -> list[tuple[int, str, str, str]]:
    """(number, address, language, token) for each member of the audience; the only per-recipient Python."""
    rows = db.session.execute(audience(slug)).all()
    return [(number, email, language if language in LANGUAGES else "fr", builder.token(public_id))
            for number, (_id, email, public_id, language) in enumerate(tracked(rows, total=2 * len(rows)), start=1)]


def load_recipients(connection: sa.Connection, table: sa.Table, rows: list[tuple]) -> None:
    """Bulk-load the temporary table: COPY on PostgreSQL, the driver's executemany elsewhere."""
    if not rows:
        return
    with contextlib.closing(connection.connection.driver_connection.cursor()) as cursor:
        if connection.dialect.name == "postgresql":
            with cursor.copy(f"COPY {table.name} (number, recipient, language, token) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(f"INSERT INTO {table.name} (number, recipient, language, token) VALUES (?, ?, ?, ?)",
                               rows)


def filled(template: str, slot: str, token: sa.ColumnElement) -> sa.ColumnElement:
    """SQL that writes the template with each slot replaced by the row's token."""
    parts = template.split(slot)
    expression = sa.literal(parts[0], sa.Text)
    for part in parts[1:]:
        expression = expression + token + sa.literal(part, sa.Text)
    return expression


def insert_messages(connection: sa.Connection, table: sa.Table, builder: MarketingBuilder, language: str) -> None:
    """One INSERT … SELECT: the outbox rows of every recipient reading this language."""
    template, token = builder.template_for(language), table.c.token
    headers = filled(json.dumps(template.headers, ensure_ascii=False), builder.slot, token)
    if connection.dialect.name == "postgresql":
        headers = sa.cast(headers, sa.JSON)
    now, prefix = utcnow(), f"<{uuid.uuid4().hex}."
    body_html = sa.null() if template.body_html is None else filled(template.body_html, builder.slot, token)
    select = sa.select(
        sa.literal(now, UTCDateTime), sa.literal(MARKETING), sa.literal(builder.slug), table.c.recipient,
        sa.literal(builder.subject, sa.Text),
        filled(template.body_text, builder.slot, token), body_html, headers,
        sa.literal(prefix, sa.Text) + sa.cast(table.c.number, sa.Text) + sa.literal(f"@{site_host()}>", sa.Text),
        sa.literal(OutboxStatus.PENDING), sa.literal(0), sa.literal(now, UTCDateTime),
    ).where(table.c.language == language)
    connection.execute(sa.insert(OutboxMessage.__table__).from_select(COLUMNS, select))


def sms_audience() -> list[str]:
    """Numbers that may receive marketing SMS: confirmed and not on the SMS opt-out list (for an SMS sender)."""
    return list(db.session.scalars(sa.select(Subscriber.phone).where(
        Subscriber.sms_status == ChannelStatus.CONFIRMED, Subscriber.phone.is_not(None),
        ~suppressed_clause(Channel.SMS, Subscriber.phone_hash)).order_by(Subscriber.id)))
