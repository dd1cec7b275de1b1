"""Re-permission (§8 of the policy): three years after a subscriber's last positive action we ask once whether they
want to keep receiving our e-mails; « Oui, je reste abonné » keeps them, silence lets retention delete them."""

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import URLSafeTimedSerializer

from app.database import utcnow
from app.extensions import db
from app.mail.models import OutboxMessage, OutboxStatus
from app.newsletter import events as ev
from app.newsletter.events import Source, Step
from app.newsletter.links import PUBLIC_ID, manage_token
from app.newsletter.lists import ALL_LISTS
from app.newsletter.mail import LANGUAGES, lang_suffix, render_mail
from app.newsletter.models import Subscriber, SubscriberEvent
from app.suppression.models import Channel
from app.tokens import NEWSLETTER_MANAGE, NEWSLETTER_STAY, InvalidLink, compact_signer, read, secret_keys
from app.urls import site_host, site_url

REPERMISSION = "repermission"  # the outbox kind of the question
ANSWER_WINDOW = timedelta(days=30)  # between the question and deletion


def stay_token(public_id: str, serializer: URLSafeTimedSerializer | None = None) -> str:
    """The signed token of the « Oui, je reste abonné » page (NEWSLETTER_STAY's maximum age)."""
    return (serializer or URLSafeTimedSerializer(secret_keys(), salt=NEWSLETTER_STAY.salt)).dumps(public_id)


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


def templates(slot_stay: str, slot_leave: str) -> dict[str, tuple[str, str, str]]:
    """Subject, text and HTML of the question in each language, around two slots for the reader's tokens."""
    built = {}
    for language in LANGUAGES:
        suffix = lang_suffix(language)
        with force_locale(language):
            text, html = render_mail("repermission", stay_url=site_url("newsletter.stay", token=slot_stay) + suffix,
                                     leave_url=site_url("newsletter.unsubscribe", token=slot_leave) + suffix,
                                     days=ANSWER_WINDOW.days)
            built[language] = (_("Souhaitez-vous continuer à recevoir la newsletter K-Inventory\u00a0?"), text, html)
    return built


def queue_questions(readers: list[tuple[int, str, str, str]], now: datetime) -> int:
    """Queue the question to each (id, e-mail, public id, language) and note it in their history, in bulk."""
    if not readers:
        return 0
    slot_stay, slot_leave = f"stay{uuid.uuid4().hex}", f"leave{uuid.uuid4().hex}"
    built = templates(slot_stay, slot_leave)
    serializer = URLSafeTimedSerializer(secret_keys(), salt=NEWSLETTER_STAY.salt)
    signer, host = compact_signer(NEWSLETTER_MANAGE), site_host()
    messages, steps = [], []
    for subscriber_id, email, public_id, language in readers:
        subject, text, html = built.get(language, built["fr"])
        stay, leave = stay_token(public_id, serializer), manage_token(public_id, ALL_LISTS, signer)
        messages.append({"recipient": email, "subject": subject, "kind": REPERMISSION,
                         "body_text": text.replace(slot_stay, stay).replace(slot_leave, leave),
                         "body_html": html.replace(slot_stay, stay).replace(slot_leave, leave), "headers": {},
                         "message_id": f"<{uuid.uuid4().hex}@{host}>", "status": OutboxStatus.PENDING,
                         "attempts": 0, "next_attempt_at": utcnow(), "created_at": utcnow()})
        steps.append({"subscriber_id": subscriber_id, "occurred_at": now, "action": Step.REPERMISSION_ASKED,
                      "channel": "email", "source": Source.REPERMISSION, "detail": {}})
    db.session.execute(sa.insert(OutboxMessage), messages)
    db.session.execute(sa.insert(SubscriberEvent), steps)
    return len(readers)

