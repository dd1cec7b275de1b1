"""Helpers for the newsletter tests: subscribing through the real form, reading links from real e-mails."""

import re
from email.message import EmailMessage
from urllib.parse import urlsplit

import sqlalchemy as sa

from app.extensions import db
from app.newsletter.models import Subscriber
from app.personal import normalise_phone
from app.sms.models import SmsMessage
from tests.conftest import deliver_mail, submit_form

LINK = re.compile(r"https?://[^\s<>\"]+")
CODE = re.compile(r"\b(\d{6})\b")


def subscribe(client, email: str, lists=("actualites-produit",), phone: str = "", url: str = "/newsletter",
              consent: bool = True):
    """Fill and send the newsletter form as a visitor would."""
    data = {"form": "subscribe", "email": email, "phone": phone, "lists": list(lists)}
    if consent:
        data["consent"] = "y"
    return submit_form(client, url, data)


def text_part(message: EmailMessage) -> str:
    """The plain-text part of a message."""
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part else ""


def html_part(message: EmailMessage) -> str:
    """The HTML part of a message."""
    part = message.get_body(preferencelist=("html",))
    return part.get_content() if part else ""


def links(message: EmailMessage, fragment: str) -> list[str]:
    """Links of the text part that contain a path fragment."""
    return [link for link in LINK.findall(text_part(message)) if fragment in link]


def path_of(url: str) -> str:
    """A site link as a test-client path (path and query of the absolute link)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def latest_mail(mailbox, address: str) -> EmailMessage:
    """Deliver the outbox, then return the newest message for the address."""
    deliver_mail()
    received = mailbox.to(address)
    assert received, f"no e-mail for {address}"
    return received[-1]


def confirm_by_mail(client, mailbox, address: str):
    """Open the confirmation link from the real e-mail and press its button."""
    [link] = links(latest_mail(mailbox, address), "/newsletter/confirmer/")
    return submit_form(client, path_of(link), {})


def subscriber(email: str) -> Subscriber | None:
    """The subscriber row, fresh from the database."""
    db.session.expire_all()
    return db.session.scalar(sa.select(Subscriber).where(Subscriber.email == email))


def confirmed_subscriber(client, mailbox, email: str, lists=("actualites-produit",), phone: str = "") -> Subscriber:
    """A subscriber who went through the whole double opt-in."""
    response = subscribe(client, email, lists, phone)
    assert response.status_code == 303, response.get_data(as_text=True)
    if phone:
        assert prove_number(client, phone).status_code == 200
    confirmed = confirm_by_mail(client, mailbox, email)
    assert confirmed.status_code == 200
    return subscriber(email)


def queue_marketing_mail(reader, slug: str, subject: str, text: str, html: str | None = None):
    """One marketing message for a reader (email, public_id, language), built as `flask newsletter send` builds
    each recipient's message."""
    from app.mail.services import queue_mail
    from app.newsletter.mail import MARKETING, MarketingBuilder

    message = MarketingBuilder(slug, subject, text, html).build(reader.email, reader.public_id, reader.language)
    return queue_mail(message["recipient"], subject, message["body_text"], message["body_html"],
                      headers=message["headers"], kind=MARKETING, list_slug=slug)


def sms_code(phone: str) -> str:
    """The code in the newest SMS queued for the number (as its holder reads it)."""
    db.session.expire_all()
    body = db.session.scalar(sa.select(SmsMessage.body).where(SmsMessage.recipient == normalise_phone(phone))
                             .order_by(SmsMessage.id.desc()).limit(1))
    assert body, f"no SMS for {phone}"
    return CODE.search(body).group(1)


def prove_number(client, phone: str, url: str = "/newsletter/code-sms"):
    """Type the code received by SMS on the code page, as the number's holder would."""
    return submit_form(client, url, {"code": sms_code(phone)})
