"""Re-permission (§8 of the policy): three years after a subscriber's last positive action we ask once whether they
want to keep receiving our e-mails; « Oui, je reste abonné » keeps them, silence lets retention delete them."""

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import URLSafeTimedSerializer

from app.database import UTCDateTime, among, utcnow
from app.extensions import db
from app.mail.models import OutboxMessage, OutboxStatus
from app.newsletter import events as ev
from app.newsletter.events import Source, Step
from app.newsletter.links import PUBLIC_ID, manage_token
from app.newsletter.lists import ALL_LISTS
from app.newsletter.mail import LANGUAGES, feedback_id, lang_suffix, render_mail, unsubscribe_headers
from app.newsletter.models import Subscriber, SubscriberEvent
from app.suppression.models import Channel
from app.tokens import NEWSLETTER_MANAGE, NEWSLETTER_STAY, InvalidLink, compact_signer, read, timed_serializer
from app.urls import site_host, site_url

REPERMISSION = "repermission"  # the outbox kind of the question
ANSWER_WINDOW = timedelta(days=30)  # between the question and deletion
BATCH = 1000


def stay_token(public_id: str, serializer: URLSafeTimedSerializer | None = None) -> str:
    """The signed token of the « Oui, je reste abonné » page (NEWSLETTER_STAY's maximum age)."""
    return (serializer or timed_serializer(NEWSLETTER_STAY)).dumps(public_id)


def read_stay_token(token: str) -> str:
    """The subscriber public id a stay token names."""
    value = read(NEWSLETTER_STAY, token)
    if not isinstance(value, str) or not PUBLIC_ID.match(value):
        raise InvalidLink(NEWSLETTER_STAY, "unexpected payload")
    return value


def stay(subscriber: Subscriber, ip_prefix: str | None = None) -> None:
    """The subscriber said yes: a positive action recorded in their history (the three years start again); commits."""
    ev.record_event(subscriber, Step.STAYED, source=Source.REPERMISSION, channel=Channel.EMAIL, ip_prefix=ip_prefix)
    db.session.commit()


def templates(slot_stay: str, slot_leave: str) -> dict[str, tuple[str, str, str, dict[str, str]]]:
    """Subject, text, HTML and headers of the question in each language, around two slots for the reader's tokens;
    the headers carry the one-click unsubscribe from every list (the « Non » of the question)."""
    built = {}
    for language in LANGUAGES:
        suffix = lang_suffix(language)
        leave_url = site_url("newsletter.unsubscribe", token=slot_leave) + suffix
        with force_locale(language):
            text, html = render_mail("repermission", stay_url=site_url("newsletter.stay", token=slot_stay) + suffix,
                                     leave_url=leave_url, days=ANSWER_WINDOW.days)
            subject = _("Souhaitez-vous continuer à recevoir la newsletter K-Inventory\u00a0?")
        headers = {**unsubscribe_headers(leave_url, slot_leave, f"K-Inventory <newsletter.{site_host()}>"),
                   "Feedback-ID": feedback_id(REPERMISSION, ALL_LISTS)}
        built[language] = (subject, text, html, headers)
    return built


def queue_questions(readers: list[tuple[int, str, str, str]], now: datetime) -> int:
    """Queue the question to each (id, e-mail, public id, language) and note it in their history, in bulk."""
    if not readers:
        return 0
    slots = (f"stay{uuid.uuid4().hex}", f"leave{uuid.uuid4().hex}")
    built = templates(*slots)
    signers = (timed_serializer(NEWSLETTER_STAY), compact_signer(NEWSLETTER_MANAGE))
    for start in range(0, len(readers), BATCH):  # a batch at a time: bodies are a few kB each
        batch = readers[start:start + BATCH]
        db.session.execute(sa.insert(OutboxMessage.__table__), [message(reader, built, slots, signers)
                                                                for reader in batch])
        db.session.execute(asked_events([reader[0] for reader in batch], now))
    return len(readers)


def asked_events(subscriber_ids: list[int], now: datetime) -> sa.Insert:
    """The « asked » step in each subscriber's history, written by the database in one statement."""
    steps = sa.select(Subscriber.id, sa.literal(now, UTCDateTime), sa.literal(Step.REPERMISSION_ASKED),
                      sa.literal(Channel.EMAIL), sa.literal(Source.REPERMISSION), sa.literal({}, sa.JSON))
    return sa.insert(SubscriberEvent.__table__).from_select(
        ["subscriber_id", "occurred_at", "action", "channel", "source", "detail"],
        steps.where(among(Subscriber.id, subscriber_ids)))


def message(reader: tuple[int, str, str, str], built: dict, slots: tuple[str, str], signers: tuple) -> dict:
    """One reader's outbox row: the language's question with their two links."""
    _id, email, public_id, language = reader
    subject, text, html, headers = built.get(language, built["fr"])
    stay_link, leave_link = stay_token(public_id, signers[0]), manage_token(public_id, ALL_LISTS, signers[1])
    now = utcnow()
    return {"recipient": email, "subject": subject, "kind": REPERMISSION,
            "headers": {name: value.replace(slots[1], leave_link) for name, value in headers.items()},
            "body_text": text.replace(slots[0], stay_link).replace(slots[1], leave_link),
            "body_html": html.replace(slots[0], stay_link).replace(slots[1], leave_link),
            "message_id": f"<{uuid.uuid4().hex}@{site_host()}>", "status": OutboxStatus.PENDING, "attempts": 0,
            "next_attempt_at": now, "created_at": now}
