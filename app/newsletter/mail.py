"""Newsletter mail: confirmation and manage-link messages (transactional: no unsubscribe header), and the one
builder every marketing message goes through (footer links, List-Unsubscribe, List-Unsubscribe-Post, List-Id)."""

import re
import uuid
from dataclasses import dataclass

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from app.auth.services import dpo_addresses
from app.mail.services import MessageContent, queue_mail
from app.mail.unverified import queue_form_reply
from app.newsletter.links import confirm_token, manage_token
from app.newsletter.lists import ALL_LISTS, ascii_name, list_name
from app.newsletter.models import ChannelStatus, ListStatus, Subscriber
from app.tokens import NEWSLETTER_CONFIRM, NEWSLETTER_MANAGE, compact_signer
from app.urls import site_host, site_url

LANGUAGES = ("fr", "en")
MARKETING = "marketing"  # the outbox kind of every message sent to a list
ONE_CLICK_POST = "List-Unsubscribe=One-Click"  # the body RFC 8058 asks mail providers to POST
BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)


def lang_suffix(language: str) -> str:
    """Links for English readers open the English pages (the French ones follow the browser)."""
    return "?lang=en" if language == "en" else ""


def manage_urls(subscriber: Subscriber, slug: str = ALL_LISTS) -> tuple[str, str]:
    """The subscriber's unsubscribe and preference-centre links for one list (or every list)."""
    token, suffix = manage_token(subscriber.public_id, slug), lang_suffix(subscriber.language)
    return (site_url("newsletter.unsubscribe", token=token) + suffix,
            site_url("newsletter.preferences", token=token) + suffix)


def masked_phone(phone: str | None) -> str | None:
    """A number shown in mail: only its last two digits."""
    return f"{phone[:3]}{'•' * (len(phone) - 5)}{phone[-2:]}" if phone else None


def render_mail(template: str, **context) -> tuple[str, str]:
    """The text and HTML parts of one of our mail templates."""
    return (render_template(f"newsletter/mail/{template}.txt", **context),
            render_template(f"newsletter/mail/{template}.html", **context))


def queue_confirmation(subscriber: Subscriber) -> None:
    """Mail the double opt-in link (valid 7 days) in the subscriber's language."""
    token = confirm_token(subscriber.public_id)
    waiting = subscriber.phone if subscriber.sms_status == ChannelStatus.PENDING else None
    sms_phone = subscriber.pending_phone or waiting
    with force_locale(subscriber.language):
        text, html = render_mail(
            "confirm", confirm_url=site_url("newsletter.confirm", token=token) + lang_suffix(subscriber.language),
            lists=[list_name(slug) for slug in subscriber.slugs_with(ListStatus.PENDING)],
            phone=masked_phone(sms_phone),
            days=NEWSLETTER_CONFIRM.max_age.days)
        subject = _("Confirmez votre inscription à la newsletter K-Inventory")
    mail_subscriber(subscriber, subject, text, html)


def queue_manage_link(subscriber: Subscriber, already_subscribed: bool = False) -> None:
    """Mail a fresh link to the preference centre (and to unsubscribe from everything)."""
    unsubscribe_url, preferences_url = manage_urls(subscriber)
    with force_locale(subscriber.language):
        text, html = render_mail("manage", unsubscribe_url=unsubscribe_url, preferences_url=preferences_url,
                                 already_subscribed=already_subscribed)
        subject = _("Gérer votre inscription à la newsletter K-Inventory")
    mail_subscriber(subscriber, subject, text, html)


def mail_subscriber(subscriber: Subscriber, subject: str, text: str, html: str) -> None:
    """Queue a transactional mail within the address's daily cap (lower while it is unconfirmed; past it, nothing is
    sent and the visitor's page is the same)."""
    verified = subscriber.email_consent_at is not None or subscriber.email_status == ChannelStatus.CONFIRMED
    queue_form_reply(subscriber.email, subject, text, html, verified=verified)


def mail_dpos(subject: str, template: str, **context) -> None:
    """Queue a French staff mail (from `templates/newsletter/mail/<template>.txt`) to every active dpo."""
    with force_locale("fr"):
        text = render_template(f"newsletter/mail/{template}.txt", **context)
    for address in dpo_addresses():
        queue_mail(address, subject, text, kind="staff")


def unsubscribe_headers(unsubscribe_url: str, token: str, list_id: str) -> dict[str, str]:
    """List-Unsubscribe (the HTTPS link first, then mailto: when UNSUBSCRIBE_MAILTO is set), its RFC 8058 one-click
    POST, and List-Id: what every marketing-like message carries, signed by DKIM."""
    targets = [f"<{unsubscribe_url}>"]
    if mailto := current_app.config.get("UNSUBSCRIBE_MAILTO"):
        # The token is URL-safe already (letters, digits, « - _ . »): no quoting needed.
        targets.append(f"<mailto:{mailto}?subject=unsubscribe%20{token}>")
    return {"List-Unsubscribe": ", ".join(targets), "List-Unsubscribe-Post": ONE_CLICK_POST, "List-Id": list_id}


def feedback_id(campaign: str, slug: str) -> str:
    """The Feedback-ID of a send (Gmail's « campaign:list:type:sender »), so complaint rates come per campaign."""
    return f"{campaign}:{slug}:newsletter:{site_host()}"


@dataclass(frozen=True)
class MessageTemplate:
    """One language's message for a whole send: the recipient's token is the only part left to fill in."""

    body_text: str
    body_html: str | None
    headers: dict[str, str]

    def filled(self, slot: str, token: str) -> MessageContent:
        """The message of one reader: their token in place of the slot, in the text, the HTML and the headers."""
        return MessageContent(self.body_text.replace(slot, token),
                              self.body_html.replace(slot, token) if self.body_html is not None else None,
                              {name: value.replace(slot, token) for name, value in self.headers.items()})


class MarketingBuilder:
    """Builds every marketing message of one send: footer and headers are prepared once per language, around a
    slot for the recipient's signed token (filled in by `build`, or at delivery for a campaign's stored body)."""

    def __init__(self, slug: str, subject: str, text: str, html: str | None = None) -> None:
        self.slug, self.subject = slug, subject
        self.slot = f"tok{uuid.uuid4().hex}"  # letters and digits: the same in text, HTML, URLs and JSON
        self.signer = compact_signer(NEWSLETTER_MANAGE)
        self.list_id = f"K-Inventory {ascii_name(slug)} <{slug}.{site_host()}>"
        self.templates = {language: self.template(language, text, html) for language in LANGUAGES}

    def template(self, language: str, text: str, html: str | None) -> MessageTemplate:
        """The message in the reader's language, with the « Se désabonner » and preferences links and headers."""
        suffix = lang_suffix(language)
        unsubscribe_url = site_url("newsletter.unsubscribe", token=self.slot) + suffix
        preferences_url = site_url("newsletter.preferences", token=self.slot) + suffix
        with force_locale(language):
            footer_text, footer_html = render_mail("footer", list_name=list_name(self.slug),
                                                   unsubscribe_url=unsubscribe_url, preferences_url=preferences_url)
        body_html = None
        if html is not None:
            ends = list(BODY_END.finditer(html))
            cut = ends[-1].start() if ends else len(html)
            body_html = html[:cut] + footer_html + html[cut:]
        return MessageTemplate(text.rstrip() + "\n\n" + footer_text, body_html, self.headers(unsubscribe_url))

    def headers(self, unsubscribe_url: str) -> dict[str, str]:
        """The unsubscribe headers and List-Id of this send, around the token's slot."""
        return unsubscribe_headers(unsubscribe_url, self.slot, self.list_id)

    def template_for(self, language: str) -> MessageTemplate:
        """The template for a reader's language (French for any language we do not write in)."""
        return self.templates.get(language, self.templates["fr"])

    def token(self, public_id: str) -> str:
        """The recipient's signed link token, naming them and this list."""
        return manage_token(public_id, self.slug, self.signer)

    def build(self, email: str, public_id: str, language: str) -> dict:
        """One recipient's message: text, HTML and headers carrying their own signed link."""
        content = self.template_for(language).filled(self.slot, self.token(public_id))
        return {"recipient": email, "subject": self.subject, "kind": MARKETING, "body_text": content.body_text,
                "body_html": content.body_html, "headers": content.headers}
