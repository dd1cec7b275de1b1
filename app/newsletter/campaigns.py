"""Sending a campaign: its body stored once, then one light outbox row per confirmed reader, opt-out list excluded.

`flask newsletter send` writes the campaign's message once per language (text, HTML and headers around a slot
for the reader's link token) and queues the whole audience with one INSERT … SELECT: each outbox row holds the
address, the body it points to and the reader's public id, no Python runs per reader. At delivery the outbox
asks `campaign_content` for the row's message: the body in the reader's language, their signed token filled in.
"""

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app, g
from flask_babel import force_locale
from flask_babel import gettext as _

from app.database import UTCDateTime, utcnow
from app.extensions import db
from app.mail.models import OutboxMessage, OutboxStatus
from app.mail.services import MessageContent
from app.newsletter.links import manage_token
from app.newsletter.lists import is_list
from app.newsletter.mail import LANGUAGES, MARKETING, MarketingBuilder, MessageTemplate, feedback_id, mail_dpos
from app.newsletter.models import Campaign, CampaignBody, ChannelStatus, ListStatus, Subscriber, Subscription
from app.progress import advance, expect, watched
from app.suppression.models import Channel
from app.suppression.services import suppressed_clause
from app.urls import site_host

COLUMNS = ("created_at", "kind", "list_slug", "recipient", "subject", "body_text", "body_html", "headers", "message_id",
           "status", "attempts", "next_attempt_at", "template_id", "template_fill")


class CampaignError(ValueError):
    """A send that cannot be made (unknown list, empty subject or text)."""


@dataclass
class CampaignReport:
    """What a send queued."""

    campaign_id: int
    queued: int
    suppressed: int


def list_members(slug: str, *columns) -> sa.Select:
    """Confirmed e-mail subscribers following the list (before the opt-out list is applied)."""
    columns = columns or (Subscriber.id, Subscriber.email, Subscriber.public_id, Subscriber.language)
    return (sa.select(*columns).select_from(Subscriber)
            .join(Subscription, Subscription.subscriber_id == Subscriber.id)
            .where(Subscription.list_slug == slug, Subscription.status == ListStatus.ACTIVE,
                   Subscriber.email_status == ChannelStatus.CONFIRMED, Subscriber.email.is_not(None)))


def audience(slug: str, *columns) -> sa.Select:
    """Who receives a campaign of the list: members whose address is not on the opt-out list (any reason)."""
    return (list_members(slug, *columns).where(~suppressed_clause(Channel.EMAIL, Subscriber.email_hash))
            .order_by(Subscriber.id))


def count(query: sa.Select) -> int:
    """The number of rows a query returns."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery())) or 0


def send_campaign(slug: str, subject: str, text: str, html: str | None = None) -> CampaignReport:
    """Store the campaign's bodies once and queue a row per reader of the audience, in one transaction."""
    if not is_list(slug):
        raise CampaignError(f"unknown list {slug!r}")
    if not subject.strip() or not text.strip():
        raise CampaignError("the subject and the text are both required")
    builder = MarketingBuilder(slug, subject.strip(), text, html)
    campaign = Campaign(list_slug=slug, subject=builder.subject, slot=builder.slot, bodies=[
        CampaignBody(language=language, body_text=template.body_text, body_html=template.body_html,
                     headers=template.headers) for language, template in builder.templates.items()])
    db.session.add(campaign)
    db.session.flush()
    for body in campaign.bodies:  # the campaign's number is known now
        body.headers = {**body.headers, "Feedback-ID": feedback_id(str(campaign.id), slug)}
    if watched():  # a terminal shows the progress: count the audience first
        expect(count(audience(slug, Subscriber.id)))
    campaign.recipients = queue_messages(campaign)
    advance(campaign.recipients)
    campaign.suppressed = count(list_members(slug)) - campaign.recipients
    db.session.commit()
    return CampaignReport(campaign.id, campaign.recipients, campaign.suppressed)


def queue_messages(campaign: Campaign) -> int:
    """One INSERT … SELECT: an outbox row per reader, pointing to the body in their language; how many."""
    body_ids = {body.language: body.id for body in campaign.bodies}
    empty_headers = sa.literal("{}", sa.Text)
    if db.session.get_bind().dialect.name == "postgresql":
        empty_headers = sa.cast(empty_headers, sa.JSON)
    now, prefix = utcnow(), f"<{uuid.uuid4().hex}."
    rows = audience(
        campaign.list_slug,
        sa.literal(now, UTCDateTime), sa.literal(MARKETING), sa.literal(campaign.list_slug), Subscriber.email,
        sa.literal(campaign.subject, sa.Text), sa.literal("", sa.Text), sa.null(), empty_headers,
        sa.literal(prefix, sa.Text) + sa.cast(Subscriber.id, sa.Text) + sa.literal(f"@{site_host()}>", sa.Text),
        sa.literal(OutboxStatus.PENDING), sa.literal(0), sa.literal(now, UTCDateTime),
        sa.case(body_ids, value=Subscriber.language, else_=body_ids[LANGUAGES[0]]), Subscriber.public_id,
    ).order_by(None)  # no sort: all rows are due at once, and the worker takes them by id
    result = db.session.execute(sa.insert(OutboxMessage.__table__).from_select(COLUMNS, rows),
                                execution_options={"preserve_rowcount": True})
    return result.rowcount or 0


def campaign_content(message: OutboxMessage) -> MessageContent:
    """A campaign row's message as its reader receives it: the stored body, their own signed token filled in."""
    slot, template = stored_body(message.template_id)
    return template.filled(slot, manage_token(message.template_fill, message.list_slug))


def stored_body(body_id: int) -> tuple[str, MessageTemplate]:
    """A campaign's body and slot, read once per app context (a worker's pass): bodies never change."""
    cache = g.setdefault("campaign_bodies", {})
    if body_id not in cache:
        body = db.session.get(CampaignBody, body_id)
        if body is None:
            raise LookupError(f"campaign body #{body_id} is gone")
        cache[body_id] = (body.campaign.slot, MessageTemplate(body.body_text, body.body_html, dict(body.headers)))
    return cache[body_id]


def sms_audience() -> list[str]:
    """Numbers that may receive marketing SMS: confirmed and not on the SMS opt-out list (for an SMS sender)."""
    return list(db.session.scalars(sa.select(Subscriber.phone).where(
        Subscriber.sms_status == ChannelStatus.CONFIRMED, Subscriber.phone.is_not(None),
        Subscriber.sms_proven_at.is_not(None), ~suppressed_clause(Channel.SMS, Subscriber.phone_hash)
    ).order_by(Subscriber.id)))


def tell_dpo_of_block(domain: str) -> None:
    """A receiving domain refused enough of our mail as spam or by policy: marketing to it waits; the dpo is told
    (listener of `domain_blocked`, in the transaction that read the reports)."""
    with force_locale("fr"):
        subject = _("Envois marketing suspendus vers %(domain)s", domain=domain)
    mail_dpos(subject, "domain_blocked", domain=domain, threshold=current_app.config["MAIL_BLOCK_THRESHOLD"])
